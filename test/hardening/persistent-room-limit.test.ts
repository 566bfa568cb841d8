/**
 * An operator's rooms and ROOMS_PER_PROGRAM_MAX under concurrent admin calls: the room limit is
 * decided by the store's atomic create, not by a read before it, so concurrent
 * `createPersistentRoom` calls at one below the limit make exactly one room, on either backend.
 * Each room is saved before it is visible, and a refused one is discarded from the database again.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import type { Room } from '../../src/domain/model.js';
import { OnAirService } from '../../src/domain/service.js';
import { LOBBY, roomChannel } from '../../src/transport/channels.js';
import { MemoryDeadlineIndex } from '../../src/state/memory/memory-cluster.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RedisStore, type RedisCommands } from '../../src/state/redis/redis-store.js';
import type { StateStore } from '../../src/domain/ports/store.js';
import { RecordingDelivery } from '../helpers/domain.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';

const LIMIT = 3;
const CONCURRENT = 5;

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

async function race(store: StateStore): Promise<void> {
  let n = 0;
  const service = new OnAirService(
    {
      store,
      delivery: new RecordingDelivery(),
      records: { record: async () => {}, close: async () => {} },
      clock: systemClock,
      ids: { roomId: () => `room-${randomBytes(4).toString('hex')}-${++n}`, aggroUID: () => 'a', messageId: () => 'm' },
      log: pino({ level: 'silent' }),
      deadlines: new MemoryDeadlineIndex(),
    },
    { roomsPerProgramMax: LIMIT, aggroTtlMs: 30_000, aggroCooldownMs: 60_000, batchIntervalMs: 0 },
  );
  const p = `limit-${randomBytes(3).toString('hex')}`;
  const saved: Room[] = [];
  const discarded: Room[] = [];
  const visibleWhenSaved: boolean[] = [];
  const persistence = {
    save: async (room: Room) => {
      visibleWhenSaved.push((await store.getRoom(p, room.roomId)) !== null);
      saved.push(room);
    },
    discard: async (room: Room) => {
      discarded.push(room);
    },
  };
  try {
    for (let i = 0; i < LIMIT - 1; i++) expect(await service.createPersistentRoom(p, { title: `Kept ${i}`, max: 5 }, persistence)).toMatchObject({ ok: true });
    const outs = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) => service.createPersistentRoom(p, { title: `Race ${i}`, max: 5 }, persistence)),
    );
    const made = outs.flatMap((o) => (o.ok ? [o.room] : []));
    expect(made).toHaveLength(1);
    expect(outs.filter((o) => !o.ok)).toEqual(Array.from({ length: CONCURRENT - 1 }, () => ({ ok: false, code: 'EC002' })));
    expect(await store.listRooms(p)).toHaveLength(LIMIT);
    // Saved before anyone could see it; every refused room taken back out, the made one kept.
    expect(visibleWhenSaved.every((v) => !v)).toBe(true);
    const kept = saved.filter((r) => !discarded.some((d) => d.roomId === r.roomId)).map((r) => r.roomId);
    expect(kept.sort()).toEqual((await store.listRooms(p)).map((r) => r.roomId).sort());
    expect(discarded.map((r) => r.roomId)).not.toContain(made[0]!.roomId);
  } finally {
    await service.stop(false);
  }
}

describe('createPersistentRoom at one below ROOMS_PER_PROGRAM_MAX', () => {
  it('memory: exactly one of concurrent calls makes its room', async () => {
    await race(new MemoryStore(systemClock));
  });

  it('redis: exactly one of concurrent calls makes its room', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const prefix = `limit-${randomBytes(3).toString('hex')}:`;
      await race(
        new RedisStore(client as unknown as RedisCommands, {
          prefix,
          idleTtlMs: 60_000,
          announce: { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') },
        }),
      );
    } finally {
      await client.close();
    }
  });
});
