/**
 * The contract of the cluster ports, `NodeRegistry` and `DeadlineIndex` (src/domain/ports/cluster.ts),
 * written against the interfaces only, so that every backend runs the same suite unchanged:
 *
 *   clusterContract('redis', async () => ({ node, deadlines, close }));
 *
 * - `makeCluster` is called before every test and gives a cluster of its own (a fresh prefix on
 *   Redis): `node(id)` is server `id`'s handle on it, `deadlines()` a handle on its one index.
 *   Handles of the same cluster share everything, as servers on one Redis do.
 * - Both ports take times as arguments, so no clock is needed: the tests pass the times.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deadline, DeadlineIndex, NodeRegistry, SocketEntry } from '../../src/domain/ports/cluster.js';

export interface ClusterUnderTest {
  node(nodeId: string): NodeRegistry;
  deadlines(): DeadlineIndex;
  close(): Promise<void>;
}

const T0 = 1_700_000_000_000;
const TIMEOUT = 15_000;

function socket(nodeId: string, n: number, p = 'prog-1'): SocketEntry {
  return { p, socketId: `${nodeId}_sock-${n}`, userUID: `user-${nodeId}-${n}`, displayName: `Ünïcode name ${n}` };
}

/** Answers of `claimDead` in a comparable order. */
function sorted(answer: { nodeId: string; sockets: SocketEntry[] }[]) {
  return answer
    .map((d) => ({ nodeId: d.nodeId, sockets: [...d.sockets].sort((a, b) => a.socketId.localeCompare(b.socketId)) }))
    .sort((a, b) => a.nodeId.localeCompare(b.nodeId));
}

export function clusterContract(name: string, makeCluster: () => Promise<ClusterUnderTest>): void {
  let c: ClusterUnderTest;
  beforeEach(async () => {
    c = await makeCluster();
  });
  afterEach(async () => {
    await c.close();
  });

  describe(`NodeRegistry contract: ${name}`, () => {
    it('heartbeat answers true when the server was not registered: first beat and after leave', async () => {
      const a = c.node('a');
      expect(await a.heartbeat(T0)).toBe(true);
      expect(await a.heartbeat(T0 + 1_000)).toBe(false);
      expect(await a.heartbeat(T0 + 2_000)).toBe(false);
      await a.leave();
      expect(await a.heartbeat(T0 + 3_000)).toBe(true);
      expect(await a.heartbeat(T0 + 4_000)).toBe(false);
    });

    it('a server is stale when its last beat is at or before now - timeout, and claiming unregisters it', async () => {
      const a = c.node('a');
      const b = c.node('b');
      await a.heartbeat(T0);
      await b.heartbeat(T0 + 5_000);
      await a.addSocket(socket('a', 1));
      await b.addSocket(socket('b', 1));
      // One millisecond short of stale: nothing is claimed, and `a` is still registered.
      expect(await c.node('z').claimDead(T0 + TIMEOUT - 1, TIMEOUT)).toEqual([]);
      expect(await a.heartbeat(T0)).toBe(false);
      // Exactly at the cutoff `a` is dead; `b`, whose beat is later, is not.
      expect(await c.node('z').claimDead(T0 + TIMEOUT, TIMEOUT)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1)] }]);
      expect(await a.heartbeat(T0 + TIMEOUT + 1)).toBe(true);
      expect(await b.heartbeat(T0 + TIMEOUT + 1)).toBe(false);
    });

    it('the last beat counts, not the first', async () => {
      const a = c.node('a');
      await a.heartbeat(T0);
      await a.heartbeat(T0 + 10_000);
      await a.addSocket(socket('a', 1));
      expect(await c.node('z').claimDead(T0 + TIMEOUT, TIMEOUT)).toEqual([]);
      expect(await c.node('z').claimDead(T0 + 10_000 + TIMEOUT, TIMEOUT)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1)] }]);
    });

    it('never claims the caller, however stale its own beat', async () => {
      const a = c.node('a');
      await a.heartbeat(T0);
      await a.addSocket(socket('a', 1));
      expect(await a.claimDead(T0 + 10 * TIMEOUT, TIMEOUT)).toEqual([]);
      expect(await a.heartbeat(T0 + 10 * TIMEOUT)).toBe(false);
    });

    it('never claims a server that never beat, nor one that left, and drops the sockets of one that left', async () => {
      const never = c.node('never');
      await never.addSocket(socket('never', 1));
      const left = c.node('left');
      await left.heartbeat(T0);
      await left.addSocket(socket('left', 1));
      await left.leave();
      expect(await c.node('z').claimDead(T0 + 10 * TIMEOUT, TIMEOUT)).toEqual([]);
      // `left` comes back with no socket and dies: it is claimed, with nothing to clean up.
      expect(await left.heartbeat(T0 + 20 * TIMEOUT)).toBe(true);
      expect(await c.node('z').claimDead(T0 + 30 * TIMEOUT, TIMEOUT)).toEqual([]);
      expect(await left.heartbeat(T0 + 30 * TIMEOUT)).toBe(true);
    });

    it('a dead server with no socket is claimed but not listed', async () => {
      const a = c.node('a');
      await a.heartbeat(T0);
      await a.addSocket(socket('a', 1));
      await a.removeSocket(socket('a', 1));
      expect(await c.node('z').claimDead(T0 + TIMEOUT, TIMEOUT)).toEqual([]);
      expect(await a.heartbeat(T0 + TIMEOUT)).toBe(true);
    });

    it('hands over exactly the sockets added and not removed, each once, as values', async () => {
      const a = c.node('a');
      await a.heartbeat(T0);
      for (const n of [1, 2, 3]) await a.addSocket(socket('a', n));
      // The same entry again, as another object with its fields in another order.
      const s1 = socket('a', 1);
      await a.addSocket({ displayName: s1.displayName, userUID: s1.userUID, socketId: s1.socketId, p: s1.p });
      await a.removeSocket({ ...socket('a', 2) });
      // A look-alike that differs in one field is another entry.
      await a.addSocket({ ...socket('a', 4), p: 'prog-2' });
      const answer = await c.node('z').claimDead(T0 + TIMEOUT, TIMEOUT);
      expect(sorted(answer)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1), socket('a', 3), { ...socket('a', 4), p: 'prog-2' }] }]);
    });

    it("another server's removeSocket does not touch this server's list", async () => {
      const a = c.node('a');
      await a.heartbeat(T0);
      await a.addSocket(socket('a', 1));
      await c.node('b').removeSocket(socket('a', 1));
      expect(await c.node('z').claimDead(T0 + TIMEOUT, TIMEOUT)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1)] }]);
    });

    it('lists the sockets of dead servers to every caller until each is settled', async () => {
      const a = c.node('a');
      const b = c.node('b');
      await a.heartbeat(T0);
      await b.heartbeat(T0 + 1);
      await a.addSocket(socket('a', 1));
      await a.addSocket(socket('a', 2));
      await b.addSocket(socket('b', 1));
      const x = c.node('x');
      const y = c.node('y');
      const all = [
        { nodeId: 'a', sockets: [socket('a', 1), socket('a', 2)] },
        { nodeId: 'b', sockets: [socket('b', 1)] },
      ];
      expect(sorted(await x.claimDead(T0 + TIMEOUT + 1, TIMEOUT))).toEqual(all);
      // `y` claims nothing (both are claimed already), yet it is told what is left to clean up.
      expect(sorted(await y.claimDead(T0 + TIMEOUT + 1, TIMEOUT))).toEqual(all);
      await y.settle('a', socket('a', 1));
      // Settling what is not listed does nothing.
      await y.settle('a', socket('a', 9));
      await y.settle('nobody', socket('a', 2));
      expect(sorted(await x.claimDead(T0 + TIMEOUT + 2, TIMEOUT))).toEqual([
        { nodeId: 'a', sockets: [socket('a', 2)] },
        { nodeId: 'b', sockets: [socket('b', 1)] },
      ]);
      await x.settle('a', socket('a', 2));
      await x.settle('b', { ...socket('b', 1) });
      expect(await y.claimDead(T0 + TIMEOUT + 3, TIMEOUT)).toEqual([]);
      expect(await x.claimDead(T0 + TIMEOUT + 3, TIMEOUT)).toEqual([]);
    });

    it('of servers claiming at once, one claims: each answer lists each socket once', async () => {
      const dead = c.node('dead');
      await dead.heartbeat(T0);
      for (const n of [1, 2, 3]) await dead.addSocket(socket('dead', n));
      const claimers = ['c1', 'c2', 'c3', 'c4'].map((id) => c.node(id));
      await Promise.all(claimers.map((n) => n.heartbeat(T0 + TIMEOUT)));
      const answers = await Promise.all(claimers.map((n) => n.claimDead(T0 + TIMEOUT, TIMEOUT)));
      const expected = [{ nodeId: 'dead', sockets: [1, 2, 3].map((n) => socket('dead', n)) }];
      for (const answer of answers) expect(sorted(answer)).toEqual(expected);
      expect(await dead.heartbeat(T0 + TIMEOUT + 1)).toBe(true);
    });

    it('a server that beats again after its claim keeps its new sockets; the old ones stay listed', async () => {
      const a = c.node('a');
      const z = c.node('z');
      await a.heartbeat(T0);
      await a.addSocket(socket('a', 1));
      expect(await z.claimDead(T0 + TIMEOUT, TIMEOUT)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1)] }]);
      // `a` was only paused: it finds itself unregistered and takes new sockets.
      expect(await a.heartbeat(T0 + TIMEOUT + 1)).toBe(true);
      await a.addSocket(socket('a', 2));
      expect(await z.claimDead(T0 + TIMEOUT + 2, TIMEOUT)).toEqual([{ nodeId: 'a', sockets: [socket('a', 1)] }]);
      // It dies again before the first clean-up is done: both lists are listed, under one entry.
      expect(sorted(await z.claimDead(T0 + 2 * TIMEOUT + 1, TIMEOUT))).toEqual([{ nodeId: 'a', sockets: [socket('a', 1), socket('a', 2)] }]);
    });
  });

  describe(`DeadlineIndex contract: ${name}`, () => {
    const aggro: Deadline = { kind: 'aggro', p: 'prog-1', roomId: 'room_A-1', aggroUID: 'aggro-1' };
    const point: Deadline = { kind: 'point', p: 'prog-1', roomId: 'room_A-1', aggroUID: 'aggro-1' };
    const count: Deadline = { kind: 'count', p: 'prog-1', roomId: 'room_A-1' };
    const other: Deadline = { kind: 'count', p: 'prog-2', roomId: 'room_A-1' };

    it('answers the deadlines due at or before `before`, oldest first, each as it was added', async () => {
      const index = c.deadlines();
      await index.add(point, T0 + 300);
      await index.add(aggro, T0 + 100);
      await index.add(count, T0 + 200);
      await index.add(other, T0 + 400);
      expect(await index.due(T0 + 99, 10)).toEqual([]);
      expect(await index.due(T0 + 100, 10)).toEqual([aggro]);
      expect(await index.due(T0 + 300, 10)).toEqual([aggro, count, point]);
      const all = await index.due(T0 + 10_000, 10);
      expect(all).toEqual([aggro, count, point, other]);
      // Exactly the fields of each kind: a count has no aggroUID.
      expect(all.map((d) => Object.keys(d).sort())).toEqual([
        ['aggroUID', 'kind', 'p', 'roomId'],
        ['kind', 'p', 'roomId'],
        ['aggroUID', 'kind', 'p', 'roomId'],
        ['kind', 'p', 'roomId'],
      ]);
    });

    it("a held session's grace end (spec 7.1) is a deadline of its own, known by user and socket", async () => {
      const index = c.deadlines();
      const session: Deadline = { kind: 'session', p: 'prog-1', userUID: 'user-1', socketId: 'sock_A-1' };
      const again: Deadline = { kind: 'session', p: 'prog-1', userUID: 'user-1', socketId: 'sock_B-2' };
      await index.add(session, T0 + 100);
      await index.add(again, T0 + 200);
      await index.add(count, T0 + 150);
      expect(await index.due(T0 + 300, 10)).toEqual([session, count, again]);
      expect((await index.due(T0 + 100, 10)).map((d) => Object.keys(d).sort())).toEqual([['kind', 'p', 'socketId', 'userUID']]);
      await index.add(session, T0 + 250);
      await index.remove(again);
      expect(await index.due(T0 + 300, 10)).toEqual([count, session]);
    });

    it('answers at most `limit`, the oldest', async () => {
      const index = c.deadlines();
      for (let i = 5; i >= 1; i--) await index.add({ kind: 'count', p: 'prog-1', roomId: `room-${i}` }, T0 + i);
      expect(await index.due(T0 + 10, 2)).toEqual([
        { kind: 'count', p: 'prog-1', roomId: 'room-1' },
        { kind: 'count', p: 'prog-1', roomId: 'room-2' },
      ]);
    });

    it('reading leaves deadlines in place', async () => {
      const index = c.deadlines();
      await index.add(aggro, T0);
      expect(await index.due(T0, 10)).toEqual([aggro]);
      expect(await index.due(T0, 10)).toEqual([aggro]);
    });

    it('a deadline is known by its kind and ids: adding it again moves it', async () => {
      const index = c.deadlines();
      await index.add(aggro, T0 + 100);
      await index.add(point, T0 + 200);
      await index.add({ ...aggro }, T0 + 300);
      expect(await index.due(T0 + 250, 10)).toEqual([point]);
      expect(await index.due(T0 + 300, 10)).toEqual([point, aggro]);
      // Earlier again.
      await index.add(aggro, T0);
      expect(await index.due(T0, 10)).toEqual([aggro]);
    });

    it('remove forgets that deadline only, and an unknown one is no error', async () => {
      const index = c.deadlines();
      await index.add(aggro, T0);
      await index.add(point, T0);
      await index.add(count, T0);
      await index.remove({ ...point });
      await index.remove(point);
      await index.remove({ kind: 'count', p: 'prog-9', roomId: 'nowhere' });
      expect(await index.due(T0, 10)).toEqual(expect.arrayContaining([aggro, count]));
      expect(await index.due(T0, 10)).toHaveLength(2);
      await index.remove(aggro);
      await index.remove(count);
      expect(await index.due(T0 + 10_000, 10)).toEqual([]);
    });

    it('is one index for every server of the cluster', async () => {
      const one = c.deadlines();
      const two = c.deadlines();
      await one.add(aggro, T0);
      expect(await two.due(T0, 10)).toEqual([aggro]);
      await two.remove(aggro);
      expect(await one.due(T0, 10)).toEqual([]);
    });
  });
}
