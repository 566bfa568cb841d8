/**
 * `ClusterSupervisor` on its own: a real `OnAirService` over a real `MemoryStore` (the shared
 * state of the "cluster"), the in-memory node registry and deadline index (which the contract
 * suite in test/contract/cluster-contract.ts holds to the Redis semantics), wrapped so that a
 * test can make a call fail, hold callers at a gate and see who claimed whom, a `Delivery` that
 * records every call, deterministic ids, a record sink that keeps records and a manual clock.
 *
 * `tick()` is called directly. setTimeout/setInterval are faked and never advanced, so neither
 * the supervisor's interval nor the service's own timers (batch flushes, aggro expiry) ever
 * fire: whatever happens, the supervisor did it.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import type { IdSource } from '../../src/domain/ids.js';
import type { AggroRecord, Member } from '../../src/domain/model.js';
import type { RecordSink } from '../../src/domain/ports/records.js';
import { OnAirService } from '../../src/domain/service.js';
import { ClusterSupervisor, type SupervisorOptions } from '../../src/domain/supervisor.js';
import type { ServerEventName } from '../../src/protocol/index.js';
import type { Deadline, DeadlineIndex, NodeRegistry, SocketEntry } from '../../src/domain/ports/cluster.js';
import { liveAggroIn, RecordingDelivery } from '../helpers/domain.js';
import { MemoryDeadlineIndex, MemoryNodeRegistry, MemoryNodeSpace } from '../../src/state/memory/memory-cluster.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';

const P = 'prog1';
const T0 = 1_700_000_000_000;
const BATCH = 500;
const TTL = 30_000;
const COOLDOWN = 60_000;
const TIMEOUT = 15_000;
const GRACE = 1_000;
const OPTIONS: SupervisorOptions = { nodeTimeoutMs: TIMEOUT, tickMs: 1_000, graceMs: GRACE };

// ---- test doubles ---------------------------------------------------------------------------

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}



class KeepingSink implements RecordSink {
  readonly all: AggroRecord[] = [];
  async record(record: AggroRecord): Promise<void> {
    this.all.push(record);
  }
  async close(): Promise<void> {}
}

function countingIds(): IdSource {
  let r = 0;
  let a = 0;
  let m = 0;
  return { roomId: () => `room${++r}`, aggroUID: () => `aggro${++a}`, messageId: () => `msg${++m}` };
}

/** Lets `n` callers through together; if fewer arrive within a few event-loop turns, lets
 * them through anyway and leaves `met` false (so a test can tell, instead of hanging). */
class Gate {
  private waiting: (() => void)[] = [];
  met = false;
  constructor(private readonly n: number) {}
  wait(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.n) {
        this.met = true;
        this.open();
      } else if (this.waiting.length === 1) {
        let turns = 0;
        const spin = () => {
          if (this.waiting.length === 0) return;
          if (++turns >= 20) this.open();
          else setImmediate(spin);
        };
        setImmediate(spin);
      }
    });
  }
  private open(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

type Failure = 'reject' | 'throw';
type RegistryMethod = 'heartbeat' | 'claimDead' | 'leave';
type IndexMethod = 'add' | 'remove' | 'due';

function failWith<T>(how: Failure, what: string): Promise<T> {
  const err = new Error(`injected ${what} failure`);
  if (how === 'throw') throw err;
  return Promise.reject(err);
}

/** The registry all servers share: the in-memory one (held to the Redis semantics by
 * test/contract/cluster-contract.ts), with a record of every beat and of who claimed whom. */
class Registry {
  readonly space = new MemoryNodeSpace();
  readonly beats: { nodeId: string; at: number }[] = [];
  readonly claims: { by: string; nodeId: string; sockets: SocketEntry[] }[] = [];
  /** When set, every `claimDead` waits here before its atomic step. */
  claimGate: Gate | null = null;

  node(nodeId: string): RegistryHandle {
    return new RegistryHandle(this, nodeId);
  }
  /** The registered servers, with their last beat and the sockets they hold. */
  get nodes(): Map<string, { beat: number; sockets: Map<string, SocketEntry> }> {
    const out = new Map<string, { beat: number; sockets: Map<string, SocketEntry> }>();
    for (const [nodeId, beat] of this.space.beats) out.set(nodeId, { beat, sockets: new Map(this.space.sockets.get(nodeId)) });
    return out;
  }
  /** Another server has declared `nodeId` dead and removed it. */
  evict(nodeId: string): void {
    this.space.beats.delete(nodeId);
  }
  beatsOf(nodeId: string): number[] {
    return this.beats.filter((b) => b.nodeId === nodeId).map((b) => b.at);
  }
}

/** One server's handle on the shared registry, whose next calls can be made to fail. */
class RegistryHandle implements NodeRegistry {
  private readonly failures: { method: RegistryMethod; how: Failure }[] = [];
  readonly failed: RegistryMethod[] = [];
  private readonly inner: MemoryNodeRegistry;

  constructor(
    private readonly reg: Registry,
    readonly nodeId: string,
  ) {
    this.inner = reg.space.node(nodeId);
  }

  /** The next call of `method` fails (once). */
  failNext(method: RegistryMethod, how: Failure = 'reject'): void {
    this.failures.push({ method, how });
  }
  private failure(method: RegistryMethod): Failure | null {
    const i = this.failures.findIndex((f) => f.method === method);
    if (i < 0) return null;
    const [f] = this.failures.splice(i, 1);
    this.failed.push(method);
    return f!.how;
  }

  heartbeat(now: number): Promise<boolean> {
    const f = this.failure('heartbeat');
    if (f) return failWith(f, 'heartbeat');
    this.reg.beats.push({ nodeId: this.nodeId, at: now });
    return this.inner.heartbeat(now);
  }

  leave(): Promise<void> {
    const f = this.failure('leave');
    if (f) return failWith(f, 'leave');
    return this.inner.leave();
  }

  addSocket(entry: SocketEntry): Promise<void> {
    return this.inner.addSocket(entry);
  }

  removeSocket(entry: SocketEntry): Promise<void> {
    return this.inner.removeSocket(entry);
  }

  claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]> {
    const f = this.failure('claimDead');
    if (f) return failWith(f, 'claimDead');
    return this.claim(now, timeoutMs);
  }

  private async claim(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]> {
    if (this.reg.claimGate) await this.reg.claimGate.wait();
    // The memory registry claims before its first await: whoever is gone from the registry when
    // the call returns was claimed by this caller.
    const before = this.reg.nodes;
    const answer = this.inner.claimDead(now, timeoutMs);
    for (const [nodeId, n] of before) {
      if (!this.reg.space.beats.has(nodeId)) this.reg.claims.push({ by: this.nodeId, nodeId, sockets: [...n.sockets.values()] });
    }
    return answer;
  }

  settle(nodeId: string, entry: SocketEntry): Promise<void> {
    return this.inner.settle(nodeId, entry);
  }
}

/** The index all servers share: the in-memory one, whose next calls can be made to fail and
 * whose answers are recorded. */
class Deadlines implements DeadlineIndex {
  private readonly inner = new MemoryDeadlineIndex();
  /** What each `due` call answered. */
  readonly dueAnswers: Deadline[][] = [];
  /** When set, every `due` waits here after reading (so that all callers see the same). */
  dueGate: Gate | null = null;
  private readonly failures: { method: IndexMethod; only: ((d: Deadline) => boolean) | undefined }[] = [];
  readonly failed: IndexMethod[] = [];

  /** The next call of `method` (about a deadline matching `only`, when given) rejects, once. */
  failNext(method: IndexMethod, only?: (d: Deadline) => boolean): void {
    this.failures.push({ method, only });
  }
  private fails(method: IndexMethod, d?: Deadline): boolean {
    const i = this.failures.findIndex((f) => f.method === method && (!f.only || (d !== undefined && f.only(d))));
    if (i < 0) return false;
    this.failures.splice(i, 1);
    this.failed.push(method);
    return true;
  }

  async add(d: Deadline, at: number): Promise<void> {
    if (this.fails('add', d)) throw new Error('injected add failure');
    await this.inner.add(d, at);
  }
  async remove(d: Deadline): Promise<void> {
    if (this.fails('remove', d)) throw new Error('injected remove failure');
    await this.inner.remove(d);
  }
  async due(before: number, limit: number): Promise<Deadline[]> {
    if (this.fails('due')) throw new Error('injected due failure');
    const out = await this.inner.due(before, limit);
    this.dueAnswers.push(out);
    if (this.dueGate) await this.dueGate.wait();
    return out;
  }
  has(d: Deadline): boolean {
    return this.inner.at(d) !== undefined;
  }
  at(d: Deadline): number | undefined {
    return this.inner.at(d);
  }
}

// ---- the world --------------------------------------------------------------------------------

function member(name: string): Member {
  return { userUID: `u-${name}`, displayName: name, socketId: `s-${name}` };
}

function entry(m: Member, p = P): SocketEntry {
  return { p, socketId: m.socketId, userUID: m.userUID, displayName: m.displayName };
}

const cleanups: (() => Promise<void>)[] = [];

/** One cluster: shared store, registry and index; each server has its own service. */
function world() {
  const clock = new ManualClock(T0);
  const store = new MemoryStore(clock);
  const delivery = new RecordingDelivery();
  store.broker.handle(delivery);
  const records = new KeepingSink();
  const registry = new Registry();
  const deadlines = new Deadlines();
  const ids = countingIds();
  const log = pino({ level: 'silent' });

  function service(): OnAirService {
    const s = new OnAirService(
      { store, delivery, records, clock, ids, log, deadlines },
      { roomsPerProgramMax: 10, aggroTtlMs: TTL, aggroCooldownMs: COOLDOWN, batchIntervalMs: BATCH },
    );
    cleanups.push(() => s.stop(false));
    return s;
  }

  /** A server: its service, its registry view and (not yet started) its supervisor. */
  function server(nodeId: string, onEvicted?: () => void) {
    const svc = service();
    const nodes = registry.node(nodeId);
    const supervisor = new ClusterSupervisor(svc, nodes, deadlines, clock, log, OPTIONS, onEvicted);
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      await supervisor.stop();
    };
    cleanups.push(stop);
    return { service: svc, nodes, supervisor, stop };
  }

  /** Connect `m` to the node `nodes` (session in the store, socket in the registry). */
  async function connect(svc: OnAirService, nodes: RegistryHandle, m: Member): Promise<void> {
    await svc.openSession(P, m);
    await nodes.addSocket(entry(m));
  }

  return { clock, store, delivery, records, registry, deadlines, service, server, connect };
}

type World = ReturnType<typeof world>;

/** A server `n3` that beat at `beatAt` and holds two sockets: `a` seated with `c` (whose socket
 * is on the live server `n2`) in room1, and `b` alone in room2 with a live aggro. */
async function deadNodeWithSockets(w: World, beatAt: number) {
  const a = member('a');
  const b = member('b');
  const c = member('c');
  const n3 = w.server('n3');
  const n2 = w.server('n2');
  w.clock.set(beatAt);
  await n3.nodes.heartbeat(beatAt);
  await n2.nodes.heartbeat(beatAt);
  await w.connect(n2.service, n2.nodes, c);
  await w.connect(n3.service, n3.nodes, a);
  await w.connect(n3.service, n3.nodes, b);
  const room1 = await n2.service.createRoom(P, c, { title: 'Shared', max: 10 });
  if (!room1.ok) throw new Error(room1.code);
  expect(await n3.service.joinRoom(P, a, { roomId: room1.roomId })).toMatchObject({ ok: true });
  const room2 = await n3.service.createRoom(P, b, { title: 'Alone', max: 10 });
  if (!room2.ok) throw new Error(room2.code);
  const aggro = await n3.service.postAggro(P, b, { roomId: room2.roomId, msg: 'boo', type: 'A' });
  if (!aggro.ok) throw new Error(aggro.code);
  // n3 dies: its timers stop and it never beats again.
  await n3.service.stop(false);
  w.delivery.clear();
  return { a, b, c, n2, n3, room1: room1.roomId, room2: room2.roomId, aggroUID: aggro.aggroUID };
}

/** Whether the dead node's sockets were cleaned up, judged from the shared state and deliveries. */
async function cleanedUp(w: World, s: Awaited<ReturnType<typeof deadNodeWithSockets>>) {
  return {
    aSeated: (await w.store.roomOf(P, s.a.socketId)) !== null,
    bSeated: (await w.store.roomOf(P, s.b.socketId)) !== null,
    room2Exists: (await w.store.getRoom(P, s.room2)) !== null,
    leaveRoom: w.delivery.sent('leaveRoom').length,
  };
}

beforeEach(() => {
  // Only timers are faked (the domain reads the manual clock, not Date), and they are never
  // advanced: no interval tick, no batch flush, no aggro expiry of the service's own.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.useRealTimers();
});

// ---- heartbeat ----------------------------------------------------------------------------------

describe('heartbeat', () => {
  it('beats at start and at every tick, with the clock time', async () => {
    const w = world();
    const n1 = w.server('n1');
    await n1.supervisor.start();
    expect(w.registry.beatsOf('n1')).toEqual([T0]);
    for (const dt of [1_000, 2_000, 20_000]) {
      w.clock.set(T0 + dt);
      await n1.supervisor.tick();
    }
    expect(w.registry.beatsOf('n1')).toEqual([T0, T0 + 1_000, T0 + 2_000, T0 + 20_000]);
    expect(w.registry.nodes.get('n1')?.beat).toBe(T0 + 20_000);
    await n1.stop();
  });

  it('keeps beating on the tick after a failed one', async () => {
    const w = world();
    const n1 = w.server('n1');
    await n1.supervisor.start();
    n1.nodes.failNext('heartbeat');
    w.clock.set(T0 + 1_000);
    await n1.supervisor.tick();
    w.clock.set(T0 + 2_000);
    await n1.supervisor.tick();
    expect(n1.nodes.failed).toEqual(['heartbeat']);
    expect(w.registry.beatsOf('n1')).toEqual([T0, T0 + 2_000]);
    await n1.stop();
  });

  it('stop() leaves the registry', async () => {
    const w = world();
    const n1 = w.server('n1');
    await n1.supervisor.start();
    expect(w.registry.nodes.has('n1')).toBe(true);
    await n1.stop();
    expect(w.registry.nodes.has('n1')).toBe(false);
  });
});

// ---- dead servers -------------------------------------------------------------------------------

describe('dead servers', () => {
  it('declares none dead during the quiet period after start, then cleans up', async () => {
    const w = world();
    // n3 has been silent far longer than the timeout: only the quiet period protects it.
    const s = await deadNodeWithSockets(w, T0 - 60_000);
    const n1 = w.server('n1');
    w.clock.set(T0);
    await n1.supervisor.start();
    for (const t of [T0, T0 + 1_000, T0 + TIMEOUT / 2, T0 + TIMEOUT - 1]) {
      w.clock.set(t);
      await s.n2.nodes.heartbeat(t);
      await n1.supervisor.tick();
      expect(w.registry.nodes.has('n3'), `at +${t - T0}`).toBe(true);
      expect(await cleanedUp(w, s), `at +${t - T0}`).toEqual({ aSeated: true, bSeated: true, room2Exists: true, leaveRoom: 0 });
    }
    expect(w.registry.claims).toEqual([]);
    w.clock.set(T0 + TIMEOUT);
    await s.n2.nodes.heartbeat(T0 + TIMEOUT);
    await n1.supervisor.tick();
    expect(w.registry.claims.map((c) => [c.by, c.nodeId])).toEqual([['n1', 'n3']]);
    expect(await cleanedUp(w, s)).toEqual({ aSeated: false, bSeated: false, room2Exists: false, leaveRoom: 2 });
    await n1.stop();
  });

  // Only a failed heartbeat means this server was away from the backend; a failed sweep after a
  // good heartbeat does not make the others' heartbeats look stale.
  it.each(['heartbeat'] as const)(
    'declares none dead during one timeout after a tick whose %s failed',
    async (method) => {
      const w = world();
      const s = await deadNodeWithSockets(w, T0);
      const n1 = w.server('n1');
      w.clock.set(T0);
      await n1.supervisor.start();
      // n3 is still alive through the quiet period after start; its last beat is at +14s.
      const lastBeat = T0 + 14_000;
      await s.n3.nodes.heartbeat(lastBeat);
      const tickAt = async (t: number) => {
        w.clock.set(t);
        await s.n2.nodes.heartbeat(t);
        await n1.supervisor.tick();
      };
      await tickAt(T0 + TIMEOUT); // past the start's quiet period; n3 is not stale yet
      expect(w.registry.nodes.has('n3')).toBe(true);

      const failedAt = T0 + 16_000;
      n1.nodes.failNext(method);
      await tickAt(failedAt);
      expect(n1.nodes.failed).toEqual([method]);
      const recoveredAt = failedAt + 1_000;
      await tickAt(recoveredAt);
      // n3 is stale from lastBeat + TIMEOUT on, yet within a timeout of the failure it stays.
      expect(lastBeat + TIMEOUT).toBeLessThan(failedAt + TIMEOUT);
      for (const t of [lastBeat + TIMEOUT, lastBeat + TIMEOUT + 1_000, failedAt + TIMEOUT - 1]) {
        await tickAt(t);
        expect(w.registry.nodes.has('n3'), `at +${t - T0}`).toBe(true);
        expect(await cleanedUp(w, s), `at +${t - T0}`).toEqual({ aSeated: true, bSeated: true, room2Exists: true, leaveRoom: 0 });
      }
      expect(w.registry.claims).toEqual([]);
      // Once the backend has been back for a timeout, n3 is dead.
      await tickAt(recoveredAt + TIMEOUT);
      expect(w.registry.claims.map((c) => [c.by, c.nodeId])).toEqual([['n1', 'n3']]);
      expect(await cleanedUp(w, s)).toEqual({ aSeated: false, bSeated: false, room2Exists: false, leaveRoom: 2 });
      await n1.stop();
    },
  );

  it("closes a dead server's sockets through the service", async () => {
    const w = world();
    const s = await deadNodeWithSockets(w, T0);
    const n1 = w.server('n1');
    w.clock.set(T0);
    await n1.supervisor.start();
    const now = T0 + TIMEOUT + 1_000;
    w.clock.set(now);
    await s.n2.nodes.heartbeat(now);
    await n1.supervisor.tick();

    expect(w.registry.claims.map((c) => [c.by, c.nodeId])).toEqual([['n1', 'n3']]);
    expect(w.registry.nodes.has('n3')).toBe(false);
    // Both rooms hear their member leave.
    expect(w.delivery.sent('leaveRoom').map((c) => [c.kind, c.roomId, c.args])).toEqual(
      expect.arrayContaining([
        ['toRoom', s.room1, [{ userUID: s.a.userUID, displayName: s.a.displayName }]],
        ['toRoom', s.room2, [{ userUID: s.b.userUID, displayName: s.b.displayName }]],
      ]),
    );
    expect(w.delivery.sent('leaveRoom')).toHaveLength(2);
    // room1 keeps its live member (on a live server); room2, a user room left empty, is gone.
    expect((await w.store.members(P, s.room1)).map((m) => m.socketId)).toEqual([s.c.socketId]);
    expect(await w.store.roomOf(P, s.a.socketId)).toBeNull();
    expect(await w.store.getRoom(P, s.room2)).toBeNull();
    expect(w.delivery.sent('deleteRoom').map((c) => [c.kind, c.args])).toEqual([['toLobby', [{ roomId: s.room2 }]]]);
    // room2's aggro ended with its room, recorded as such.
    expect(await liveAggroIn(w.store, P, s.room2)).toBeNull();
    expect(w.records.all.map((r) => [r.aggroUID, r.endReason])).toEqual([[s.aggroUID, 'room_emptied']]);
    expect(w.delivery.sent('stopAggro').map((c) => [c.roomId, c.args])).toEqual([[s.room2, [s.aggroUID]]]);
    // The live server n2 and its socket are untouched.
    expect(w.registry.nodes.get('n2')?.sockets.size).toBe(1);
    expect(w.registry.claims.some((c) => c.nodeId === 'n2')).toBe(false);
    // A later tick does nothing more.
    w.clock.set(now + 1_000);
    await n1.supervisor.tick();
    expect(w.delivery.sent('leaveRoom')).toHaveLength(2);
    expect(w.records.all).toHaveLength(1);
    await n1.stop();
  });

  it('a dead server is claimed and cleaned up by exactly one of two supervisors', async () => {
    const w = world();
    const s = await deadNodeWithSockets(w, T0);
    const n1 = w.server('n1');
    const n4 = w.server('n4');
    w.clock.set(T0);
    await n1.supervisor.start();
    await n4.supervisor.start();
    const now = T0 + TIMEOUT + 1_000;
    w.clock.set(now);
    await s.n2.nodes.heartbeat(now);
    // Both reach claimDead before either claims.
    const gate = new Gate(2);
    w.registry.claimGate = gate;
    await Promise.all([n1.supervisor.tick(), n4.supervisor.tick()]);
    w.registry.claimGate = null;
    expect(gate.met).toBe(true);

    const claims = w.registry.claims.filter((c) => c.nodeId === 'n3');
    expect(claims).toHaveLength(1);
    expect(['n1', 'n4']).toContain(claims[0]!.by);
    expect(claims[0]!.sockets.map((e) => e.socketId).sort()).toEqual([s.a.socketId, s.b.socketId]);
    expect(w.delivery.sent('leaveRoom')).toHaveLength(2);
    expect(w.delivery.sent('deleteRoom')).toHaveLength(1);
    expect(w.records.all.map((r) => [r.aggroUID, r.endReason])).toEqual([[s.aggroUID, 'room_emptied']]);

    w.clock.set(now + 1_000);
    await s.n2.nodes.heartbeat(now + 1_000);
    await Promise.all([n1.supervisor.tick(), n4.supervisor.tick()]);
    expect(w.registry.claims.filter((c) => c.nodeId === 'n3')).toHaveLength(1);
    expect(w.delivery.sent('leaveRoom')).toHaveLength(2);
    expect(w.records.all).toHaveLength(1);
    await n1.stop();
    await n4.stop();
  });

  it("a failure while closing one of a dead server's sockets does not lose the others", async () => {
    const w = world();
    const s = await deadNodeWithSockets(w, T0);
    const n1 = w.server('n1');
    w.clock.set(T0);
    await n1.supervisor.start();
    // a's leave changes room1's count, which registers a deadline: that add fails once.
    // (a is first in n3's socket list.)
    expect([...w.registry.nodes.get('n3')!.sockets.values()].map((e) => e.socketId)).toEqual([s.a.socketId, s.b.socketId]);
    w.deadlines.failNext('add');
    let t = T0 + TIMEOUT + 1_000;
    w.clock.set(t);
    await s.n2.nodes.heartbeat(t);
    await expect(n1.supervisor.tick()).resolves.toBeUndefined();
    expect(w.deadlines.failed).toEqual(['add']);
    // Whatever the retry policy, b (whose close would not fail) is cleaned up within a few ticks.
    for (let i = 0; i < 3 * (TIMEOUT / 1_000); i++) {
      t += 1_000;
      w.clock.set(t);
      await s.n2.nodes.heartbeat(t);
      await n1.supervisor.tick();
    }
    expect(await w.store.roomOf(P, s.b.socketId)).toBeNull();
    expect(await w.store.getRoom(P, s.room2)).toBeNull();
    expect(w.records.all.map((r) => [r.aggroUID, r.endReason])).toEqual([[s.aggroUID, 'room_emptied']]);
    await n1.stop();
  });
});

// ---- eviction -----------------------------------------------------------------------------------

describe('onEvicted', () => {
  it('is not called at start, nor on ticks while this server stays registered', async () => {
    const w = world();
    const onEvicted = vi.fn();
    const n1 = w.server('n1', onEvicted);
    await n1.supervisor.start(); // the first beat registers n1: not an eviction
    expect(w.registry.nodes.has('n1')).toBe(true);
    for (const dt of [1_000, 2_000, 30_000]) {
      w.clock.set(T0 + dt);
      await n1.supervisor.tick();
    }
    expect(onEvicted).not.toHaveBeenCalled();
    await n1.stop();
  });

  it('is called once when a healthy tick finds this server was removed by the others', async () => {
    const w = world();
    const onEvicted = vi.fn();
    const n1 = w.server('n1', onEvicted);
    await n1.supervisor.start();
    w.clock.set(T0 + 1_000);
    await n1.supervisor.tick();
    expect(onEvicted).not.toHaveBeenCalled();
    w.registry.evict('n1');
    w.clock.set(T0 + 2_000);
    await n1.supervisor.tick();
    expect(onEvicted).toHaveBeenCalledTimes(1);
    expect(w.registry.nodes.get('n1')?.beat).toBe(T0 + 2_000); // registered again
    w.clock.set(T0 + 3_000);
    await n1.supervisor.tick();
    expect(onEvicted).toHaveBeenCalledTimes(1);
    await n1.stop();
  });

  it('is called when the first tick finds this server removed since start', async () => {
    const w = world();
    const onEvicted = vi.fn();
    const n1 = w.server('n1', onEvicted);
    await n1.supervisor.start();
    w.registry.evict('n1');
    w.clock.set(T0 + 1_000);
    await n1.supervisor.tick();
    expect(onEvicted).toHaveBeenCalledTimes(1);
    await n1.stop();
  });

  it.each(['heartbeat', 'claimDead'] as const)('is called on the tick after one whose %s failed, if it was removed meanwhile', async (method) => {
    const w = world();
    const onEvicted = vi.fn();
    const n1 = w.server('n1', onEvicted);
    await n1.supervisor.start();
    w.clock.set(T0 + TIMEOUT + 1_000);
    await n1.supervisor.tick();
    n1.nodes.failNext(method);
    w.clock.set(T0 + TIMEOUT + 2_000);
    await n1.supervisor.tick();
    expect(n1.nodes.failed).toEqual([method]);
    // While it was away, the others removed it: its next beat registers it anew.
    w.registry.evict('n1');
    w.clock.set(T0 + TIMEOUT + 3_000);
    await n1.supervisor.tick();
    expect(w.registry.nodes.get('n1')?.beat).toBe(T0 + TIMEOUT + 3_000);
    // Its sockets' shared state was cleaned up by another server: they must resync.
    expect(onEvicted).toHaveBeenCalledTimes(1);
    // Not again while it stays registered; a later eviction is noticed again.
    w.clock.set(T0 + TIMEOUT + 3_500);
    await n1.supervisor.tick();
    expect(onEvicted).toHaveBeenCalledTimes(1);
    w.registry.evict('n1');
    w.clock.set(T0 + TIMEOUT + 4_000);
    await n1.supervisor.tick();
    expect(onEvicted).toHaveBeenCalledTimes(2);
    await n1.stop();
  });
});

// ---- deadlines ----------------------------------------------------------------------------------

/** `a` and `b` sit in room1; `a` has posted an aggro at T0; the server that holds them has
 * stopped its timers, so only the index's deadlines can end the aggro or flush the count. */
async function roomWithAggro(w: World) {
  const a = member('a');
  const b = member('b');
  // The owner's service; its sockets are not in the registry (no server is to be found dead).
  const owner = w.service();
  w.clock.set(T0);
  await owner.openSession(P, a);
  await owner.openSession(P, b);
  const made = await owner.createRoom(P, a, { title: 'Room', max: 10 });
  if (!made.ok) throw new Error(made.code);
  expect(await owner.joinRoom(P, b, { roomId: made.roomId })).toMatchObject({ ok: true });
  const posted = await owner.postAggro(P, a, { roomId: made.roomId, msg: 'boo', type: 'A' });
  if (!posted.ok) throw new Error(posted.code);
  // Its timers will never fire (they are faked, and it stops them): the deadlines are left.
  await owner.stop(false);
  w.delivery.clear();
  const aggroDeadline: Deadline = { kind: 'aggro', p: P, roomId: made.roomId, aggroUID: posted.aggroUID };
  const countDeadline: Deadline = { kind: 'count', p: P, roomId: made.roomId };
  expect(w.deadlines.at(aggroDeadline)).toBe(T0 + TTL);
  expect(w.deadlines.at(countDeadline)).toBe(T0 + BATCH);
  return { a, b, roomId: made.roomId, aggroUID: posted.aggroUID, aggroDeadline, countDeadline };
}

describe('deadlines', () => {
  it("an overdue 'aggro' deadline ends the aggro as expired exactly once, though two supervisors see it", async () => {
    const w = world();
    const s = await roomWithAggro(w);
    const n1 = w.server('n1');
    const n2 = w.server('n2');
    await n1.supervisor.start();
    await n2.supervisor.start();
    const now = T0 + TTL + GRACE;
    w.clock.set(now);
    const gate = new Gate(2);
    w.deadlines.dueGate = gate;
    await Promise.all([n1.supervisor.tick(), n2.supervisor.tick()]);
    w.deadlines.dueGate = null;
    // Both were told about it ...
    expect(gate.met).toBe(true);
    expect(w.deadlines.dueAnswers).toHaveLength(2);
    for (const answer of w.deadlines.dueAnswers) expect(answer).toContainEqual(s.aggroDeadline);
    // ... and it ended once.
    expect(await liveAggroIn(w.store, P, s.roomId)).toBeNull();
    expect(w.records.all.map((r) => [r.aggroUID, r.endReason, r.endedAt])).toEqual([[s.aggroUID, 'expired', now]]);
    expect(w.delivery.sent('stopAggro').map((c) => [c.roomId, c.args])).toEqual([[s.roomId, [s.aggroUID]]]);
    expect(w.deadlines.has(s.aggroDeadline)).toBe(false);
    // The room itself is untouched.
    expect((await w.store.members(P, s.roomId)).map((m) => m.socketId).sort()).toEqual([s.a.socketId, s.b.socketId]);

    w.clock.set(now + 1_000);
    await Promise.all([n1.supervisor.tick(), n2.supervisor.tick()]);
    expect(w.records.all).toHaveLength(1);
    expect(w.delivery.sent('stopAggro')).toHaveLength(1);
    await n1.stop();
    await n2.stop();
  });

  it("an overdue 'count' deadline flushes the pending count to the lobby and leaves the index", async () => {
    const w = world();
    const s = await roomWithAggro(w);
    const n1 = w.server('n1');
    await n1.supervisor.start();
    w.clock.set(T0 + BATCH + GRACE);
    await n1.supervisor.tick();
    expect(w.delivery.sent('count').map((c) => [c.kind, c.p, c.args])).toEqual([['toLobby', P, [{ roomId: s.roomId, count: 2 }]]]);
    expect(w.deadlines.has(s.countDeadline)).toBe(false);
    // Not yet due: the aggro is untouched.
    expect(await liveAggroIn(w.store, P, s.roomId)).toMatchObject({ aggroUID: s.aggroUID });
    expect(w.deadlines.has(s.aggroDeadline)).toBe(true);
    w.clock.set(T0 + BATCH + GRACE + 1_000);
    await n1.supervisor.tick();
    expect(w.delivery.sent('count')).toHaveLength(1);
    await n1.stop();
  });

  it('leaves deadlines alone until they are past the grace period', async () => {
    const w = world();
    const s = await roomWithAggro(w);
    const n1 = w.server('n1');
    await n1.supervisor.start();

    // The count is due at T0 + BATCH, but its owner has GRACE to go first.
    for (const t of [T0 + BATCH, T0 + BATCH + GRACE - 1]) {
      w.clock.set(t);
      await n1.supervisor.tick();
      expect(w.delivery.sent('count'), `at +${t - T0}`).toEqual([]);
      expect(w.deadlines.has(s.countDeadline), `at +${t - T0}`).toBe(true);
    }
    w.clock.set(T0 + BATCH + GRACE);
    await n1.supervisor.tick();
    expect(w.delivery.sent('count')).toHaveLength(1);

    // The same for the aggro.
    for (const t of [T0 + TTL, T0 + TTL + GRACE - 1]) {
      w.clock.set(t);
      await n1.supervisor.tick();
      expect(await liveAggroIn(w.store, P, s.roomId), `at +${t - T0}`).toMatchObject({ aggroUID: s.aggroUID });
      expect(w.records.all, `at +${t - T0}`).toEqual([]);
      expect(w.delivery.sent('stopAggro'), `at +${t - T0}`).toEqual([]);
      expect(w.deadlines.has(s.aggroDeadline), `at +${t - T0}`).toBe(true);
    }
    w.clock.set(T0 + TTL + GRACE);
    await n1.supervisor.tick();
    expect(w.records.all.map((r) => [r.aggroUID, r.endReason])).toEqual([[s.aggroUID, 'expired']]);
    await n1.stop();
  });

  it("removes an overdue 'aggro' deadline whose aggro has already ended", async () => {
    const w = world();
    const n1 = w.server('n1');
    await n1.supervisor.start();
    const stale: Deadline = { kind: 'aggro', p: P, roomId: 'gone', aggroUID: 'gone-aggro' };
    await w.deadlines.add(stale, T0 - 10_000);
    await n1.supervisor.tick();
    expect(w.deadlines.has(stale)).toBe(false);
    expect(w.records.all).toEqual([]);
    await n1.stop();
  });
});

// ---- failures -----------------------------------------------------------------------------------

describe('a tick never throws', () => {
  type Case = [string, (w: World, n1: RegistryHandle) => void, (w: World, n1: RegistryHandle) => string[]];
  const cases: Case[] = [];
  for (const how of ['reject', 'throw'] as const) {
    for (const m of ['heartbeat', 'claimDead'] as const) {
      cases.push([`registry.${m} ${how}s`, (_w, n1) => n1.failNext(m, how), (_w, n1) => n1.failed]);
    }
  }
  cases.push(['index.due rejects', (w) => w.deadlines.failNext('due'), (w) => w.deadlines.failed]);
  // While closing a dead server's socket whose room changes count.
  cases.push(['index.add rejects', (w) => w.deadlines.failNext('add'), (w) => w.deadlines.failed]);
  // While honouring a deadline whose aggro has already ended.
  cases.push([
    'index.remove rejects',
    (w) => w.deadlines.failNext('remove', (d) => 'roomId' in d && d.roomId === 'gone'),
    (w) => w.deadlines.failed,
  ]);

  it.each(cases)('when %s, and the next tick works', async (what, inject, failed) => {
    const w = world();
    // Work for every call a tick makes: a dead server whose socket leaves a shared room
    // (index.add), and an overdue deadline of an aggro that has already ended (index.remove).
    const s = await deadNodeWithSockets(w, T0);
    const stale: Deadline = { kind: 'aggro', p: P, roomId: 'gone', aggroUID: 'gone-aggro' };
    await w.deadlines.add(stale, T0 - 10_000);
    const n1 = w.server('n1');
    w.clock.set(T0);
    await n1.supervisor.start();
    const now = T0 + TIMEOUT + 1_000;
    w.clock.set(now);
    await s.n2.nodes.heartbeat(now);
    inject(w, n1.nodes);
    await expect(n1.supervisor.tick()).resolves.toBeUndefined();
    expect(failed(w, n1.nodes), what).toHaveLength(1);
    // The next tick beats and gets on with the work.
    w.clock.set(now + 1_000);
    await s.n2.nodes.heartbeat(now + 1_000);
    await expect(n1.supervisor.tick()).resolves.toBeUndefined();
    expect(w.registry.nodes.get('n1')?.beat).toBe(now + 1_000);
    expect(w.deadlines.has(stale)).toBe(false);
    await n1.stop();
  });
});
