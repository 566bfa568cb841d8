/**
 * Issue 12 point 5: the lobby of a big programme must not hold the event loop. The featured
 * view's recompute (memory store) makes one swap per turn of the loop, and a tick's batched
 * `roomCounts` frame goes out a chunk of sockets per turn; each stays correct when other calls
 * run in between.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Member, Room } from '../../src/domain/model.js';
import { systemClock } from '../../src/domain/clock.js';
import { MemoryBroker } from '../../src/state/memory/memory-broker.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { LobbyFeed, type LobbyFeedDeps } from '../../src/transport/lobby-feed.js';
import { LOBBY_BATCHED } from '../../src/transport/channels.js';

const P = 'prog';
const room = (i: number): Room => ({ roomId: `r${i}`, title: `room ${i}`, max: 50, persistent: true, createdAt: i });
const member = (id: string): Member => ({ socketId: id, userUID: id, displayName: id });

/** The lobby announcements, each with the turn of the event loop it was made in. */
function recordingBroker() {
  const broker = new MemoryBroker();
  const seen: { event: string; roomId: string; turn: number }[] = [];
  let turn = 0;
  const advance = () => setImmediate(() => ((turn += 1), advance()));
  const noop = () => {};
  broker.handle({
    toLobby: (_p, _except, event, ...args) => seen.push({ event, roomId: typeof args[0] === 'string' ? args[0] : (args[0] as { roomId: string }).roomId, turn }),
    toLobbyOf: noop,
    toRoom: noop,
    toSocket: noop,
  });
  return { broker, seen, start: advance };
}

describe('MemoryStore.refreshView on a big programme', () => {
  it('makes its swaps one per turn of the event loop, each leave with its enter; a room deleted before its turn does not enter', async () => {
    const { broker, seen, start } = recordingBroker();
    const store = new MemoryStore(systemClock, broker, 5);
    for (let i = 1; i <= 20; i++) await store.createRoom(P, room(i), null, 100);
    // r11..r15 get 10 members each: each beats a member-less room of the view (r1..r5).
    for (let i = 11; i <= 15; i++) for (let m = 0; m < 10; m++) await store.join(P, member(`s${i}-${m}`), `r${i}`);
    seen.length = 0;
    start();
    // The best enter first (r15, with the newest sequence), each taking the weakest place.
    const done = store.refreshView(P, 1_000_000, 100);
    await store.deleteRoom(P, 'r11');
    const view = (await done).map((r) => r.roomId).sort();
    const turns = new Map<number, string[]>();
    for (const s of seen) turns.set(s.turn, [...(turns.get(s.turn) ?? []), `${s.event}:${s.roomId}`]);
    expect([...turns.values()]).toEqual([
      ['deleteRoom:r1', 'addRoom:r15'],
      ['deleteRoom:r2', 'addRoom:r14'],
      ['deleteRoom:r3', 'addRoom:r13'],
      ['deleteRoom:r4', 'addRoom:r12'],
      ['deleteRoom:r5'],
    ]);
    expect(view).toEqual(['r12', 'r13', 'r14', 'r15']);
    expect((await store.viewRooms(P)).map((r) => r.roomId).sort()).toEqual(view);
    // The place r11 did not take is filled at the next recompute.
    await store.refreshView(P, 2_000_000, 100);
    expect((await store.viewRooms(P)).length).toBe(5);
  });
});

/** The few parts of a socket.io namespace and socket a tick touches, in memory. */
function fakeLobby(n: number) {
  const members = new Set<string>();
  const sockets = new Map<string, { id: string; connected: boolean; rooms: Set<string>; data: Record<string, unknown> }>();
  const received = new Map<string, number>();
  const writesPerTurn: number[] = [0];
  let turn = 0;
  for (let i = 0; i < n; i++) {
    const id = `b${i}`;
    members.add(id);
    sockets.set(id, { id, connected: true, rooms: new Set([id, LOBBY_BATCHED]), data: { program: P } });
  }
  const nsp = {
    adapter: { rooms: new Map([[LOBBY_BATCHED, members]]) },
    sockets,
    local: {
      to(target: string | string[]) {
        const ids = Array.isArray(target) ? target : [...(target === LOBBY_BATCHED ? members : [])];
        return {
          except: () => ({ emit: () => true }),
          emit(event: string) {
            if (event !== 'roomCounts') return true;
            for (const id of ids) received.set(id, (received.get(id) ?? 0) + 1);
            writesPerTurn[turn] = (writesPerTurn[turn] ?? 0) + ids.length;
            return true;
          },
        };
      },
    },
  };
  const tickTurns = () => setImmediate(() => ((turn += 1), tickTurns()));
  return { nsp, members, received, writesPerTurn, tickTurns };
}

describe('LobbyFeed: the batched frame of a big lobby', () => {
  it('goes to every batched lobby socket once, at most a chunk per turn, and not to one that left the lobby meanwhile', async () => {
    const lobby = fakeLobby(1000);
    let ticks = 0;
    const deps = {
      service: {
        lobbyIntervalMs: 60_000,
        lobbyTick: async () => [{ roomId: `r${++ticks}`, title: 't', count: ticks, max: 10 }],
        roomCounts: async () => ({}),
      },
      runtimes: { programs: () => [P], find: () => ({ nsp: lobby.nsp, sockets: lobby.nsp.sockets }) },
      log: pino({ level: 'silent' }),
      fanoutChunk: 100,
    } as unknown as LobbyFeedDeps;
    const feed = new LobbyFeed(deps);
    const tickAll = () => (feed as unknown as { tickAll(): Promise<void> }).tickAll();
    lobby.tickTurns();
    const first = tickAll();
    // Gone from the lobby (into a room) while the first chunks are written.
    await new Promise((r) => setImmediate(r));
    lobby.members.delete('b999');
    await first;
    expect(lobby.received.size).toBe(999);
    expect([...lobby.received.values()].every((c) => c === 1)).toBe(true);
    expect(lobby.received.has('b999')).toBe(false);
    expect(Math.max(...lobby.writesPerTurn)).toBeLessThanOrEqual(100);
    // A second tick while none is running sends the next frame to everyone still there.
    await tickAll();
    expect([...lobby.received.values()].every((c) => c === 2)).toBe(true);
  });
});
