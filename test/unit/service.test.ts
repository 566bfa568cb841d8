/**
 * The domain rules of `OnAirService`, on their own: a real `MemoryStore`, a `Delivery` that
 * records every call, deterministic ids, a record sink that keeps what it is given, and fake
 * timers so that the clock (which reads `Date.now()`) and the service's timers move together.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IdSource } from '../../src/domain/ids.js';
import type { AggroRecord, Member } from '../../src/domain/model.js';
import { verifyPassword } from '../../src/domain/password.js';
import type { RecordSink } from '../../src/domain/ports/records.js';
import { OnAirService, type ServiceDeps, type ServiceOptions } from '../../src/domain/service.js';
import type { ServerEventName } from '../../src/protocol/index.js';
import { liveAggroIn, RecordingDelivery, type Call } from '../helpers/domain.js';
import { MemoryDeadlineIndex } from '../../src/state/memory/memory-cluster.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';

const P = 'prog1';
const T0 = 1_700_000_000_000;
const BATCH = 500;
const TTL = 30_000;
const COOLDOWN = 60_000;



/** Keeps records, and how many deliveries had been made when each was written. */
class KeepingSink implements RecordSink {
  readonly records: { record: AggroRecord; deliveriesBefore: number }[] = [];
  constructor(private readonly delivery: RecordingDelivery) {}
  async record(record: AggroRecord): Promise<void> {
    this.records.push({ record, deliveriesBefore: this.delivery.calls.length });
  }
  async close(): Promise<void> {}
  get all(): AggroRecord[] {
    return this.records.map((r) => r.record);
  }
}

function countingIds(): IdSource {
  let r = 0;
  let a = 0;
  let m = 0;
  return {
    roomId: () => `room${++r}`,
    aggroUID: () => `aggro${++a}`,
    messageId: () => `msg${++m}`,
  };
}

function member(name: string, extra: Partial<Member> = {}): Member {
  return { userUID: `u-${name}`, displayName: name, socketId: `s-${name}`, ...extra };
}

/** Lets pending promise chains (a flush after its timer) finish; setImmediate is not faked. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

function setup(options: Partial<ServiceOptions> = {}, deps: Partial<ServiceDeps> = {}) {
  const clock = { now: () => Date.now() };
  const store = new MemoryStore(clock);
  const delivery = new RecordingDelivery();
  store.broker.handle(delivery);
  const records = new KeepingSink(delivery);
  const service = new OnAirService(
    { store, delivery, records, clock, ids: countingIds(), log: pino({ level: 'silent' }), deadlines: new MemoryDeadlineIndex(), ...deps },
    { roomsPerProgramMax: 10, aggroTtlMs: TTL, aggroCooldownMs: COOLDOWN, batchIntervalMs: BATCH, ...options },
  );
  services.push(service);
  return { service, store, delivery, records };
}

const services: OnAirService[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

afterEach(async () => {
  for (const s of services.splice(0)) await s.stop(false);
  vi.useRealTimers();
});

/** `a` creates an open room and `others` join it; the delivery log is cleared afterwards and
 * the count window those joins opened has been flushed. */
async function roomWith(ctx: ReturnType<typeof setup>, a: Member, ...others: Member[]): Promise<string> {
  const made = await ctx.service.createRoom(P, a, { title: 'Room', max: 10 });
  if (!made.ok) throw new Error(`createRoom failed: ${made.code}`);
  for (const o of others) expect(await ctx.service.joinRoom(P, o, { roomId: made.roomId })).toMatchObject({ ok: true });
  await advance(BATCH * 2);
  ctx.delivery.clear();
  return made.roomId;
}

// ---- createRoom ---------------------------------------------------------------------------

describe('createRoom', () => {
  it('refuses EC001 when the payload names another programme, and changes nothing', async () => {
    const ctx = setup();
    const a = member('a');
    expect(await ctx.service.createRoom(P, a, { title: 'T', max: 5, scheduleUID: 'other' })).toEqual({ ok: false, code: 'EC001' });
    expect(ctx.delivery.calls).toEqual([]);
    expect(await ctx.store.listRooms(P)).toEqual([]);
    expect(await ctx.service.createRoom(P, a, { title: 'T', max: 5, scheduleUID: P })).toMatchObject({ ok: true });
  });

  it('seats the creator, then announces the room to the lobby with `password: true` only', async () => {
    const ctx = setup();
    const a = member('a');
    const out = await ctx.service.createRoom(P, a, { title: 'Locked', max: 5, password: 'hunter2' });
    expect(out).toEqual({ ok: true, roomId: 'room1', title: 'Locked', ownerUID: a.userUID });
    const enter = ctx.delivery.indexOf((c) => c.kind === 'enterRoom');
    expect(ctx.delivery.calls[enter]).toMatchObject({ p: P, socketId: a.socketId, roomId: 'room1' });
    const added = ctx.delivery.sent('addRoom');
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: 'toLobby', p: P });
    expect(added[0]?.args).toEqual([{ roomId: 'room1', title: 'Locked', max: 5, count: 1, password: true }]);
    // The creator does not hear of its own room: the store announces it inside the decision,
    // before the creator has left the lobby, so the announcement excepts the creator.
    expect(added[0]).toMatchObject({ except: a.socketId });
    expect(enter).toBeGreaterThanOrEqual(0);
    // Only a salted hash is kept.
    const stored = await ctx.store.getRoom(P, 'room1');
    expect(stored?.passwordHash).toBeDefined();
    expect(stored?.passwordHash).not.toContain('hunter2');
    expect(await verifyPassword('hunter2', stored!.passwordHash!)).toBe(true);
    expect(await ctx.service.listRooms(P)).toEqual([{ roomId: 'room1', title: 'Locked', max: 5, count: 1, password: true }]);
  });

  it('an open room is announced without a `password` field', async () => {
    const ctx = setup();
    await ctx.service.createRoom(P, member('a'), { title: 'Open', max: 3 });
    const [added] = ctx.delivery.sent('addRoom');
    expect(added?.args).toEqual([{ roomId: 'room1', title: 'Open', max: 3, count: 1 }]);
    expect(added?.args?.[0]).not.toHaveProperty('password');
  });

  it('a creator leaving a room: that room hears leaveRoom, the lobby its new count', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r1 = await roomWith(ctx, a, b);
    expect(await ctx.service.createRoom(P, a, { title: 'Second', max: 5 })).toMatchObject({ ok: true, roomId: 'room2' });
    expect(ctx.delivery.sent('leaveRoom')).toMatchObject([
      { kind: 'toRoom', roomId: r1, args: [{ userUID: a.userUID, displayName: a.displayName }] },
    ]);
    expect(ctx.delivery.sent('count')).toEqual([]);
    await advance(BATCH);
    expect(ctx.delivery.sent('count').map((c) => c.args)).toEqual([[{ roomId: r1, count: 1 }]]);
  });

  it("a creator leaving its room as last member: the lobby gets deleteRoom for it", async () => {
    const ctx = setup();
    const a = member('a');
    const r1 = await roomWith(ctx, a);
    await ctx.service.createRoom(P, a, { title: 'Second', max: 5 });
    expect(ctx.delivery.sent('deleteRoom').map((c) => [c.kind, c.args])).toEqual([['toLobby', [{ roomId: r1 }]]]);
    expect((await ctx.service.listRooms(P)).map((r) => r.roomId)).toEqual(['room2']);
  });

  it('refuses EC002 beyond roomsPerProgramMax', async () => {
    const ctx = setup({ roomsPerProgramMax: 1 });
    await ctx.service.createRoom(P, member('a'), { title: 'One', max: 3 });
    ctx.delivery.clear();
    expect(await ctx.service.createRoom(P, member('b'), { title: 'Two', max: 3 })).toEqual({ ok: false, code: 'EC002' });
    expect(ctx.delivery.calls).toEqual([]);
  });
});

// ---- joinRoom -----------------------------------------------------------------------------

/** Every answer of `target` comes a turn of the event loop after the call, as a Redis reply
 * would: what a call sequence costs in round trips becomes a count of turns. */
function oneTurnAway<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const r = (v as (...a: unknown[]) => unknown).apply(t, args);
        return r instanceof Promise ? r.then((x) => new Promise((res) => setImmediate(() => res(x)))) : r;
      };
    },
  });
}

/** The turns of the event loop until `work` is settled. */
async function turnsOf(work: Promise<unknown>): Promise<number> {
  let done = false;
  void work.finally(() => (done = true));
  let turns = 0;
  while (!done) {
    await settle();
    turns += 1;
  }
  return turns;
}

describe('restoreRooms', () => {
  it('puts back only the rooms the state lacks, a batch at a time: a few round trips for a programme of 1,200 rooms, in the order given', async () => {
    const clock = { now: () => Date.now() };
    const memory = new MemoryStore(clock);
    const ctx = setup({}, { store: oneTurnAway(memory) });
    const rooms = Array.from({ length: 1200 }, (_, i) => ({ roomId: `room${String(i).padStart(4, '0')}`, title: `방 ${i}`, max: 50, persistent: true, createdAt: T0 + i }));
    // Every other room outlived the release (a shared store keeps them), one of them with a
    // member sitting in it.
    for (const room of rooms.filter((_, i) => i % 2 === 0)) await memory.createRoom(P, room, null, Number.MAX_SAFE_INTEGER);
    expect(await memory.join(P, member('a'), 'room0000')).toMatchObject({ ok: true });

    const restoring = ctx.service.restoreRooms(P, rooms);
    // Three batches of 500, each a look-up and the missing rooms' creates side by side; one
    // `createRoom` after another it was 1,200 round trips.
    expect(await turnsOf(restoring)).toBeLessThanOrEqual(7);
    await restoring;
    const listed = await memory.listRooms(P);
    expect(listed.map((r) => r.roomId).sort()).toEqual(rooms.map((r) => r.roomId));
    // The rooms put back came in the order given, after those that were there.
    const putBack = listed.map((r) => r.roomId).filter((id) => Number(id.slice(4)) % 2 === 1);
    expect(putBack).toEqual(rooms.filter((_, i) => i % 2 === 1).map((r) => r.roomId));
    // A room that was there is left as it was: its member is still in it.
    expect((await memory.members(P, 'room0000')).map((m) => m.userUID)).toEqual(['u-a']);
  });
});

describe('joinRoom', () => {
  it('a room switch waits on the store in 4 round trips: the look-ups, the join, then both count windows and the history side by side', async () => {
    const clock = { now: () => Date.now() };
    const memory = new MemoryStore(clock);
    const delivery = new RecordingDelivery();
    memory.broker.handle(delivery);
    const ctx = setup({ historySize: 10 }, { store: oneTurnAway(memory), deadlines: oneTurnAway(new MemoryDeadlineIndex()), delivery });
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const first = await ctx.service.createRoom(P, a, { title: 'One', max: 10 });
    const second = await ctx.service.createRoom(P, b, { title: 'Two', max: 10 });
    if (!first.ok || !second.ok) throw new Error('createRoom failed');
    expect(await ctx.service.joinRoom(P, c, { roomId: first.roomId })).toMatchObject({ ok: true });
    await advance(BATCH * 2);
    delivery.clear();

    const switching = ctx.service.joinRoom(P, c, { roomId: second.roomId });
    // Four round trips and the turn that sees the switch settled; one after another (look-up,
    // look-up, join, the old room's window and its deadline, the new room's window and its
    // deadline, the history) it was 9.
    expect(await turnsOf(switching)).toBeLessThanOrEqual(5);
    expect(await switching).toMatchObject({ ok: true, roomId: second.roomId });
    // The rooms heard it in order: the one left, then the one joined.
    expect(delivery.calls.filter((x) => x.event === 'leaveRoom' || x.event === 'joinRoom').map((x) => [x.event, x.roomId])).toEqual([
      ['leaveRoom', first.roomId],
      ['joinRoom', second.roomId],
    ]);
    // Both count windows were opened: each room's count goes out after the interval.
    await advance(BATCH * 2);
    const counts = delivery.calls.filter((x) => x.event === 'count').map((x) => x.args?.[0]);
    expect(counts).toEqual(expect.arrayContaining([{ roomId: first.roomId, count: 1 }, { roomId: second.roomId, count: 2 }]));
  });

  it('refuses EJ001 for an unknown room', async () => {
    const ctx = setup();
    expect(await ctx.service.joinRoom(P, member('a'), { roomId: 'nope' })).toEqual({ ok: false, code: 'EJ001' });
    expect(ctx.delivery.calls).toEqual([]);
  });

  it('refuses EJ003 for a missing or wrong password and seats nobody; the right one gets in', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const made = await ctx.service.createRoom(P, a, { title: 'Locked', max: 5, password: 'sesame' });
    if (!made.ok) throw new Error('createRoom failed');
    ctx.delivery.clear();
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId })).toEqual({ ok: false, code: 'EJ003' });
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId, password: 'Sesame' })).toEqual({ ok: false, code: 'EJ003' });
    expect(await ctx.store.roomOf(P, b.socketId)).toBeNull();
    expect(ctx.delivery.calls).toEqual([]);
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId, password: 'sesame' })).toEqual({ ok: true, roomId: made.roomId, history: [], ownerUID: a.userUID });
    expect(await ctx.store.roomOf(P, b.socketId)).toBe(made.roomId);
  });

  it('refuses EJ002 when the room is full', async () => {
    const ctx = setup();
    const made = await ctx.service.createRoom(P, member('a'), { title: 'Pair', max: 2 });
    if (!made.ok) throw new Error('createRoom failed');
    expect(await ctx.service.joinRoom(P, member('b'), { roomId: made.roomId })).toMatchObject({ ok: true });
    expect(await ctx.service.joinRoom(P, member('c'), { roomId: made.roomId })).toEqual({ ok: false, code: 'EJ002' });
  });

  it('moves the joiner into the room and tells the whole room, the joiner included', async () => {
    const ctx = setup();
    const a = member('a');
    const b = member('b', { photoURL: 'https://example.com/b.png' });
    const r = await roomWith(ctx, a);
    expect(await ctx.service.joinRoom(P, b, { roomId: r })).toEqual({ ok: true, roomId: r, history: [], ownerUID: a.userUID });
    expect(ctx.delivery.calls.filter((c) => c.kind === 'enterRoom')).toMatchObject([{ socketId: b.socketId, roomId: r }]);
    expect(ctx.delivery.sent('joinRoom')).toMatchObject([
      { kind: 'toRoom', roomId: r, except: null, args: [{ userUID: b.userUID, displayName: 'b', photoURL: b.photoURL }] },
    ]);
    expect(ctx.delivery.sent('aggro')).toEqual([]);
  });

  it('batches the lobby count: one `count` per interval with the latest value', async () => {
    const ctx = setup();
    const r = await roomWith(ctx, member('a'));
    await ctx.service.joinRoom(P, member('b'), { roomId: r });
    await advance(100);
    await ctx.service.joinRoom(P, member('c'), { roomId: r });
    await ctx.service.joinRoom(P, member('d'), { roomId: r });
    await advance(BATCH - 101);
    expect(ctx.delivery.sent('count')).toEqual([]);
    await advance(1);
    const counts = ctx.delivery.sent('count');
    expect(counts.map((c) => [c.kind, c.args])).toEqual([['toLobby', [{ roomId: r, count: 4 }]]]);
    // A later change opens a new window: sent one interval after that change.
    await ctx.service.joinRoom(P, member('e'), { roomId: r });
    await advance(BATCH - 1);
    expect(ctx.delivery.sent('count')).toHaveLength(1);
    await advance(1);
    expect(ctx.delivery.sent('count').map((c) => c.args)).toEqual([[{ roomId: r, count: 4 }], [{ roomId: r, count: 5 }]]);
    const [first, second] = ctx.delivery.sent('count');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(BATCH);
  });

  it('sends no count when the count is back where it was at the end of the interval', async () => {
    const ctx = setup();
    const r = await roomWith(ctx, member('a'));
    const b = member('b');
    await ctx.service.joinRoom(P, b, { roomId: r });
    await ctx.service.leaveRoom(P, b, r);
    await advance(BATCH * 3);
    expect(ctx.delivery.sent('count')).toEqual([]);
  });

  it('joining the room one is in succeeds and broadcasts nothing', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a, b);
    expect(await ctx.service.joinRoom(P, b, { roomId: r })).toEqual({ ok: true, roomId: r, history: [], ownerUID: a.userUID });
    await advance(BATCH * 3);
    expect(ctx.delivery.calls).toEqual([]);
  });

  it('joining the locked room one is already in succeeds without the password again (spec section 3)', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const made = await ctx.service.createRoom(P, a, { title: 'Locked', max: 5, password: 'sesame' });
    if (!made.ok) throw new Error('createRoom failed');
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId, password: 'sesame' })).toMatchObject({ ok: true });
    await advance(BATCH * 2);
    ctx.delivery.clear();
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId })).toEqual({ ok: true, roomId: made.roomId, history: [], ownerUID: a.userUID });
    expect(ctx.delivery.calls).toEqual([]);
  });

  it('the joiner alone is shown the live aggro with its current point', async () => {
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const r = await roomWith(ctx, a, b);
    const posted = await ctx.service.postAggro(P, a, { roomId: r, msg: 'Goal!', type: 'A' });
    if (!posted.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, posted.aggroUID, 1);
    ctx.delivery.clear();
    await ctx.service.joinRoom(P, c, { roomId: r });
    expect(ctx.delivery.sent('aggro')).toEqual([
      expect.objectContaining({
        kind: 'toSocket',
        socketId: c.socketId,
        args: [expect.objectContaining({ aggroUID: posted.aggroUID, point: 1, msg: 'Goal!', userUID: a.userUID })],
      }),
    ]);
  });

  it('a joiner coming from another room: that room hears leaveRoom and both counts follow', async () => {
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const r1 = await roomWith(ctx, a, c);
    const made = await ctx.service.createRoom(P, b, { title: 'Two', max: 5 });
    if (!made.ok) throw new Error('createRoom failed');
    ctx.delivery.clear();
    await ctx.service.joinRoom(P, c, { roomId: made.roomId });
    expect(ctx.delivery.sent('leaveRoom')).toMatchObject([{ roomId: r1, args: [{ userUID: c.userUID, displayName: 'c' }] }]);
    await advance(BATCH);
    const counts = ctx.delivery.sent('count').map((x) => x.args?.[0]);
    expect(counts).toHaveLength(2);
    expect(counts).toEqual(expect.arrayContaining([{ roomId: r1, count: 1 }, { roomId: made.roomId, count: 2 }]));
  });
});

// ---- leaveRoom ----------------------------------------------------------------------------

describe('leaveRoom', () => {
  it('refuses EM001 when the caller is not in that room', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a);
    expect(await ctx.service.leaveRoom(P, b, r)).toEqual({ ok: false, code: 'EM001' });
    expect(await ctx.service.leaveRoom(P, a, 'room-other')).toEqual({ ok: false, code: 'EM001' });
    expect(ctx.delivery.calls).toEqual([]);
    expect(await ctx.store.roomOf(P, a.socketId)).toBe(r);
  });

  it('puts the leaver in the lobby before the room hears leaveRoom; the lobby gets the count', async () => {
    const ctx = setup();
    const a = member('a');
    const b = member('b', { photoURL: 'https://example.com/b.png' });
    const r = await roomWith(ctx, a, b);
    expect(await ctx.service.leaveRoom(P, b, r)).toEqual({ ok: true });
    const lobby = ctx.delivery.indexOf((c) => c.kind === 'enterLobby' && c.socketId === b.socketId);
    const left = ctx.delivery.indexOf((c) => c.event === 'leaveRoom');
    expect(lobby).toBeGreaterThanOrEqual(0);
    expect(left).toBeGreaterThan(lobby);
    expect(ctx.delivery.calls[left]).toMatchObject({ kind: 'toRoom', roomId: r, args: [{ userUID: b.userUID, displayName: 'b' }] });
    expect(ctx.delivery.calls[left]?.args?.[0]).not.toHaveProperty('photoURL');
    expect(ctx.delivery.sent('deleteRoom')).toEqual([]);
    await advance(BATCH);
    expect(ctx.delivery.sent('count').map((c) => c.args)).toEqual([[{ roomId: r, count: 1 }]]);
  });

  it('the last member leaving deletes the room: deleteRoom, and no count for it afterwards', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a);
    // b's join and leave open a count window that is still pending when the room goes.
    await ctx.service.joinRoom(P, b, { roomId: r });
    await ctx.service.leaveRoom(P, b, r);
    await ctx.service.leaveRoom(P, a, r);
    expect(ctx.delivery.sent('deleteRoom').map((c) => [c.kind, c.args])).toEqual([['toLobby', [{ roomId: r }]]]);
    // The pending window's flush is due after one interval; fake time makes the wait exact.
    await advance(BATCH * 3);
    expect(ctx.delivery.sent('count')).toEqual([]);
    expect(await ctx.service.listRooms(P)).toEqual([]);
  });
});

// ---- chat ---------------------------------------------------------------------------------

describe('chat', () => {
  it('refuses EM001 outside the room named', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a);
    expect(await ctx.service.chat(P, b, { roomId: r, msg: 'hi' })).toEqual({ ok: false, code: 'EM001' });
    expect(await ctx.service.chat(P, a, { roomId: 'room-other', msg: 'hi' })).toEqual({ ok: false, code: 'EM001' });
    expect(ctx.delivery.calls).toEqual([]);
  });

  it('sends the message to the room except the sender, with server-made id and time', async () => {
    const ctx = setup();
    const a = member('a', { photoURL: 'https://example.com/a.png' });
    const r = await roomWith(ctx, a, member('b'));
    const now = Date.now();
    const out = await ctx.service.chat(P, a, { roomId: r, msg: 'hello' });
    expect(out).toEqual({ ok: true, id: 'msg1', ts: now });
    expect(ctx.delivery.calls).toEqual([
      {
        kind: 'toRoom',
        at: now,
        p: P,
        roomId: r,
        except: a.socketId,
        event: 'chat',
        args: [
          { displayName: 'a', msg: 'hello', roomId: r, type: 'N', userUID: a.userUID, photoURL: a.photoURL, id: 'msg1', ts: now },
        ],
      },
    ]);
  });
});

// ---- aggro --------------------------------------------------------------------------------

describe('postAggro', () => {
  it('shows the aggro to the whole room with point 0, its start and expiry', async () => {
    const ctx = setup();
    const a = member('a');
    const r = await roomWith(ctx, a, member('b'));
    const now = Date.now();
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'Goal!', type: 'AP', titleBroad: 'Match_TV1' });
    expect(out).toEqual({ ok: true, aggroUID: 'aggro1', ts: now, expiresAt: now + TTL });
    expect(ctx.delivery.calls).toEqual([
      {
        kind: 'toRoom',
        at: now,
        p: P,
        roomId: r,
        except: null,
        event: 'aggro',
        args: [
          { displayName: 'a', msg: 'Goal!', roomId: r, type: 'AP', userUID: a.userUID, aggroUID: 'aggro1', point: 0, ts: now, expiresAt: now + TTL },
        ],
      },
    ]);
  });

  it('refuses EM001 outside the room, EA001 while one is live, EA002 while cooling down', async () => {
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const r = await roomWith(ctx, a, b);
    expect(await ctx.service.postAggro(P, c, { roomId: r, msg: 'x', type: 'A' })).toEqual({ ok: false, code: 'EM001' });
    const first = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!first.ok) throw new Error('postAggro failed');
    expect(await ctx.service.postAggro(P, b, { roomId: r, msg: 'y', type: 'A' })).toEqual({ ok: false, code: 'EA001' });
    await ctx.service.endAggro(P, r, first.aggroUID, 'removed');
    expect(await ctx.service.postAggro(P, a, { roomId: r, msg: 'z', type: 'A' })).toEqual({ ok: false, code: 'EA002' });
    await advance(COOLDOWN);
    expect(await ctx.service.postAggro(P, a, { roomId: r, msg: 'z', type: 'A' })).toMatchObject({ ok: true });
  });

  it("expires after the TTL: recorded (reason 'expired') before the room gets stopAggro", async () => {
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const r = await roomWith(ctx, a, b, c);
    const started = Date.now();
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'Goal!', type: 'A', titleBroad: 'Client_Title' });
    if (!out.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, out.aggroUID, 1);
    await ctx.service.vote(P, c, out.aggroUID, -1);
    await advance(TTL - 1);
    expect(ctx.records.all).toEqual([]);
    expect(ctx.delivery.sent('stopAggro')).toEqual([]);
    await advance(1);
    expect(ctx.records.all).toEqual([
      {
        aggroUID: out.aggroUID,
        scheduleUID: P,
        roomId: r,
        userUID: a.userUID,
        displayName: 'a',
        msg: 'Goal!',
        type: 'A',
        titleBroad: 'Client_Title',
        point: 0,
        up: 1,
        down: 1,
        startedAt: started,
        endedAt: started + TTL,
        endReason: 'expired',
      },
    ]);
    const stop = ctx.delivery.sent('stopAggro');
    expect(stop).toMatchObject([{ kind: 'toRoom', roomId: r, except: null, args: [out.aggroUID] }]);
    expect(ctx.delivery.calls.indexOf(stop[0]!)).toBeGreaterThanOrEqual(ctx.records.records[0]!.deliveriesBefore);
    expect(await liveAggroIn(ctx.store, P, r)).toBeNull();
  });

  it("the schedule's title_broadcaster wins over the client's titleBroad", async () => {
    const ctx = setup({}, { titleBroadOf: (p) => (p === P ? 'News_KBS' : undefined) });
    const a = member('a');
    const r = await roomWith(ctx, a);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A', titleBroad: 'Client_Title' });
    if (!out.ok) throw new Error('postAggro failed');
    expect(ctx.delivery.sent('aggro')[0]?.args?.[0]).not.toHaveProperty('titleBroad');
    await ctx.service.endAggro(P, r, out.aggroUID, 'removed');
    expect(ctx.records.all[0]?.titleBroad).toBe('News_KBS');
  });
});

describe('vote', () => {
  it('returns the new point and sends one batched aggroPoint with the latest total', async () => {
    const ctx = setup();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => member(n)) as [Member, Member, Member, Member];
    const r = await roomWith(ctx, a, b, c, d);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    expect(await ctx.service.vote(P, b, out.aggroUID, 1)).toEqual({ ok: true, point: 1 });
    await advance(100);
    expect(await ctx.service.vote(P, c, out.aggroUID, 1)).toEqual({ ok: true, point: 2 });
    expect(await ctx.service.vote(P, d, out.aggroUID, -1)).toEqual({ ok: true, point: 1 });
    await advance(BATCH - 101);
    expect(ctx.delivery.sent('aggroPoint')).toEqual([]);
    await advance(1);
    expect(ctx.delivery.sent('aggroPoint')).toMatchObject([
      { kind: 'toRoom', roomId: r, except: null, args: [{ aggroUID: out.aggroUID, point: 1 }] },
    ]);
  });

  it('refuses EA003 for an unknown aggro and EA004 for a second vote or one on one’s own', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a, b);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    expect(await ctx.service.vote(P, b, 'aggro-nope', 1)).toEqual({ ok: false, code: 'EA003' });
    expect(await ctx.service.vote(P, a, out.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
    expect(await ctx.service.vote(P, b, out.aggroUID, -1)).toEqual({ ok: true, point: -1 });
    expect(await ctx.service.vote(P, b, out.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
  });
});

describe('ending an aggro', () => {
  it("removed by an operator: recorded as 'removed', the room gets deleteAggro, exactly once", async () => {
    const ctx = setup();
    const a = member('a');
    const r = await roomWith(ctx, a);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    const [first, second] = await Promise.all([
      ctx.service.endAggro(P, r, out.aggroUID, 'removed'),
      ctx.service.endAggro(P, r, out.aggroUID, 'removed'),
    ]);
    expect([first, second].sort()).toEqual([false, true]);
    expect(ctx.records.all.map((x) => x.endReason)).toEqual(['removed']);
    expect(ctx.delivery.sent('deleteAggro')).toMatchObject([{ kind: 'toRoom', roomId: r, args: [out.aggroUID] }]);
    expect(ctx.delivery.sent('stopAggro')).toEqual([]);
    // The expiry timer finds nothing left to end.
    await advance(TTL);
    expect(ctx.records.all).toHaveLength(1);
    expect(ctx.delivery.sent('stopAggro')).toEqual([]);
  });

  it('the final total goes out before stopAggro, one batching interval after the previous aggroPoint', async () => {
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    const r = await roomWith(ctx, a, b, c);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    await advance(600);
    await ctx.service.vote(P, b, out.aggroUID, 1); // window opens, flushed at +500
    await advance(BATCH);
    expect(ctx.delivery.sent('aggroPoint').map((x) => x.args)).toEqual([[{ aggroUID: out.aggroUID, point: 1 }]]);
    const firstAt = ctx.delivery.sent('aggroPoint')[0]!.at;
    await advance(100);
    await ctx.service.vote(P, c, out.aggroUID, 1); // point 2, not yet sent
    await advance(100);
    expect(await ctx.service.endAggro(P, r, out.aggroUID, 'expired')).toBe(true);
    // Recorded at once, with the final total ...
    expect(ctx.records.all).toMatchObject([{ point: 2, up: 2, endReason: 'expired', endedAt: Date.now() }]);
    // ... but the final aggroPoint waits until one interval after the previous one (300 ms more).
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(1);
    expect(ctx.delivery.sent('stopAggro')).toEqual([]);
    await advance(BATCH - 200 - 1);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(1);
    expect(ctx.delivery.sent('stopAggro')).toEqual([]);
    await advance(1);
    const points = ctx.delivery.sent('aggroPoint');
    expect(points.map((x) => x.args)).toEqual([[{ aggroUID: out.aggroUID, point: 1 }], [{ aggroUID: out.aggroUID, point: 2 }]]);
    expect(points[1]!.at - firstAt).toBeGreaterThanOrEqual(BATCH);
    const stop = ctx.delivery.sent('stopAggro');
    expect(stop).toHaveLength(1);
    expect(ctx.delivery.calls.indexOf(points[1]!)).toBeLessThan(ctx.delivery.calls.indexOf(stop[0]!));
    // The vote's own window flush finds the aggro gone: nothing more.
    await advance(BATCH * 3);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(2);
    expect(ctx.delivery.sent('stopAggro')).toHaveLength(1);
  });

  it('no final aggroPoint when the total was already sent; stopAggro at once', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a, b);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, out.aggroUID, 1);
    await advance(BATCH);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(1);
    await ctx.service.endAggro(P, r, out.aggroUID, 'expired');
    expect(ctx.delivery.sent('stopAggro')).toHaveLength(1);
    await advance(BATCH * 3);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(1);
  });

  it("the last member leaving ends the aggro: recorded as 'room_emptied', and never again on expiry", async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a, b);
    const out = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    await ctx.service.leaveRoom(P, b, r);
    expect(ctx.records.all).toEqual([]);
    await ctx.service.leaveRoom(P, a, r);
    expect(ctx.records.all).toMatchObject([{ aggroUID: out.aggroUID, endReason: 'room_emptied', roomId: r }]);
    expect(ctx.delivery.sent('stopAggro')).toMatchObject([{ roomId: r, args: [out.aggroUID] }]);
    await advance(TTL * 2);
    expect(ctx.records.all).toHaveLength(1);
  });
});

// ---- sessions -----------------------------------------------------------------------------

describe('sessions', () => {
  it('a second socket of the same user: the older gets DUPLICATE_SESSION and is disconnected', async () => {
    const ctx = setup();
    const a1 = member('a');
    const a2 = { ...a1, socketId: 's-a-2' };
    await ctx.service.openSession(P, a1);
    await ctx.service.openSession(P, member('b'));
    await ctx.service.openSession('prog2', { ...a1, socketId: 's-a-elsewhere' });
    expect(ctx.delivery.calls).toEqual([]);
    await ctx.service.openSession(P, a2);
    expect(ctx.delivery.calls).toMatchObject([
      { kind: 'endSession', p: P, socketId: a1.socketId, event: 'system', args: [{ code: 'DUPLICATE_SESSION' }] },
    ]);
    const notice = ctx.delivery.calls[0]?.args?.[0] as { message?: unknown };
    expect(typeof notice.message).toBe('string');
    expect(String(notice.message).length).toBeGreaterThan(0);
  });

  it('the replaced socket closing later leaves its room but does not end the new session', async () => {
    const ctx = setup();
    const [a1, b] = [member('a'), member('b')];
    const a2 = { ...a1, socketId: 's-a-2' };
    const a3 = { ...a1, socketId: 's-a-3' };
    await ctx.service.openSession(P, a1);
    const r = await roomWith(ctx, a1, b);
    await ctx.service.openSession(P, a2);
    await ctx.service.closeSession(P, a1);
    expect(ctx.delivery.sent('leaveRoom')).toMatchObject([{ roomId: r, args: [{ userUID: a1.userUID }] }]);
    ctx.delivery.clear();
    await ctx.service.openSession(P, a3);
    expect(ctx.delivery.calls).toMatchObject([{ kind: 'endSession', socketId: a2.socketId, event: 'system' }]);
  });
});

describe('kick', () => {
  const KICK = 5_000;

  it('starts the cooldown before ending the session, so the immediate reconnect is refused; it runs out', async () => {
    const ctx = setup({ kickCooldownMs: KICK });
    const a = member('a');
    await ctx.service.openSession(P, a);
    // The transport disconnects inside endSession: by then the kick must already hold. (The
    // memory store reads its state when called, so this promise holds the value of that moment.)
    let atDisconnect: Promise<number> | undefined;
    const endSession = ctx.delivery.endSession.bind(ctx.delivery);
    ctx.delivery.endSession = (p, socketId, end) => {
      atDisconnect = ctx.store.kickedFor(P, a.userUID);
      endSession(p, socketId, end);
    };
    expect(await ctx.service.kick(P, a.userUID, 'bye')).toBe(true);
    expect(await atDisconnect).toBe(KICK);
    expect(ctx.delivery.calls).toMatchObject([{ kind: 'endSession', socketId: a.socketId, args: [{ code: 'KICKED', message: 'bye' }] }]);
    expect(await ctx.service.kickedFor(P, a.userUID)).toBe(KICK);
    expect(await ctx.service.kickedFor('prog2', a.userUID)).toBe(0);
    expect(await ctx.service.kickedFor(P, 'u-other')).toBe(0);
    await advance(KICK - 1);
    expect(await ctx.service.kickedFor(P, a.userUID)).toBe(1);
    await advance(1);
    expect(await ctx.service.kickedFor(P, a.userUID)).toBe(0);
  });

  it('an offline user: false, and the cooldown holds all the same', async () => {
    const ctx = setup({ kickCooldownMs: KICK });
    expect(await ctx.service.kick(P, 'u-away', 'bye')).toBe(false);
    expect(ctx.delivery.calls).toEqual([]);
    expect(await ctx.service.kickedFor(P, 'u-away')).toBe(KICK);
  });

  it('with the cooldown off (0) a kick only ends the session', async () => {
    const ctx = setup({ kickCooldownMs: 0 });
    const a = member('a');
    await ctx.service.openSession(P, a);
    expect(await ctx.service.kick(P, a.userUID, 'bye')).toBe(true);
    expect(await ctx.store.kickedFor(P, a.userUID)).toBe(0);
  });
});

// ---- lifecycle ----------------------------------------------------------------------------

describe('stop', () => {
  it("stop(true) records every live aggro with reason 'shutdown' and stops all timers", async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r1 = await roomWith(ctx, a, b);
    const x = await ctx.service.postAggro(P, a, { roomId: r1, msg: 'x', type: 'A' });
    const madeQ = await ctx.service.createRoom('prog2', member('c'), { title: 'Q', max: 3 });
    if (!x.ok || !madeQ.ok) throw new Error('setup failed');
    const y = await ctx.service.postAggro('prog2', member('c'), { roomId: madeQ.roomId, msg: 'y', type: 'A' });
    if (!y.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, x.aggroUID, 1); // a point not yet sent
    await ctx.service.stop(true);
    const ended = ctx.records.all.map((rec) => [rec.scheduleUID, rec.aggroUID, rec.endReason, rec.point]);
    expect(ended.sort()).toEqual(
      [
        [P, x.aggroUID, 'shutdown', 1],
        ['prog2', y.aggroUID, 'shutdown', 0],
      ].sort(),
    );
    // Nothing is delayed while shutting down: the final total and stopAggro went out already.
    expect(ctx.delivery.sent('aggroPoint').map((c) => c.args)).toEqual([[{ aggroUID: x.aggroUID, point: 1 }]]);
    expect(ctx.delivery.sent('stopAggro').map((c) => c.args?.[0]).sort()).toEqual([x.aggroUID, y.aggroUID].sort());
    expect(ctx.service.programsWithRuntime).toEqual([]);
    await advance(TTL * 2);
    expect(ctx.records.all).toHaveLength(2);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(1);
  });

  it('stop(false) records nothing and no timer fires afterwards', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const r = await roomWith(ctx, a, b);
    const x = await ctx.service.postAggro(P, a, { roomId: r, msg: 'x', type: 'A' });
    if (!x.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, x.aggroUID, 1);
    ctx.delivery.clear();
    await ctx.service.stop(false);
    await advance(TTL * 2);
    expect(ctx.records.all).toEqual([]);
    expect(ctx.delivery.calls).toEqual([]);
  });
});

describe('releaseIfIdle', () => {
  it('keeps the runtime while the programme has state, releases it when nothing is left', async () => {
    const ctx = setup();
    const a = member('a');
    await ctx.service.openSession(P, a);
    const r = await roomWith(ctx, a);
    expect(await ctx.service.releaseIfIdle(P)).toBe(false);
    expect(ctx.service.programsWithRuntime).toContain(P);
    await ctx.service.leaveRoom(P, a, r);
    await ctx.service.closeSession(P, a);
    expect(await ctx.service.releaseIfIdle(P)).toBe(true);
    expect(ctx.service.programsWithRuntime).not.toContain(P);
  });
});

describe('BATCH_INTERVAL_MS = 0', () => {
  it('sends every count and aggroPoint at once, and stopAggro without delay', async () => {
    const ctx = setup({ batchIntervalMs: 0 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => member(n)) as [Member, Member, Member, Member];
    const made = await ctx.service.createRoom(P, a, { title: 'Zero', max: 5 });
    if (!made.ok) throw new Error('createRoom failed');
    await ctx.service.joinRoom(P, b, { roomId: made.roomId });
    await ctx.service.joinRoom(P, c, { roomId: made.roomId });
    await ctx.service.joinRoom(P, d, { roomId: made.roomId });
    expect(ctx.delivery.sent('count').map((x) => x.args?.[0])).toEqual([
      { roomId: made.roomId, count: 2 },
      { roomId: made.roomId, count: 3 },
      { roomId: made.roomId, count: 4 },
    ]);
    const out = await ctx.service.postAggro(P, a, { roomId: made.roomId, msg: 'x', type: 'A' });
    if (!out.ok) throw new Error('postAggro failed');
    await ctx.service.vote(P, b, out.aggroUID, 1);
    await ctx.service.vote(P, c, out.aggroUID, 1);
    expect(ctx.delivery.sent('aggroPoint').map((x) => x.args?.[0])).toEqual([
      { aggroUID: out.aggroUID, point: 1 },
      { aggroUID: out.aggroUID, point: 2 },
    ]);
    await ctx.service.vote(P, d, out.aggroUID, -1);
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(3);
    // Every total went out already: the end sends stopAggro at once and nothing else.
    await ctx.service.endAggro(P, made.roomId, out.aggroUID, 'expired');
    expect(ctx.delivery.sent('aggroPoint')).toHaveLength(3);
    const last = ctx.delivery.calls.slice(-1)[0];
    expect(last).toMatchObject({ event: 'stopAggro', args: [out.aggroUID] });
  });
});

// ---- room owners (spec 9) -----------------------------------------------------------------

describe('room owners', () => {
  it('removeMember blocks the rejoin for removalBlockMs by the injected clock: EJ005 until then, welcome after', async () => {
    const ctx = setup({ removalBlockMs: 600_000 });
    const [a, b] = [member('a'), member('b')];
    const roomId = await roomWith(ctx, a, b);
    expect(await ctx.service.removeMember(P, a, { userUID: b.userUID })).toEqual({ ok: true });
    // b is routed to the lobby, out of that room, told why and given the list.
    expect(ctx.delivery.calls.find((c) => c.kind === 'enterLobby' && c.socketId === b.socketId)).toBeDefined();
    const told = ctx.delivery.calls.find((c) => c.kind === 'toSocket' && c.socketId === b.socketId && c.event === 'system');
    expect(told?.args?.[0]).toMatchObject({ code: 'REMOVED_FROM_ROOM', roomId });
    expect(ctx.delivery.calls.some((c) => c.kind === 'toRoom' && c.event === 'leaveRoom' && (c.args?.[0] as { userUID: string }).userUID === b.userUID)).toBe(true);
    await advance(599_999);
    expect(await ctx.service.joinRoom(P, b, { roomId })).toEqual({ ok: false, code: 'EJ005' });
    expect(await ctx.service.quickJoin(P, b, {})).toEqual({ ok: false, code: 'EJ004' });
    await advance(1);
    expect(await ctx.service.joinRoom(P, b, { roomId })).toMatchObject({ ok: true, ownerUID: a.userUID });
  });

  it("the default block is spec 9's ten minutes", async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const roomId = await roomWith(ctx, a, b);
    expect(await ctx.service.removeMember(P, a, { userUID: b.userUID })).toEqual({ ok: true });
    await advance(9 * 60_000);
    expect(await ctx.service.joinRoom(P, b, { roomId })).toEqual({ ok: false, code: 'EJ005' });
    await advance(60_000);
    expect(await ctx.service.joinRoom(P, b, { roomId })).toMatchObject({ ok: true });
  });

  it('EO001 for anyone but the owner, EM001 in the lobby; both before a password is hashed', async () => {
    const hashes: string[] = [];
    const ctx = setup();
    const [a, b, c] = [member('a'), member('b'), member('c')];
    await roomWith(ctx, a, b);
    const guard = (ctx.service as unknown as { passwords: { hash(p: string): Promise<string | null> } }).passwords;
    const hash = guard.hash.bind(guard);
    guard.hash = async (p: string) => (hashes.push(p), hash(p));
    expect(await ctx.service.updateRoom(P, b, { password: 'secret' })).toEqual({ ok: false, code: 'EO001' });
    expect(await ctx.service.updateRoom(P, c, { password: 'secret' })).toEqual({ ok: false, code: 'EM001' });
    expect(await ctx.service.removeMember(P, b, { userUID: a.userUID })).toEqual({ ok: false, code: 'EO001' });
    expect(await ctx.service.removeMember(P, c, { userUID: a.userUID })).toEqual({ ok: false, code: 'EM001' });
    expect(hashes).toEqual([]);
    expect(await ctx.service.updateRoom(P, a, { password: 'secret' })).toMatchObject({ ok: true, room: { password: true } });
    expect(hashes).toEqual(['secret']);
  });

  it('a join checked against the old password fails EJ003 once the owner changed it meanwhile', async () => {
    const ctx = setup();
    const [a, b] = [member('a'), member('b')];
    const made = await ctx.service.createRoom(P, a, { title: 'Locked', max: 5, password: 'old' });
    if (!made.ok) throw new Error('create failed');
    // b's password check passes, then the owner changes the password before b's atomic join.
    const store = ctx.store;
    const join = store.join.bind(store);
    store.join = async (...args: Parameters<typeof store.join>) => {
      await ctx.service.updateRoom(P, a, { password: 'new' });
      return join(...args);
    };
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId, password: 'old' })).toEqual({ ok: false, code: 'EJ003' });
    store.join = join;
    expect(await ctx.service.joinRoom(P, b, { roomId: made.roomId, password: 'new' })).toMatchObject({ ok: true });
  });

  it("owner actions are audited as `owner:<userUID>`; an audit that fails does not undo or refuse the action", async () => {
    const entries: { actor: string; action: string; target: string | null; detail: unknown }[] = [];
    let fail = false;
    const ctx = setup({}, { audit: { audit: async (e) => { if (fail) throw new Error('db down'); entries.push(e); } } });
    const [a, b] = [member('a'), member('b')];
    const roomId = await roomWith(ctx, a, b);
    expect(await ctx.service.updateRoom(P, a, { title: 'New', password: null })).toMatchObject({ ok: true });
    expect(await ctx.service.removeMember(P, a, { userUID: b.userUID })).toEqual({ ok: true });
    expect(entries).toEqual([
      expect.objectContaining({ actor: 'owner:u-a', action: 'update_room', target: roomId, detail: { title: 'New', password: 'removed' } }),
      expect.objectContaining({ actor: 'owner:u-a', action: 'remove_member', target: 'u-b', detail: { roomId, until: T0 + BATCH * 2 + 600_000 } }),
    ]);
    fail = true;
    expect(await ctx.service.updateRoom(P, a, { title: 'Newer' })).toMatchObject({ ok: true, room: { title: 'Newer' } });
  });
});
