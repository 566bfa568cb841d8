/**
 * One process keeps its deadlines in a `MemoryDeadlineIndex` that nobody sweeps: its own timers
 * act on them. When a programme is released those timers stop, so its deadlines must go too, or
 * the index would grow with every programme that ends while a batching window is open.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Member } from '../../src/domain/model.js';
import { OnAirService } from '../../src/domain/service.js';
import { MemoryDeadlineIndex } from '../../src/state/memory/memory-cluster.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RecordingDelivery } from '../helpers/domain.js';

const T0 = 1_700_000_000_000;

function member(name: string): Member {
  return { userUID: `u-${name}`, displayName: name, socketId: `s-${name}` };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

it("a released programme leaves no deadline behind, and another programme's stay", async () => {
  const clock = { now: () => Date.now() };
  const deadlines = new MemoryDeadlineIndex();
  let n = 0;
  const service = new OnAirService(
    {
      store: new MemoryStore(clock),
      delivery: new RecordingDelivery(),
      records: { record: async () => {}, close: async () => {} },
      clock,
      ids: { roomId: () => `room${++n}`, aggroUID: () => `aggro${++n}`, messageId: () => `msg${++n}` },
      log: pino({ level: 'silent' }),
      deadlines,
    },
    { roomsPerProgramMax: 10, aggroTtlMs: 30_000, aggroCooldownMs: 60_000, batchIntervalMs: 500 },
  );
  try {
    const [a, b] = [member('a'), member('b')];
    for (const p of ['ends', 'stays']) {
      await service.openSession(p, a);
      await service.openSession(p, b);
      const room = await service.createRoom(p, a, { title: 'Room', max: 10 });
      if (!room.ok) throw new Error(room.code);
      expect(await service.joinRoom(p, b, { roomId: room.roomId })).toMatchObject({ ok: true });
      const aggro = await service.postAggro(p, a, { roomId: room.roomId, msg: 'boo', type: 'A' });
      if (!aggro.ok) throw new Error(aggro.code);
      // A vote opens a point window, with its deadline, that the last leave does not close.
      expect(await service.vote(p, b, aggro.aggroUID, 1)).toMatchObject({ ok: true });
    }
    const pending = deadlines.size;
    expect(pending).toBeGreaterThan(0);
    await service.closeSession('ends', member('b'));
    await service.closeSession('ends', member('a'));
    expect(await service.releaseIfIdle('ends')).toBe(true);
    const left = await deadlines.due(Number.POSITIVE_INFINITY, 1_000);
    expect(left.filter((d) => d.p === 'ends')).toEqual([]);
    expect(left.filter((d) => d.p === 'stays').length).toBeGreaterThan(0);
  } finally {
    await service.stop(false);
  }
});
