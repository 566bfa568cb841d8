/**
 * The contract of `StateStore` (src/domain/ports/store.ts), written against the interface only, so that
 * every backend (memory and Redis) runs the same suite unchanged:
 *
 *   storeContract('redis', async () => ({ store, clock: systemClock, close }));
 *
 * - Every test uses its own programme (`p`), so backends that keep state between tests (a shared
 *   Redis) need no flushing; nothing crosses programmes, as the interface promises.
 * - `clock` is the clock the store was built with. With `advance` (a manual clock) the TTL tests
 *   move time; without it they wait for real time, with a bounded poll.
 * - `close()` releases whatever the factory made; it must tolerate `store.close()` having been
 *   called already (the `close` test does).
 * - `announced(p)` is what the store announced for programme `p`, oldest first (memory: a
 *   recording handler on its broker; Redis: the adapter's stream, decoded), so one contract
 *   covers what each decision announces, payloads included.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveAggro, Member, Room } from '../../src/domain/model.js';
import { aggroMessage, roomSummary } from '../../src/domain/payloads.js';
import type { StateStore } from '../../src/domain/ports/store.js';
import type { ChatMessage } from '../../src/protocol/index.js';
import type { Announcement } from '../helpers/announcements.js';
import { liveAggroIn } from '../helpers/domain.js';

export interface ContractClock {
  now(): number;
  advance?(ms: number): void;
}

export interface StoreUnderTest {
  store: StateStore;
  clock: ContractClock;
  announced(p: string): Promise<Announcement[]>;
  close(): Promise<void>;
}

const COOLDOWN = 60_000;
const TTL = 30_000;

let seq = 0;
const run = randomBytes(3).toString('hex');
/** A name unique to this test run: ids are URL-safe, like the server's. */
function uniq(prefix: string): string {
  seq += 1;
  return `${prefix}${run}-${seq}`;
}

function expectOk<T extends { ok: boolean }>(o: T): Extract<T, { ok: true }> {
  if (!o.ok) throw new Error(`expected ok, got ${JSON.stringify(o)}`);
  return o as Extract<T, { ok: true }>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let h: StoreUnderTest;
    let store: StateStore;
    /** This test's programme. */
    let p: string;

    beforeEach(async () => {
      h = await makeStore();
      store = h.store;
      p = uniq('p');
    });

    afterEach(async () => {
      await h.close();
    });

    // ---- builders -----------------------------------------------------------------------

    function mem(name: string, extra: Partial<Member> = {}): Member {
      return { userUID: `u-${name}`, displayName: name, socketId: `s-${name}`, ...extra };
    }
    /** Another socket of the same user (a second tab, a reconnect). */
    function otherSocket(m: Member, tag: string): Member {
      return { ...m, socketId: `${m.socketId}-${tag}` };
    }
    function newRoom(extra: Partial<Room> = {}): Room {
      return { roomId: uniq('r'), title: 'Room', max: 10, persistent: false, createdAt: h.clock.now(), ...extra };
    }
    function newAggro(roomId: string, author: Member, startedAt = h.clock.now(), extra: Partial<LiveAggro> = {}): LiveAggro {
      return {
        aggroUID: uniq('a'),
        roomId,
        userUID: author.userUID,
        displayName: author.displayName,
        msg: 'go!',
        type: 'A',
        point: 0,
        up: 0,
        down: 0,
        startedAt,
        expiresAt: startedAt + TTL,
        pointSent: 0,
        pointSentAt: startedAt,
        ...extra,
      };
    }
    /** A room made by `creator` (seated), in this test's programme. */
    async function roomBy(creator: Member, extra: Partial<Room> = {}): Promise<Room> {
      const r = newRoom(extra);
      expectOk(await store.createRoom(p, r, creator, 1000));
      return r;
    }
    async function seat(roomId: string, ...members: Member[]): Promise<void> {
      for (const m of members) expectOk(await store.join(p, m, roomId));
    }
    /** A live aggro by `author`, who must sit in `roomId`. */
    async function liveBy(roomId: string, author: Member, startedAt = h.clock.now()): Promise<LiveAggro> {
      const a = newAggro(roomId, author, startedAt);
      expect(await store.startAggro(p, author.socketId, a, COOLDOWN)).toEqual({ ok: true });
      return a;
    }
    const sortBySocket = (ms: Member[]) => [...ms].sort((x, y) => x.socketId.localeCompare(y.socketId));

    // ---- createRoom ---------------------------------------------------------------------

    describe('createRoom', () => {
      it('makes the room as given, with its creator seated as the only member', async () => {
        const a = mem('a', { photoURL: 'https://example.com/a.png' });
        const r = newRoom({ title: 'Quiz night', max: 5, passwordHash: 'scrypt$c2FsdA$a2V5' });
        const out = expectOk(await store.createRoom(p, r, a, 10));
        expect(out.room).toEqual({ ...r, count: 1 });
        expect(out.left).toBeUndefined();
        expect(await store.roomOf(p, a.socketId)).toBe(r.roomId);
        expect(await store.members(p, r.roomId)).toEqual([a]);
        expect(await store.getRoom(p, r.roomId)).toEqual({ ...r, count: 1 });
      });

      it('without a creator makes an empty room', async () => {
        const r = newRoom({ persistent: true });
        const out = expectOk(await store.createRoom(p, r, null, 10));
        expect(out.room).toEqual({ ...r, count: 0 });
        expect(out.left).toBeUndefined();
        expect(await store.members(p, r.roomId)).toEqual([]);
      });

      it('refuses EC002 once the programme holds roomLimit rooms, and changes nothing', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = newRoom();
        const r2 = newRoom();
        expectOk(await store.createRoom(p, r1, a, 2));
        expectOk(await store.createRoom(p, r2, b, 2));
        await seat(r2.roomId, c);
        const r3 = newRoom();
        expect(await store.createRoom(p, r3, c, 2)).toEqual({ ok: false, code: 'EC002' });
        expect(await store.createRoom(p, newRoom({ persistent: true }), null, 2)).toEqual({ ok: false, code: 'EC002' });
        expect((await store.listRooms(p)).map((r) => r.roomId)).toEqual([r1.roomId, r2.roomId]);
        expect(await store.getRoom(p, r3.roomId)).toBeNull();
        // The refused creator did not leave its room.
        expect(await store.roomOf(p, c.socketId)).toBe(r2.roomId);
        expect((await store.getRoom(p, r2.roomId))?.count).toBe(2);
      });

      it('keeps the room limit under concurrent creates', async () => {
        const creators = Array.from({ length: 12 }, (_, i) => mem(`c${i}`));
        const outs = await Promise.all(creators.map((c) => store.createRoom(p, newRoom(), c, 5)));
        expect(outs.filter((o) => o.ok)).toHaveLength(5);
        expect(outs.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'EC002')).toBe(true);
        expect(await store.listRooms(p)).toHaveLength(5);
        expect(await store.roomCount(p)).toBe(5);
      });

      it("an operator's rooms (no creator) at one below the limit: exactly one of concurrent creates is made", async () => {
        expectOk(await store.createRoom(p, newRoom({ persistent: true }), null, 3));
        expectOk(await store.createRoom(p, newRoom({ persistent: true }), null, 3));
        const outs = await Promise.all(Array.from({ length: 6 }, () => store.createRoom(p, newRoom({ persistent: true }), null, 3)));
        expect(outs.filter((o) => o.ok)).toHaveLength(1);
        expect(outs.filter((o) => !o.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, code: 'EC002' })));
        expect(await store.listRooms(p)).toHaveLength(3);
        expect(await store.roomCount(p)).toBe(3);
        expect(await store.roomCount('no-such-programme')).toBe(0);
      });

      it('moves the creator out of its previous room in the same step and returns that as `left`', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r1 = await roomBy(a);
        await seat(r1.roomId, b);
        const r2 = newRoom();
        const out = expectOk(await store.createRoom(p, r2, a, 10));
        expect(out.left).toEqual({ roomId: r1.roomId, member: a, count: 1, deleted: false });
        expect(out.room.count).toBe(1);
        expect(await store.roomOf(p, a.socketId)).toBe(r2.roomId);
        expect(await store.members(p, r1.roomId)).toEqual([b]);
        expect((await store.getRoom(p, r1.roomId))?.count).toBe(1);
      });

      it("deletes the creator's previous room when it was its last member, ending its aggro", async () => {
        const a = mem('a');
        const r1 = await roomBy(a);
        const aggro = await liveBy(r1.roomId, a);
        const r2 = newRoom();
        const out = expectOk(await store.createRoom(p, r2, a, 10));
        expect(out.left).toMatchObject({ roomId: r1.roomId, member: a, count: 0, deleted: true });
        expect(out.left?.endedAggro).toEqual(aggro);
        expect(await store.getRoom(p, r1.roomId)).toBeNull();
        expect(await liveAggroIn(store, p, r1.roomId)).toBeNull();
        expect((await store.listRooms(p)).map((r) => r.roomId)).toEqual([r2.roomId]);
      });

      it('answers `existed: true` for a roomId already there and changes nothing', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = newRoom({ persistent: true, title: 'Studio', max: 3 });
        expectOk(await store.createRoom(p, r, null, 10));
        await seat(r.roomId, a, b);
        const other = await roomBy(c);
        // Restoring it again, even with other fields and a creator, returns the room as it is.
        const again = expectOk(await store.createRoom(p, { ...r, title: 'Other', max: 9 }, c, 10));
        expect(again.existed).toBe(true);
        expect(again.left).toBeUndefined();
        expect(again.room).toEqual({ ...r, count: 2 });
        expect(await store.getRoom(p, r.roomId)).toEqual({ ...r, count: 2 });
        expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket([a, b]));
        expect(await store.roomOf(p, c.socketId)).toBe(other.roomId);
        expect((await store.listRooms(p)).map((x) => x.roomId)).toEqual([r.roomId, other.roomId]);
        // The creator was not seated in it: of its 3 seats, one is still free.
        await seat(r.roomId, mem('d'));
        expect(await store.join(p, mem('e'), r.roomId)).toEqual({ ok: false, code: 'EJ002' });
      });

      it('a new room answers without `existed`; an existing one answers `existed` even at the room limit', async () => {
        const r = newRoom({ persistent: true });
        const first = expectOk(await store.createRoom(p, r, null, 1));
        expect(first.existed).toBeUndefined();
        const again = expectOk(await store.createRoom(p, r, null, 1));
        expect(again.existed).toBe(true);
        expect(again.room).toEqual({ ...r, count: 0 });
        expect(await store.listRooms(p)).toHaveLength(1);
      });

      it('concurrent restores of one room: one makes it, the others answer `existed`', async () => {
        const r = newRoom({ persistent: true });
        const outs = await Promise.all(Array.from({ length: 8 }, () => store.createRoom(p, r, null, 100)));
        const oks = outs.map((o) => expectOk(o));
        expect(oks.filter((o) => o.existed !== true)).toHaveLength(1);
        expect(oks.filter((o) => o.existed === true)).toHaveLength(7);
        expect(await store.listRooms(p)).toEqual([{ ...r, count: 0 }]);
      });
    });

    // ---- deleteRoom -----------------------------------------------------------------------

    describe('deleteRoom', () => {
      it('returns the members, now in the lobby, and drops the room', async () => {
        const [a, b, c] = [mem('a', { photoURL: 'https://example.com/a.png' }), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        await seat(r1.roomId, b);
        const r2 = await roomBy(c);
        const out = await store.deleteRoom(p, r1.roomId);
        expect(out).not.toBeNull();
        expect(sortBySocket(out!.members)).toEqual(sortBySocket([a, b]));
        expect(out!.endedAggro).toBeUndefined();
        expect(await store.roomOf(p, a.socketId)).toBeNull();
        expect(await store.roomOf(p, b.socketId)).toBeNull();
        expect(await store.getRoom(p, r1.roomId)).toBeNull();
        expect(await store.members(p, r1.roomId)).toEqual([]);
        expect((await store.listRooms(p)).map((r) => r.roomId)).toEqual([r2.roomId]);
        // Other rooms are untouched.
        expect(await store.roomOf(p, c.socketId)).toBe(r2.roomId);
        // The former members are in the lobby: leaving is nothing, joining elsewhere works.
        expect(await store.leave(p, a.socketId)).toBeNull();
        const joined = expectOk(await store.join(p, a, r2.roomId));
        expect(joined.left).toBeUndefined();
        expect(joined.count).toBe(2);
        expect(await store.join(p, b, r1.roomId)).toEqual({ ok: false, code: 'EJ001' });
      });

      it("ends the room's live aggro and returns it, with its votes", async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        const out = await store.deleteRoom(p, r.roomId);
        expect(out?.endedAggro).toEqual({ ...aggro, point: 1, up: 1 });
        expect(await liveAggroIn(store, p, r.roomId)).toBeNull();
        expect(await store.liveAggros(p)).toEqual([]);
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).toBeNull();
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, h.clock.now())).toBeNull();
        expect(await store.flushCount(p, r.roomId)).toBeNull();
      });

      it('deletes an empty persistent room', async () => {
        const r = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        expect(await store.deleteRoom(p, r.roomId)).toEqual({ members: [] });
        expect(await store.listRooms(p)).toEqual([]);
        // Its id can be made again (an operator re-creating it).
        expect(expectOk(await store.createRoom(p, r, null, 10)).existed).toBeUndefined();
      });

      it('frees a place under the room limit', async () => {
        const r1 = await roomBy(mem('a'));
        await roomBy(mem('b'));
        expect(await store.createRoom(p, newRoom(), mem('c'), 2)).toEqual({ ok: false, code: 'EC002' });
        expect(await store.deleteRoom(p, r1.roomId)).not.toBeNull();
        expectOk(await store.createRoom(p, newRoom(), mem('c'), 2));
      });

      it('null for an unknown room, a room of another programme, or one already deleted', async () => {
        const r = await roomBy(mem('a'));
        expect(await store.deleteRoom(p, uniq('r'))).toBeNull();
        expect(await store.deleteRoom(uniq('q'), r.roomId)).toBeNull();
        expect(await store.deleteRoom(p, r.roomId)).not.toBeNull();
        expect(await store.deleteRoom(p, r.roomId)).toBeNull();
      });

      it('exactly one of concurrent deletes gets the members and the aggro', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        const outs = await Promise.all(Array.from({ length: 6 }, () => store.deleteRoom(p, r.roomId)));
        const got = outs.filter((o) => o !== null);
        expect(got).toHaveLength(1);
        expect(got[0]!.endedAggro?.aggroUID).toBe(aggro.aggroUID);
        expect(got[0]!.members).toHaveLength(2);
      });
    });

    // ---- listRooms / getRoom ------------------------------------------------------------

    describe('listRooms and getRoom', () => {
      it('lists rooms in creation order (not id order) with their member counts', async () => {
        const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((n) => mem(n)) as [Member, Member, Member, Member, Member];
        // Same createdAt for all, as rooms made within one millisecond have; ids out of order.
        const r1 = await roomBy(a, { roomId: `z${uniq('r')}` });
        const r2 = newRoom({ roomId: `a${uniq('r')}`, persistent: true });
        expectOk(await store.createRoom(p, r2, null, 10));
        const r3 = await roomBy(b, { roomId: `m${uniq('r')}` });
        await seat(r1.roomId, c, d);
        await seat(r3.roomId, e);
        const list = await store.listRooms(p);
        expect(list.map((r) => [r.roomId, r.count])).toEqual([
          [r1.roomId, 3],
          [r2.roomId, 0],
          [r3.roomId, 2],
        ]);
        expect(list[1]).toEqual({ ...r2, count: 0 });
      });

      it('drops a deleted room from the list and keeps the order of the rest', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        const r3 = await roomBy(c);
        await store.leave(p, b.socketId);
        expect((await store.listRooms(p)).map((r) => r.roomId)).toEqual([r1.roomId, r3.roomId]);
        const r4 = await roomBy(b);
        expect((await store.listRooms(p)).map((r) => r.roomId)).toEqual([r1.roomId, r3.roomId, r4.roomId]);
        expect(r2.roomId).not.toBe(r4.roomId);
      });

      it('an unknown programme has no rooms', async () => {
        expect(await store.listRooms(uniq('nowhere'))).toEqual([]);
      });

      it('getRoom returns the room with its live count, null when unknown or in another programme', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a, { max: 4 });
        await seat(r.roomId, b);
        expect(await store.getRoom(p, r.roomId)).toEqual({ ...r, count: 2 });
        expect(await store.getRoom(p, uniq('r'))).toBeNull();
        expect(await store.getRoom(uniq('q'), r.roomId)).toBeNull();
      });
    });

    // ---- join ---------------------------------------------------------------------------

    describe('join', () => {
      it('seats the member and returns the new count', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        const out = await store.join(p, b, r.roomId);
        expect(out).toEqual({ ok: true, already: false, count: 2 });
        expect(await store.roomOf(p, b.socketId)).toBe(r.roomId);
        expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket([a, b]));
      });

      it('refuses EJ001 for a room that does not exist, or exists only in another programme', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        expect(await store.join(p, b, uniq('r'))).toEqual({ ok: false, code: 'EJ001' });
        const q = uniq('q');
        expect(await store.join(q, b, r.roomId)).toEqual({ ok: false, code: 'EJ001' });
        expect(await store.roomOf(q, b.socketId)).toBeNull();
        expect(await store.roomOf(p, b.socketId)).toBeNull();
      });

      it('refuses EJ002 when the room is full; the refused member stays where it was', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const full = await roomBy(a, { max: 2 });
        await seat(full.roomId, b);
        const other = await roomBy(c);
        expect(await store.join(p, c, full.roomId)).toEqual({ ok: false, code: 'EJ002' });
        expect(await store.roomOf(p, c.socketId)).toBe(other.roomId);
        expect((await store.getRoom(p, other.roomId))?.count).toBe(1);
        expect((await store.getRoom(p, full.roomId))?.count).toBe(2);
      });

      it('joining the room one is in is `already: true` and changes nothing, even when full', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a, { max: 2 });
        await seat(r.roomId, b);
        const out = await store.join(p, b, r.roomId);
        expect(out).toMatchObject({ ok: true, already: true, count: 2 });
        expect(expectOk(out).left).toBeUndefined();
        expect((await store.getRoom(p, r.roomId))?.count).toBe(2);
        expect(await store.flushCount(p, r.roomId)).toBe(2); // the join of b, once
      });

      it('a member seated elsewhere leaves that room in the same step, returned as `left`', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        await seat(r1.roomId, c);
        const r2 = await roomBy(b);
        const out = expectOk(await store.join(p, c, r2.roomId));
        expect(out.left).toEqual({ roomId: r1.roomId, member: c, count: 1, deleted: false });
        expect(out.count).toBe(2);
        expect(await store.members(p, r1.roomId)).toEqual([a]);
        expect(await store.roomOf(p, c.socketId)).toBe(r2.roomId);
      });

      it("leaving as the last member deletes the previous room and ends its aggro", async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r1 = await roomBy(a);
        const aggro = await liveBy(r1.roomId, a);
        const r2 = await roomBy(b);
        const out = expectOk(await store.join(p, a, r2.roomId));
        expect(out.left).toMatchObject({ roomId: r1.roomId, count: 0, deleted: true, endedAggro: aggro });
        expect(await store.getRoom(p, r1.roomId)).toBeNull();
        expect(await store.liveAggros(p)).toEqual([]);
      });

      it("returns the room's live aggro, with its current point, to the joiner", async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        expect(expectOk(await store.join(p, c, r.roomId)).aggro).toBeUndefined();
        await store.leave(p, c.socketId);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        const out = expectOk(await store.join(p, c, r.roomId));
        expect(out.aggro).toEqual({ ...aggro, point: 1, up: 1 });
        expect(out.aggro).toEqual(await liveAggroIn(store, p, r.roomId));
      });

      it('seats exactly max members out of 50 concurrent joins', async () => {
        const r = newRoom({ max: 7, persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        const joiners = Array.from({ length: 50 }, (_, i) => mem(`j${i}`));
        const outs = await Promise.all(joiners.map((m) => store.join(p, m, r.roomId)));
        const seated = joiners.filter((_, i) => outs[i]?.ok);
        expect(seated).toHaveLength(7);
        expect(outs.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'EJ002')).toBe(true);
        expect(outs.filter((o) => !o.ok)).toHaveLength(43);
        expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket(seated));
        expect((await store.getRoom(p, r.roomId))?.count).toBe(7);
        const counts = outs.flatMap((o) => (o.ok ? [o.count] : [])).sort((x, y) => x - y);
        expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7]);
        for (const m of joiners) {
          expect(await store.roomOf(p, m.socketId)).toBe(seated.includes(m) ? r.roomId : null);
        }
      });

      it('concurrent joins of one socket to two rooms leave it seated in exactly one', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        await Promise.all([store.join(p, c, r1.roomId), store.join(p, c, r2.roomId)]);
        const where = await store.roomOf(p, c.socketId);
        expect([r1.roomId, r2.roomId]).toContain(where);
        const inR1 = (await store.members(p, r1.roomId)).filter((m) => m.socketId === c.socketId).length;
        const inR2 = (await store.members(p, r2.roomId)).filter((m) => m.socketId === c.socketId).length;
        expect(inR1 + inR2).toBe(1);
        expect((await store.getRoom(p, r1.roomId))?.count).toBe(1 + inR1);
        expect((await store.getRoom(p, r2.roomId))?.count).toBe(1 + inR2);
      });
    });

    // ---- leave / roomOf / members -------------------------------------------------------

    describe('chat and history', () => {
      let n = 0;
      function msg(author: Member, roomId: string, extra: Partial<ChatMessage> = {}): ChatMessage {
        n += 1;
        return { displayName: author.displayName, msg: `m${n}`, roomId, type: 'N', userUID: author.userUID, id: uniq('m'), ts: h.clock.now() + n, ...extra };
      }

      it('keeps a message of a member of the room, refuses one from outside it and keeps nothing then', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        const other = await roomBy(c);
        const m1 = msg(a, r.roomId, { photoURL: 'https://example.com/a.png' });
        expect(await store.chat(p, a.socketId, r.roomId, m1, 50)).toBe(true);
        // b sits in no room; c sits in another one.
        expect(await store.chat(p, b.socketId, r.roomId, msg(b, r.roomId), 50)).toBe(false);
        expect(await store.chat(p, c.socketId, r.roomId, msg(c, r.roomId), 50)).toBe(false);
        expect(await store.chat(p, a.socketId, 'no-such-room', msg(a, 'no-such-room'), 50)).toBe(false);
        expect(await store.history(p, r.roomId, null, 50)).toEqual([m1]);
        expect(await store.history(p, other.roomId, null, 50)).toEqual([]);
      });

      it('keeps the last historySize messages, oldest first; 0 keeps none but still checks the seat', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const sent = Array.from({ length: 7 }, () => msg(a, r.roomId));
        for (const m of sent) expect(await store.chat(p, a.socketId, r.roomId, m, 5)).toBe(true);
        expect(await store.history(p, r.roomId, null, 50)).toEqual(sent.slice(2));
        expect(await store.history(p, r.roomId, null, 2)).toEqual(sent.slice(5));
        const quiet = await roomBy(mem('q'));
        expect(await store.chat(p, 's-q', quiet.roomId, msg(mem('q'), quiet.roomId), 0)).toBe(true);
        expect(await store.history(p, quiet.roomId, null, 50)).toEqual([]);
      });

      it('pages back from a message id; an id no longer kept (or unknown) gives nothing', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const sent = Array.from({ length: 10 }, () => msg(a, r.roomId));
        for (const m of sent) await store.chat(p, a.socketId, r.roomId, m, 8);
        // Kept: sent[2..9].
        expect(await store.history(p, r.roomId, sent[9]!.id, 3)).toEqual(sent.slice(6, 9));
        expect(await store.history(p, r.roomId, sent[5]!.id, 3)).toEqual(sent.slice(2, 5));
        expect(await store.history(p, r.roomId, sent[3]!.id, 3)).toEqual(sent.slice(2, 3));
        expect(await store.history(p, r.roomId, sent[2]!.id, 3)).toEqual([]);
        expect(await store.history(p, r.roomId, sent[0]!.id, 3)).toEqual([]);
        expect(await store.history(p, r.roomId, 'never-sent', 3)).toEqual([]);
      });

      it('removes one message from the history (spec 9), once; unknown ids and rooms change nothing', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const sent = Array.from({ length: 4 }, () => msg(a, r.roomId));
        for (const m of sent) await store.chat(p, a.socketId, r.roomId, m, 50);
        expect(await store.removeChat(p, r.roomId, sent[1]!.id)).toBe(true);
        expect(await store.removeChat(p, r.roomId, sent[1]!.id)).toBe(false);
        expect(await store.removeChat(p, r.roomId, 'never-sent')).toBe(false);
        expect(await store.removeChat(p, 'no-such-room', sent[2]!.id)).toBe(false);
        expect(await store.history(p, r.roomId, null, 50)).toEqual([sent[0], sent[2], sent[3]]);
      });

      it('goes with its room: emptied, or deleted by an operator; a persistent room keeps it while it stands', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const emptied = await roomBy(a);
        await store.chat(p, a.socketId, emptied.roomId, msg(a, emptied.roomId), 50);
        await store.leave(p, a.socketId);
        expect(await store.history(p, emptied.roomId, null, 50)).toEqual([]);

        const deleted = await roomBy(b);
        await store.chat(p, b.socketId, deleted.roomId, msg(b, deleted.roomId), 50);
        await store.deleteRoom(p, deleted.roomId);
        expect(await store.history(p, deleted.roomId, null, 50)).toEqual([]);

        const kept = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, kept, null, 1000));
        await seat(kept.roomId, a);
        const m = msg(a, kept.roomId);
        await store.chat(p, a.socketId, kept.roomId, m, 50);
        await store.leave(p, a.socketId);
        expect(await store.history(p, kept.roomId, null, 50)).toEqual([m]);
      });

      it('concurrent messages of many members are all kept, up to the size, none twice', async () => {
        const members = Array.from({ length: 12 }, (_, i) => mem(`c${i}`));
        const r = await roomBy(members[0]!, { max: 20 });
        await seat(r.roomId, ...members.slice(1));
        const sent = members.flatMap((m) => [msg(m, r.roomId), msg(m, r.roomId)]);
        const kept = await Promise.all(sent.map((m) => store.chat(p, m.userUID.replace('u-', 's-'), r.roomId, m, 20)));
        expect(kept.every(Boolean)).toBe(true);
        const history = await store.history(p, r.roomId, null, 50);
        expect(history).toHaveLength(20);
        expect(new Set(history.map((m) => m.id)).size).toBe(20);
        for (const m of history) expect(sent).toContainEqual(m);
      });
    });

    describe('leave, roomOf and members', () => {
      it('returns null for a socket in no room (or an unknown programme)', async () => {
        expect(await store.leave(p, 's-nobody')).toBeNull();
        expect(await store.leave(uniq('q'), 's-nobody')).toBeNull();
        expect(await store.roomOf(p, 's-nobody')).toBeNull();
      });

      it('with a roomId, leaves only that room', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        expect(await store.leave(p, a.socketId, r2.roomId)).toBeNull();
        expect(await store.roomOf(p, a.socketId)).toBe(r1.roomId);
        expect((await store.getRoom(p, r1.roomId))?.count).toBe(1);
        expect(await store.leave(p, a.socketId, r1.roomId)).toMatchObject({ roomId: r1.roomId, member: a });
        expect(await store.roomOf(p, a.socketId)).toBeNull();
      });

      it('returns what changed; with members left the room and its aggro stay', async () => {
        const [a, b] = [mem('a', { photoURL: 'https://example.com/a.png' }), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, b);
        const out = await store.leave(p, a.socketId);
        expect(out).toEqual({ roomId: r.roomId, member: a, count: 1, deleted: false });
        expect(await store.roomOf(p, a.socketId)).toBeNull();
        expect(await store.members(p, r.roomId)).toEqual([b]);
        expect(await liveAggroIn(store, p, r.roomId)).toEqual(aggro);
      });

      it('the last member leaving deletes a non-persistent room and ends its live aggro', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, -1));
        await store.leave(p, b.socketId);
        const out = await store.leave(p, a.socketId);
        expect(out).toEqual({
          roomId: r.roomId,
          member: a,
          count: 0,
          deleted: true,
          endedAggro: { ...aggro, point: -1, down: 1 },
        });
        expect(await store.getRoom(p, r.roomId)).toBeNull();
        expect(await liveAggroIn(store, p, r.roomId)).toBeNull();
        expect(await store.members(p, r.roomId)).toEqual([]);
        expect(await store.join(p, b, r.roomId)).toEqual({ ok: false, code: 'EJ001' });
      });

      it('a persistent room stays when its last member leaves, but its live aggro ends', async () => {
        const a = mem('a');
        const r = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        await seat(r.roomId, a);
        const aggro = await liveBy(r.roomId, a);
        const out = await store.leave(p, a.socketId);
        expect(out).toEqual({ roomId: r.roomId, member: a, count: 0, deleted: false, endedAggro: aggro });
        expect(await store.getRoom(p, r.roomId)).toEqual({ ...r, count: 0 });
        expect(await liveAggroIn(store, p, r.roomId)).toBeNull();
        expect((await store.listRooms(p)).map((x) => x.roomId)).toEqual([r.roomId]);
      });

      it('concurrent leaves of one socket: exactly one gets the outcome', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const outs = await Promise.all(Array.from({ length: 10 }, () => store.leave(p, b.socketId)));
        expect(outs.filter((o) => o !== null)).toHaveLength(1);
        expect((await store.getRoom(p, r.roomId))?.count).toBe(1);
      });

      it('members lists every member of the room with its identity; [] for an unknown room', async () => {
        const a = mem('a', { photoURL: 'https://example.com/a.png' });
        const [b, c] = [mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b, c);
        expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket([a, b, c]));
        expect(await store.members(p, uniq('r'))).toEqual([]);
      });

      it('membership is per socket: two sockets of one user hold two seats', async () => {
        const a = mem('a');
        const a2 = otherSocket(a, '2');
        const r = await roomBy(a);
        await seat(r.roomId, a2);
        expect((await store.getRoom(p, r.roomId))?.count).toBe(2);
        await store.leave(p, a.socketId);
        expect(await store.members(p, r.roomId)).toEqual([a2]);
      });
    });

    // ---- startAggro ---------------------------------------------------------------------

    describe('startAggro', () => {
      it('makes the aggro live in its room, as given', async () => {
        const a = mem('a', { photoURL: 'https://example.com/a.png' });
        const r = await roomBy(a);
        const aggro = newAggro(r.roomId, a, h.clock.now(), { type: 'AP', titleBroad: 'Show_TV1', photoURL: a.photoURL });
        expect(await store.startAggro(p, a.socketId, aggro, COOLDOWN)).toEqual({ ok: true });
        expect(await liveAggroIn(store, p, r.roomId)).toEqual(aggro);
      });

      it("refuses EM001 when the author's socket sits in no room or in another room", async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        expect(await store.startAggro(p, 's-lobby', newAggro(r1.roomId, mem('lobby')), COOLDOWN)).toEqual({
          ok: false,
          code: 'EM001',
        });
        expect(await store.startAggro(p, b.socketId, newAggro(r1.roomId, b), COOLDOWN)).toEqual({ ok: false, code: 'EM001' });
        expect(await store.liveAggros(p)).toEqual([]);
        // A refused post started no cooldown.
        await liveBy(r2.roomId, b);
      });

      it('refuses EA001 while the room has a live aggro; that refusal starts no cooldown', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const first = await liveBy(r.roomId, a);
        const t = h.clock.now();
        expect(await store.startAggro(p, b.socketId, newAggro(r.roomId, b, t), COOLDOWN)).toEqual({ ok: false, code: 'EA001' });
        expect(await liveAggroIn(store, p, r.roomId)).toEqual(first);
        expect(await store.endAggro(p, r.roomId, first.aggroUID)).not.toBeNull();
        await liveBy(r.roomId, b, t);
      });

      it("refuses EA002 within cooldownMs of the author's previous aggro, measured on startedAt", async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const t0 = h.clock.now();
        const first = await liveBy(r.roomId, a, t0);
        expect(await store.endAggro(p, r.roomId, first.aggroUID)).not.toBeNull();
        const early = newAggro(r.roomId, a, t0 + COOLDOWN - 1);
        expect(await store.startAggro(p, a.socketId, early, COOLDOWN)).toEqual({ ok: false, code: 'EA002' });
        expect(await liveAggroIn(store, p, r.roomId)).toBeNull();
        // "less than AGGRO_COOLDOWN_MS ago" (spec section 2): exactly cooldownMs later is allowed.
        await liveBy(r.roomId, a, t0 + COOLDOWN);
      });

      it('the cooldown follows the user into other rooms and onto other sockets', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        await seat(r1.roomId, b);
        const t0 = h.clock.now();
        await liveBy(r1.roomId, a, t0);
        // Same socket, another room (the aggro of r1 stays: b is still there).
        const r2 = await roomBy(a);
        expect(await store.startAggro(p, a.socketId, newAggro(r2.roomId, a, t0 + 1), COOLDOWN)).toEqual({
          ok: false,
          code: 'EA002',
        });
        // Another socket of the same user, in a third room.
        const a2 = otherSocket(a, '2');
        const r3 = await roomBy(c);
        await seat(r3.roomId, a2);
        expect(await store.startAggro(p, a2.socketId, newAggro(r3.roomId, a2, t0 + 2), COOLDOWN)).toEqual({
          ok: false,
          code: 'EA002',
        });
        // Another user is not affected.
        await liveBy(r3.roomId, c, t0 + 2);
      });

      it('exactly one of many concurrent posts in one room goes live', async () => {
        const r = newRoom({ max: 20, persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        const posters = Array.from({ length: 12 }, (_, i) => mem(`m${i}`));
        await seat(r.roomId, ...posters);
        const aggros = posters.map((m) => newAggro(r.roomId, m));
        const outs = await Promise.all(posters.map((m, i) => store.startAggro(p, m.socketId, aggros[i]!, COOLDOWN)));
        const winners = outs.flatMap((o, i) => (o.ok ? [aggros[i]!] : []));
        expect(winners).toHaveLength(1);
        expect(outs.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'EA001')).toBe(true);
        expect(await liveAggroIn(store, p, r.roomId)).toEqual(winners[0]);
      });

      it('one user posting concurrently in two rooms gets exactly one live aggro', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const a2 = otherSocket(a, '2');
        const r1 = await roomBy(b);
        const r2 = await roomBy(c);
        await seat(r1.roomId, a);
        await seat(r2.roomId, a2);
        const t = h.clock.now();
        const outs = await Promise.all([
          store.startAggro(p, a.socketId, newAggro(r1.roomId, a, t), COOLDOWN),
          store.startAggro(p, a2.socketId, newAggro(r2.roomId, a2, t), COOLDOWN),
        ]);
        expect(outs.filter((o) => o.ok)).toHaveLength(1);
        expect(outs.find((o) => !o.ok)).toEqual({ ok: false, code: 'EA002' });
        expect(await store.liveAggros(p)).toHaveLength(1);
      });
    });

    // ---- vote ---------------------------------------------------------------------------

    describe('vote', () => {
      it('adds up and down votes: running point, up and down counters, and the room', async () => {
        const r = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        const [author, v1, v2, v3, v4] = ['x', 'v1', 'v2', 'v3', 'v4'].map((n) => mem(n)) as [Member, Member, Member, Member, Member];
        await seat(r.roomId, author, v1, v2, v3, v4);
        const aggro = await liveBy(r.roomId, author);
        const points: number[] = [];
        for (const [v, d] of [
          [v1, 1],
          [v2, 1],
          [v3, -1],
          [v4, 1],
        ] as const) {
          const out = expectOk(await store.vote(p, v.socketId, v.userUID, aggro.aggroUID, d));
          expect(out.roomId).toBe(r.roomId);
          points.push(out.point);
        }
        expect(points).toEqual([1, 2, 1, 2]);
        expect(await liveAggroIn(store, p, r.roomId)).toEqual({ ...aggro, point: 2, up: 3, down: 1 });
      });

      it('refuses EA003 for a wrong aggroUID, a voter in the lobby, or a voter in another room', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        await seat(r1.roomId, b);
        const aggro = await liveBy(r1.roomId, a);
        expect(await store.vote(p, b.socketId, b.userUID, uniq('a'), 1)).toEqual({ ok: false, code: 'EA003' });
        expect(await store.vote(p, 's-lobby', 'u-lobby', aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA003' });
        const r2 = await roomBy(c);
        const theirs = await liveBy(r2.roomId, c);
        expect(await store.vote(p, c.socketId, c.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA003' });
        // ... and in another programme.
        expect(await store.vote(uniq('q'), b.socketId, b.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA003' });
        expect((await liveAggroIn(store, p, r1.roomId))?.point).toBe(0);
        expect((await liveAggroIn(store, p, r2.roomId))?.point).toBe(theirs.point);
      });

      it("refuses EA004 on one's own aggro (from any socket) and on a second vote either way", async () => {
        const [a, b] = [mem('a'), mem('b')];
        const a2 = otherSocket(a, '2');
        const b2 = otherSocket(b, '2');
        const r = await roomBy(a);
        await seat(r.roomId, b, a2, b2);
        const aggro = await liveBy(r.roomId, a);
        expect(await store.vote(p, a.socketId, a.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
        expect(await store.vote(p, a2.socketId, a2.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
        expect(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1)).toEqual({ ok: true, point: 1, roomId: r.roomId });
        expect(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
        expect(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, -1)).toEqual({ ok: false, code: 'EA004' });
        expect(await store.vote(p, b2.socketId, b2.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA004' });
        expect(await liveAggroIn(store, p, r.roomId)).toMatchObject({ point: 1, up: 1, down: 0 });
      });

      it('counts exactly one of many concurrent votes by the same user', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        const deltas = Array.from({ length: 20 }, (_, i) => (i % 2 ? 1 : -1) as 1 | -1);
        const outs = await Promise.all(deltas.map((d) => store.vote(p, b.socketId, b.userUID, aggro.aggroUID, d)));
        const oks = outs.flatMap((o) => (o.ok ? [o] : []));
        expect(oks).toHaveLength(1);
        expect(outs.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'EA004')).toBe(true);
        const live = await liveAggroIn(store, p, r.roomId);
        expect(live?.point).toBe(oks[0]?.point);
        expect(Math.abs(live?.point ?? 0)).toBe(1);
        expect((live?.up ?? 0) + (live?.down ?? 0)).toBe(1);
      });

      it('counts every one of many concurrent votes by different users', async () => {
        const r = newRoom({ max: 40, persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        const author = mem('x');
        const voters = Array.from({ length: 30 }, (_, i) => mem(`v${i}`));
        await seat(r.roomId, author, ...voters);
        const aggro = await liveBy(r.roomId, author);
        const outs = await Promise.all(voters.map((v, i) => store.vote(p, v.socketId, v.userUID, aggro.aggroUID, i < 20 ? 1 : -1)));
        expect(outs.every((o) => o.ok)).toBe(true);
        expect(await liveAggroIn(store, p, r.roomId)).toMatchObject({ point: 10, up: 20, down: 10 });
      });

      it('refuses EA003 once the aggro has ended', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        await store.endAggro(p, r.roomId, aggro.aggroUID);
        expect(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1)).toEqual({ ok: false, code: 'EA003' });
      });
    });

    // ---- liveAggros / endAggro ----------------------------------------------------------

    describe('liveAggros and endAggro', () => {
      it('liveAggros reports the live aggros of the programme only, one a room', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        await roomBy(c);
        expect(await liveAggroIn(store, p, r1.roomId)).toBeNull();
        expect(await store.liveAggros(p)).toEqual([]);
        const x = await liveBy(r1.roomId, a);
        const y = await liveBy(r2.roomId, b);
        const byId = (l: LiveAggro[]) => [...l].sort((m, n) => m.aggroUID.localeCompare(n.aggroUID));
        expect(byId(await store.liveAggros(p))).toEqual(byId([x, y]));
        expect(await liveAggroIn(store, p, r2.roomId)).toEqual(y);
        expect(await store.liveAggros(uniq('q'))).toEqual([]);
        expect(await liveAggroIn(store, uniq('q'), r1.roomId)).toBeNull();
      });

      it('endAggro returns the ended aggro once; later calls and wrong ids get null', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        expect(await store.endAggro(p, r.roomId, uniq('a'))).toBeNull();
        expect(await store.endAggro(p, uniq('r'), aggro.aggroUID)).toBeNull();
        expect(await liveAggroIn(store, p, r.roomId)).not.toBeNull();
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).toEqual({ ...aggro, point: 1, up: 1 });
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).toBeNull();
        expect(await liveAggroIn(store, p, r.roomId)).toBeNull();
        expect(await store.liveAggros(p)).toEqual([]);
        // The room is free for the next aggro.
        await liveBy(r.roomId, b);
      });

      it('exactly one of many concurrent endAggro calls gets the aggro', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const aggro = await liveBy(r.roomId, a);
        const outs = await Promise.all(Array.from({ length: 20 }, () => store.endAggro(p, r.roomId, aggro.aggroUID)));
        expect(outs.filter((o) => o !== null)).toEqual([aggro]);
      });
    });

    // ---- claimCountWindow / claimPointWindow ----------------------------------------------

    describe('claimCountWindow and claimPointWindow', () => {
      it('has one owner while open; keys and programmes are independent', async () => {
        expect(await store.claimCountWindow(p, 'r1', 60_000)).toBe(true);
        expect(await store.claimCountWindow(p, 'r1', 60_000)).toBe(false);
        expect(await store.claimCountWindow(p, 'r2', 60_000)).toBe(true);
        expect(await store.claimPointWindow(p, 'a1', 60_000)).toBe(true);
        expect(await store.claimCountWindow(uniq('q'), 'r1', 60_000)).toBe(true);
        expect(await store.claimCountWindow(p, 'r1', 60_000)).toBe(false);
      });

      it('a count window and a point window of the same id are independent', async () => {
        expect(await store.claimCountWindow(p, 'x1', 60_000)).toBe(true);
        expect(await store.claimPointWindow(p, 'x1', 60_000)).toBe(true);
        expect(await store.claimPointWindow(p, 'x1', 60_000)).toBe(false);
      });

      it('gives the window to exactly one of many concurrent claims', async () => {
        const outs = await Promise.all(Array.from({ length: 25 }, () => store.claimCountWindow(p, 'busy', 60_000)));
        expect(outs.filter(Boolean)).toHaveLength(1);
      });

      it("closes the window by itself after ttlMs of the store's clock", async () => {
        const { clock } = h;
        if (clock.advance) {
          const ttl = 10_000;
          expect(await store.claimCountWindow(p, 'k', ttl)).toBe(true);
          clock.advance(ttl - 1);
          expect(await store.claimCountWindow(p, 'k', ttl)).toBe(false);
          clock.advance(2);
          expect(await store.claimCountWindow(p, 'k', ttl)).toBe(true);
          expect(await store.claimCountWindow(p, 'k', ttl)).toBe(false);
          return;
        }
        // A real clock: the window must stay shut at first and open within a bounded wait.
        const ttl = 150;
        const start = clock.now();
        expect(await store.claimCountWindow(p, 'k', ttl)).toBe(true);
        expect(await store.claimCountWindow(p, 'k', ttl)).toBe(false);
        let reopened = false;
        while (!reopened && clock.now() - start < ttl * 20) {
          await sleep(10);
          reopened = await store.claimCountWindow(p, 'k', ttl);
        }
        expect(reopened).toBe(true);
        // 5 ms of slack for a backend whose clock ticks apart from this process's.
        expect(clock.now() - start).toBeGreaterThanOrEqual(ttl - 5);
      });
    });

    // ---- flushCount / flushPoint --------------------------------------------------------

    describe('flushCount and flushPoint', () => {
      it('flushCount: null while the count is the last one sent, the count once it changed', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        // The creator's count (1) went out with `addRoom`.
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        await seat(r.roomId, b);
        expect(await store.flushCount(p, r.roomId)).toBe(2);
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        // A change and its undoing within one window send nothing.
        await seat(r.roomId, c);
        await store.leave(p, c.socketId);
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        await store.leave(p, b.socketId);
        expect(await store.flushCount(p, r.roomId)).toBe(1);
      });

      it('flushCount: an empty persistent room starts at the count 0 of its addRoom', async () => {
        const r = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        await seat(r.roomId, mem('a'));
        expect(await store.flushCount(p, r.roomId)).toBe(1);
      });

      it('flushCount: null once the room is deleted, and for unknown rooms', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        await store.leave(p, b.socketId);
        await store.leave(p, a.socketId);
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        expect(await store.flushCount(p, uniq('r'))).toBeNull();
        expect(await store.flushCount(uniq('q'), r.roomId)).toBeNull();
      });

      it('flushCount closes the count window', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        const claim = () => store.claimCountWindow(p, r.roomId, 60_000);
        expect(await claim()).toBe(true);
        expect(await claim()).toBe(false);
        await seat(r.roomId, b);
        expect(await store.flushCount(p, r.roomId)).toBe(2);
        expect(await claim()).toBe(true);
        // Also when there was nothing to send.
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        expect(await claim()).toBe(true);
      });

      it('flushPoint: the point once changed, and `now` becomes the time it was sent', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b, c);
        const aggro = await liveBy(r.roomId, a);
        // The `aggro` event carried point 0.
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, aggro.startedAt + 10)).toBeNull();
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        const sentAt = aggro.startedAt + 500;
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, sentAt)).toBe(1);
        expect(await liveAggroIn(store, p, r.roomId)).toMatchObject({ point: 1, pointSent: 1, pointSentAt: sentAt });
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, sentAt + 500)).toBeNull();
        expect((await liveAggroIn(store, p, r.roomId))?.pointSentAt).toBe(sentAt);
        expectOk(await store.vote(p, c.socketId, c.userUID, aggro.aggroUID, -1));
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, sentAt + 1000)).toBe(0);
        expect(await liveAggroIn(store, p, r.roomId)).toMatchObject({ point: 0, pointSent: 0, pointSentAt: sentAt + 1000 });
      });

      it('flushPoint: null for another aggroUID and once the aggro is no longer live', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        const now = h.clock.now();
        expect(await store.flushPoint(p, r.roomId, uniq('a'), now)).toBeNull();
        expect(await store.flushPoint(p, uniq('r'), aggro.aggroUID, now)).toBeNull();
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).toMatchObject({ point: 1, pointSent: 0 });
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, now)).toBeNull();
      });

      it('flushPoint: null after the last member left (aggro ended with the room)', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        await store.leave(p, b.socketId);
        await store.leave(p, a.socketId);
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, h.clock.now())).toBeNull();
      });

      it('flushPoint closes the point window', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        const claim = () => store.claimPointWindow(p, aggro.aggroUID, 60_000);
        expect(await claim()).toBe(true);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        expect(await claim()).toBe(false);
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, h.clock.now())).toBe(1);
        expect(await claim()).toBe(true);
      });
      it('a room deleted or an aggro ended closes its window with it', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        const aggro = await liveBy(r.roomId, a);
        expect(await store.claimCountWindow(p, r.roomId, 60_000)).toBe(true);
        expect(await store.claimPointWindow(p, aggro.aggroUID, 60_000)).toBe(true);
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).not.toBeNull();
        expect(await store.claimPointWindow(p, aggro.aggroUID, 60_000)).toBe(true);
        await store.leave(p, a.socketId);
        expect(await store.claimCountWindow(p, r.roomId, 60_000)).toBe(true);
        const d = await roomBy(mem('d'));
        expect(await store.claimCountWindow(p, d.roomId, 60_000)).toBe(true);
        expect(await store.deleteRoom(p, d.roomId)).not.toBeNull();
        expect(await store.claimCountWindow(p, d.roomId, 60_000)).toBe(true);
      });
    });

    // ---- announcements ------------------------------------------------------------------

    describe('announcements', () => {
      /** What was announced since the last call, for this test's programme. */
      let seen = 0;
      beforeEach(() => {
        seen = 0;
      });
      async function announcedSince(): Promise<Announcement[]> {
        const all = await h.announced(p);
        const fresh = all.slice(seen);
        seen = all.length;
        return fresh;
      }

      it('createRoom: addRoom to the lobby except the creator, as roomSummary makes it; none when refused or existing', async () => {
        const a = mem('a');
        const locked = newRoom({ title: 'Locked', max: 5, passwordHash: 'scrypt$c2FsdA$a2V5' });
        const out = expectOk(await store.createRoom(p, locked, a, 2));
        const summary = { roomId: locked.roomId, title: 'Locked', max: 5, count: 1, password: true };
        expect(roomSummary(out.room)).toEqual(summary);
        expect(await announcedSince()).toEqual([{ to: 'lobby', except: a.socketId, event: 'addRoom', args: [summary] }]);
        // An operator's room: nobody to except, count 0, no password field at all.
        const open = newRoom({ persistent: true, title: 'Open', max: 3 });
        expectOk(await store.createRoom(p, open, null, 2));
        const [added] = await announcedSince();
        expect(added).toEqual({ to: 'lobby', except: null, event: 'addRoom', args: [{ roomId: open.roomId, title: 'Open', max: 3, count: 0 }] });
        expect(added?.args[0]).not.toHaveProperty('password');
        expect(await store.createRoom(p, newRoom(), mem('b'), 2)).toEqual({ ok: false, code: 'EC002' });
        expect(expectOk(await store.createRoom(p, open, null, 2)).existed).toBe(true);
        expect(await announcedSince()).toEqual([]);
      });

      it("createRoom by the last member of a room: that room's deleteRoom, then the new addRoom", async () => {
        const a = mem('a');
        const r1 = await roomBy(a);
        await announcedSince();
        const r2 = newRoom();
        expectOk(await store.createRoom(p, r2, a, 10));
        expect((await announcedSince()).map((x) => [x.event, x.args])).toEqual([
          ['deleteRoom', [{ roomId: r1.roomId }]],
          ['addRoom', [{ roomId: r2.roomId, title: r2.title, max: r2.max, count: 1 }]],
        ]);
      });

      it('leave: deleteRoom to the lobby only when it deletes the room', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const kept = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, kept, null, 10));
        await seat(kept.roomId, c);
        await announcedSince();
        await store.leave(p, b.socketId);
        await store.leave(p, c.socketId);
        expect(await announcedSince()).toEqual([]);
        await store.leave(p, a.socketId);
        expect(await announcedSince()).toEqual([{ to: 'lobby', except: null, event: 'deleteRoom', args: [{ roomId: r.roomId }] }]);
      });

      it('deleteRoom: deleteRoom to the lobby, once; nothing for an unknown room', async () => {
        const r = await roomBy(mem('a'));
        await announcedSince();
        expect(await store.deleteRoom(p, r.roomId)).not.toBeNull();
        expect(await store.deleteRoom(p, r.roomId)).toBeNull();
        expect(await store.deleteRoom(p, uniq('r'))).toBeNull();
        expect(await announcedSince()).toEqual([{ to: 'lobby', except: null, event: 'deleteRoom', args: [{ roomId: r.roomId }] }]);
      });

      it('join: the live aggro to the joiner alone, as aggroMessage makes it (photoURL kept, titleBroad not sent)', async () => {
        const a = mem('a', { photoURL: 'https://example.com/a.png' });
        const [b, c] = [mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        await announcedSince();
        const aggro = newAggro(r.roomId, a, h.clock.now(), { type: 'AP', photoURL: a.photoURL, titleBroad: 'Show_TV1' });
        expect(await store.startAggro(p, a.socketId, aggro, COOLDOWN)).toEqual({ ok: true });
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        const out = expectOk(await store.join(p, c, r.roomId));
        const message = {
          displayName: 'a',
          msg: 'go!',
          roomId: r.roomId,
          type: 'AP',
          userUID: a.userUID,
          aggroUID: aggro.aggroUID,
          photoURL: 'https://example.com/a.png',
          point: 1,
          ts: aggro.startedAt,
          expiresAt: aggro.expiresAt,
        };
        expect(aggroMessage(out.aggro!)).toEqual(message);
        expect(await announcedSince()).toEqual([{ to: 'socket', socketId: c.socketId, event: 'aggro', args: [message] }]);
      });

      it('join: an aggro without photoURL is announced without it; a room without an aggro announces nothing', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        await announcedSince();
        expect(await announcedSince()).toEqual([]);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.join(p, c, r.roomId));
        const [sent] = await announcedSince();
        expect(sent).toMatchObject({ to: 'socket', socketId: c.socketId, event: 'aggro' });
        expect(sent?.args).toEqual([aggroMessage(aggro)]);
        expect(sent?.args[0]).not.toHaveProperty('photoURL');
        expect(sent?.args[0]).not.toHaveProperty('titleBroad');
      });

      it('join from a room as its last member: that room goes with deleteRoom', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r1 = await roomBy(a);
        const r2 = await roomBy(b);
        await announcedSince();
        expectOk(await store.join(p, a, r2.roomId));
        expect(await announcedSince()).toEqual([{ to: 'lobby', except: null, event: 'deleteRoom', args: [{ roomId: r1.roomId }] }]);
      });

      it('flushCount: the count to the lobby when it changed, nothing when not', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await announcedSince();
        expect(await store.flushCount(p, r.roomId)).toBeNull();
        await seat(r.roomId, b);
        expect(await store.flushCount(p, r.roomId)).toBe(2);
        expect(await announcedSince()).toEqual([{ to: 'lobby', except: null, event: 'count', args: [{ roomId: r.roomId, count: 2 }] }]);
      });

      it('chat: the message to its room except its author, history kept or not; nothing from outside the room', async () => {
        const [a, b, c] = [mem('a'), mem('b'), mem('c')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        await announcedSince();
        const m = { displayName: a.displayName, msg: 'hello', roomId: r.roomId, type: 'N' as const, userUID: a.userUID, id: uniq('m'), ts: h.clock.now(), photoURL: 'https://example.com/a.png' };
        expect(await store.chat(p, a.socketId, r.roomId, m, 50)).toBe(true);
        expect(await store.chat(p, b.socketId, r.roomId, { ...m, id: uniq('m'), userUID: b.userUID }, 0)).toBe(true);
        expect(await store.chat(p, c.socketId, r.roomId, { ...m, id: uniq('m'), userUID: c.userUID }, 50)).toBe(false);
        const heard = await announcedSince();
        expect(heard).toHaveLength(2);
        expect(heard[0]).toEqual({ to: 'room', roomId: r.roomId, except: a.socketId, event: 'chat', args: [m] });
        expect(heard[1]).toMatchObject({ to: 'room', roomId: r.roomId, except: b.socketId, event: 'chat' });
      });

      it('flushPoint: aggroPoint to the room when it changed, nothing when not', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        await announcedSince();
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, h.clock.now())).toBeNull();
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, -1));
        expect(await store.flushPoint(p, r.roomId, aggro.aggroUID, h.clock.now())).toBe(-1);
        expect(await announcedSince()).toEqual([
          { to: 'room', roomId: r.roomId, except: null, event: 'aggroPoint', args: [{ aggroUID: aggro.aggroUID, point: -1 }] },
        ]);
      });

      it('announceEnd: the final total first when given, then stopAggro or deleteAggro', async () => {
        const r = await roomBy(mem('a'));
        await announcedSince();
        await store.announceEnd(p, r.roomId, 'ag-1', 4, 'stopAggro');
        await store.announceEnd(p, r.roomId, 'ag-2', null, 'deleteAggro');
        expect(await announcedSince()).toEqual([
          { to: 'room', roomId: r.roomId, except: null, event: 'aggroPoint', args: [{ aggroUID: 'ag-1', point: 4 }] },
          { to: 'room', roomId: r.roomId, except: null, event: 'stopAggro', args: ['ag-1'] },
          { to: 'room', roomId: r.roomId, except: null, event: 'deleteAggro', args: ['ag-2'] },
        ]);
      });

      it('decisions that only read or change nothing broadcast announce nothing', async () => {
        const [a, b] = [mem('a'), mem('b')];
        const r = await roomBy(a);
        await announcedSince();
        await seat(r.roomId, b);
        const aggro = await liveBy(r.roomId, a);
        expectOk(await store.vote(p, b.socketId, b.userUID, aggro.aggroUID, 1));
        await store.listRooms(p);
        await store.liveAggros(p);
        expect(await store.claimCountWindow(p, r.roomId, 60_000)).toBe(true);
        await store.claimSession(p, a.userUID, a.socketId);
        expect(await store.endAggro(p, r.roomId, aggro.aggroUID)).not.toBeNull();
        expect(await announcedSince()).toEqual([]);
      });
    });

    // ---- sessions -----------------------------------------------------------------------

    describe('claimSession and releaseSession', () => {
      it('returns the session a claim replaces; re-claiming the current one replaces nothing', async () => {
        expect(await store.claimSession(p, 'u-a', 's-1')).toBeNull();
        expect(await store.claimSession(p, 'u-a', 's-2')).toBe('s-1');
        expect(await store.claimSession(p, 'u-a', 's-2')).toBeNull();
        expect(await store.claimSession(p, 'u-a', 's-3')).toBe('s-2');
        // Per user and per programme.
        expect(await store.claimSession(p, 'u-b', 's-9')).toBeNull();
        expect(await store.claimSession(uniq('q'), 'u-a', 's-4')).toBeNull();
      });

      it('releaseSession forgets the session only when it is still the current one', async () => {
        expect(await store.claimSession(p, 'u-a', 's-1')).toBeNull();
        expect(await store.claimSession(p, 'u-a', 's-2')).toBe('s-1');
        // The replaced socket disconnects afterwards: it must not remove the new session.
        await store.releaseSession(p, 'u-a', 's-1');
        expect(await store.claimSession(p, 'u-a', 's-3')).toBe('s-2');
        await store.releaseSession(p, 'u-a', 's-3');
        expect(await store.claimSession(p, 'u-a', 's-4')).toBeNull();
        // Releasing what was never claimed is harmless.
        await store.releaseSession(uniq('q'), 'u-z', 's-z');
      });

      it('under concurrent claims every replaced session is returned exactly once', async () => {
        const sockets = Array.from({ length: 15 }, (_, i) => `s-${i}`);
        const outs = await Promise.all(sockets.map((s) => store.claimSession(p, 'u-a', s)));
        const last = await store.claimSession(p, 'u-a', 's-final');
        expect(last).not.toBeNull();
        const replaced = [...outs.filter((o): o is string => o !== null), last!];
        expect(outs.filter((o) => o === null)).toHaveLength(1);
        expect([...replaced].sort()).toEqual([...sockets].sort());
      });
    });

    describe('sessionOf and sessionCount', () => {
      it("sessionOf follows the user's current session; null when there is none", async () => {
        expect(await store.sessionOf(p, 'u-a')).toBeNull();
        await store.claimSession(p, 'u-a', 's-1');
        expect(await store.sessionOf(p, 'u-a')).toBe('s-1');
        await store.claimSession(p, 'u-a', 's-2');
        expect(await store.sessionOf(p, 'u-a')).toBe('s-2');
        // The replaced socket's release does not touch the current session.
        await store.releaseSession(p, 'u-a', 's-1');
        expect(await store.sessionOf(p, 'u-a')).toBe('s-2');
        await store.releaseSession(p, 'u-a', 's-2');
        expect(await store.sessionOf(p, 'u-a')).toBeNull();
        // Per programme.
        await store.claimSession(p, 'u-a', 's-3');
        expect(await store.sessionOf(uniq('q'), 'u-a')).toBeNull();
      });

      it('sessionCount counts users with a session, once each, in this programme only', async () => {
        const q = uniq('q');
        expect(await store.sessionCount(p)).toBe(0);
        await store.claimSession(p, 'u-a', 's-a1');
        await store.claimSession(p, 'u-b', 's-b1');
        await store.claimSession(p, 'u-a', 's-a2');
        await store.claimSession(q, 'u-c', 's-c1');
        expect(await store.sessionCount(p)).toBe(2);
        expect(await store.sessionCount(q)).toBe(1);
        await store.releaseSession(p, 'u-a', 's-a1');
        expect(await store.sessionCount(p)).toBe(2);
        await store.releaseSession(p, 'u-a', 's-a2');
        expect(await store.sessionCount(p)).toBe(1);
        expect(await store.sessionCount(uniq('nowhere'))).toBe(0);
      });
    });

    // ---- sessions held through a blip (spec 7.1) ---------------------------------------

    describe('resumeSession, holdSession, expireSession', () => {
      it('a held session keeps its seat and its place in the count; resuming on a new socket takes the seat over in place, announcing nothing', async () => {
        const a = mem('a');
        const b = mem('b');
        const r = await roomBy(a, { max: 2 });
        await seat(r.roomId, b);
        await store.resumeSession(p, b, 'c1');
        expect(await store.holdSession(p, b.userUID, b.socketId, 'c1', 100, 200)).toBe('held');
        // Still full: the seat counts toward max.
        expect(await store.join(p, mem('c'), r.roomId)).toEqual({ ok: false, code: 'EJ002' });
        expect(await store.sessionCount(p)).toBe(1);
        const before = (await h.announced(p)).length;
        const b2 = otherSocket(b, 'new');
        expect(await store.resumeSession(p, b2, 'c2')).toEqual({ previous: b.socketId, roomId: r.roomId, heldSince: 100 });
        expect((await h.announced(p)).length).toBe(before);
        expect(await store.roomOf(p, b2.socketId)).toBe(r.roomId);
        expect(await store.roomOf(p, b.socketId)).toBeNull();
        expect((await store.getRoom(p, r.roomId))!.count).toBe(2);
        expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket([a, b2]));
        // The old socket's leave finds nothing; the hold is over.
        expect(await store.leave(p, b.socketId)).toBeNull();
        expect(await store.expireSession(p, b.userUID, b.socketId, Number.POSITIVE_INFINITY)).toEqual({ state: 'gone' });
        expect(await store.heldSessions(p)).toEqual([]);
      });

      it("a dead server's sweep holds a session only while it is on one of that server's connections", async () => {
        const a = mem('a');
        await roomBy(a);
        // socket.io recovered it on server n1 under the same socket id before n0 was found dead.
        await store.resumeSession(p, a, 'n1/line');
        expect(await store.holdSession(p, a.userUID, a.socketId, 'n0/*', 10, 20)).toBe('replaced');
        expect(await store.heldSessions(p)).toEqual([]);
        expect(await store.holdSession(p, a.userUID, a.socketId, 'n1/*', 10, 20)).toBe('held');
      });

      it('a socket recovered with the same id on a new connection ends the hold, and the old connection can no longer hold it', async () => {
        const a = mem('a');
        await roomBy(a);
        await store.resumeSession(p, a, 'c1');
        expect(await store.holdSession(p, a.userUID, a.socketId, 'c1', 10, 20)).toBe('held');
        expect(await store.resumeSession(p, a, 'c2')).toMatchObject({ previous: null, heldSince: 10 });
        // The old connection's late hold (its disconnect seen after the recovery) is refused.
        expect(await store.holdSession(p, a.userUID, a.socketId, 'c1', 10, 20)).toBe('replaced');
        expect(await store.expireSession(p, a.userUID, a.socketId, Number.POSITIVE_INFINITY)).toEqual({ state: 'gone' });
        expect(await store.holdSession(p, 'u-nobody', 's-nobody', null, 10, 20)).toBe('none');
      });

      it('the grace ends once: the member leaves as on leave (announced alike) and the session is forgotten; not before its time', async () => {
        const a = mem('a');
        const b = mem('b');
        const r = await roomBy(a);
        await seat(r.roomId, b);
        await store.resumeSession(p, b, 'c1');
        expect(await store.holdSession(p, b.userUID, b.socketId, null, 100, 200)).toBe('held');
        expect(await store.heldSessions(p)).toEqual([{ userUID: b.userUID, socketId: b.socketId, until: 200 }]);
        expect(await store.expireSession(p, b.userUID, b.socketId, 199)).toEqual({ state: 'not-due' });
        const outs = await Promise.all(Array.from({ length: 8 }, () => store.expireSession(p, b.userUID, b.socketId, 200)));
        const expired = outs.filter((o) => o.state === 'expired');
        expect(expired).toHaveLength(1);
        expect(expired[0]).toMatchObject({ left: { roomId: r.roomId, count: 1, deleted: false } });
        expect(await store.sessionOf(p, b.userUID)).toBeNull();
        expect((await store.getRoom(p, r.roomId))!.count).toBe(1);
      });

      it('a resume and the end of the grace racing: exactly one wins', async () => {
        for (let i = 0; i < 10; i++) {
          const a = mem(`a${i}`);
          const r = await roomBy(a);
          await store.resumeSession(p, a, 'c1');
          await store.holdSession(p, a.userUID, a.socketId, 'c1', 0, 1);
          const a2 = otherSocket(a, 'back');
          const [resumed, ended] = await Promise.all([store.resumeSession(p, a2, 'c2'), store.expireSession(p, a.userUID, a.socketId, 5)]);
          if (ended.state === 'expired') {
            expect(resumed.roomId).toBeNull();
          } else {
            expect(ended.state).toBe('gone');
            expect(resumed.roomId).toBe(r.roomId);
          }
        }
      });
    });

    // ---- kicks --------------------------------------------------------------------------

    describe('kick and kickedFor', () => {
      it('holds for the user in that programme only; a later kick replaces the time left', async () => {
        expect(await store.kickedFor(p, 'u-a')).toBe(0);
        await store.kick(p, 'u-a', 60_000);
        const left = await store.kickedFor(p, 'u-a');
        expect(left).toBeGreaterThan(59_000);
        expect(left).toBeLessThanOrEqual(60_000);
        expect(await store.kickedFor(p, 'u-b')).toBe(0);
        expect(await store.kickedFor(uniq('q'), 'u-a')).toBe(0);
        await store.kick(p, 'u-a', 5_000);
        expect(await store.kickedFor(p, 'u-a')).toBeLessThanOrEqual(5_000);
      });

      it('outlives the programme being released, and runs out by itself', async () => {
        const { clock } = h;
        const ttl = clock.advance ? 10_000 : 150;
        const start = clock.now();
        await store.kick(p, 'u-a', ttl);
        expect(await store.releaseIfIdle(p)).toBe(true);
        expect(await store.kickedFor(p, 'u-a')).toBeGreaterThan(0);
        if (clock.advance) {
          clock.advance(ttl - 1);
          expect(await store.kickedFor(p, 'u-a')).toBe(1);
          clock.advance(1);
          expect(await store.kickedFor(p, 'u-a')).toBe(0);
          expect(await store.releaseIfIdle(p)).toBe(true);
          expect(await store.programs()).not.toContain(p);
          return;
        }
        // A real clock: gone within a bounded wait, not before its time (5 ms of slack for a
        // backend whose clock ticks apart from this process's).
        while ((await store.kickedFor(p, 'u-a')) > 0 && clock.now() - start < ttl * 20) await sleep(10);
        expect(await store.kickedFor(p, 'u-a')).toBe(0);
        expect(clock.now() - start).toBeGreaterThanOrEqual(ttl - 5);
      });
    });

    // ---- programs / releaseIfIdle / ping / close ----------------------------------------

    describe('programs, releaseIfIdle, ping and close', () => {
      it('programs lists the programmes that have rooms or sessions', async () => {
        const q = uniq('q');
        await roomBy(mem('a'));
        expect(await store.claimSession(q, 'u-b', 's-b')).toBeNull();
        const list = await store.programs();
        expect(list).toContain(p);
        expect(list).toContain(q);
      });

      it('releaseIfIdle is false while the programme has a user room or a session', async () => {
        const a = mem('a');
        const r = await roomBy(a);
        expect(await store.releaseIfIdle(p)).toBe(false);
        await store.leave(p, a.socketId);
        expect(await store.getRoom(p, r.roomId)).toBeNull();
        expect(await store.claimSession(p, a.userUID, a.socketId)).toBeNull();
        expect(await store.releaseIfIdle(p)).toBe(false);
        expect(await store.programs()).toContain(p);
      });

      it('releaseIfIdle is false while a persistent room has a member', async () => {
        const a = mem('a');
        const r = newRoom({ persistent: true });
        expectOk(await store.createRoom(p, r, null, 10));
        await seat(r.roomId, a);
        expect(await store.releaseIfIdle(p)).toBe(false);
        expect(await store.members(p, r.roomId)).toEqual([a]);
        expect(await store.programs()).toContain(p);
      });

      it('releaseIfIdle is true when only empty persistent rooms remain; restoring them again works', async () => {
        const a = mem('a');
        const r1 = newRoom({ persistent: true });
        const r2 = newRoom({ persistent: true, passwordHash: 'scrypt$c2FsdA$a2V5' });
        expectOk(await store.createRoom(p, r1, null, 10));
        expectOk(await store.createRoom(p, r2, null, 10));
        await seat(r1.roomId, a);
        await liveBy(r1.roomId, a);
        expect(await store.claimSession(p, a.userUID, a.socketId)).toBeNull();
        // The last member leaves (its aggro ends with it), then the session goes.
        expect((await store.leave(p, a.socketId))?.endedAggro).toBeDefined();
        expect(await store.releaseIfIdle(p)).toBe(false);
        await store.releaseSession(p, a.userUID, a.socketId);
        expect(await store.releaseIfIdle(p)).toBe(true);
        // When the programme comes back its rooms are restored from the database: whether the
        // store still held them or not, each is there exactly once, as it was.
        for (const r of [r1, r2]) expectOk(await store.createRoom(p, r, null, Number.MAX_SAFE_INTEGER));
        expect(await store.listRooms(p)).toEqual([
          { ...r1, count: 0 },
          { ...r2, count: 0 },
        ]);
        expect(await store.liveAggros(p)).toEqual([]);
      });

      it('releaseIfIdle is true once nothing is left, and the programme is forgotten', async () => {
        const a = mem('a');
        expect(await store.claimSession(p, a.userUID, a.socketId)).toBeNull();
        const r = await roomBy(a);
        expect(await store.claimCountWindow(p, r.roomId, 60_000)).toBe(true);
        await store.leave(p, a.socketId);
        await store.releaseSession(p, a.userUID, a.socketId);
        expect(await store.releaseIfIdle(p)).toBe(true);
        expect(await store.programs()).not.toContain(p);
        expect(await store.listRooms(p)).toEqual([]);
        expect(await store.claimSession(p, a.userUID, 's-new')).toBeNull();
      });

      it('releaseIfIdle is true for a programme the store never saw', async () => {
        expect(await store.releaseIfIdle(uniq('q'))).toBe(true);
      });

      it('a cooldown still running survives releaseIfIdle', async () => {
        const a = mem('a');
        const r1 = await roomBy(a);
        const t0 = h.clock.now();
        await liveBy(r1.roomId, a, t0);
        await store.leave(p, a.socketId);
        expect(await store.releaseIfIdle(p)).toBe(true);
        // The user comes straight back: still cooling down.
        const r2 = await roomBy(a);
        expect(await store.startAggro(p, a.socketId, newAggro(r2.roomId, a, t0 + 1), COOLDOWN)).toEqual({
          ok: false,
          code: 'EA002',
        });
      });

      it('nothing crosses programmes: rooms, seats, aggros, cooldowns and sessions', async () => {
        const q = uniq('q');
        const a = mem('a');
        const r = await roomBy(a);
        const t0 = h.clock.now();
        await liveBy(r.roomId, a, t0);
        expect(await store.claimSession(p, a.userUID, a.socketId)).toBeNull();
        expect(await store.roomOf(q, a.socketId)).toBeNull();
        expect(await store.listRooms(q)).toEqual([]);
        expect(await store.members(q, r.roomId)).toEqual([]);
        expect(await liveAggroIn(store, q, r.roomId)).toBeNull();
        expect(await store.claimSession(q, a.userUID, 's-other')).toBeNull();
        const rq = newRoom();
        expectOk(await store.createRoom(q, rq, a, 10));
        // Same socket id in q: its seat in p is untouched, and the cooldown of p does not apply in q.
        expect(await store.roomOf(p, a.socketId)).toBe(r.roomId);
        expect(await store.startAggro(q, a.socketId, newAggro(rq.roomId, a, t0 + 1), COOLDOWN)).toEqual({ ok: true });
      });

      // ---- room owners (spec 9) ------------------------------------------------------------

      describe('room owners', () => {
        /** A user room owned by its creator, as the domain makes it. */
        async function ownedBy(creator: Member, extra: Partial<Room> = {}): Promise<Room> {
          return roomBy(creator, { ownerUID: creator.userUID, ...extra });
        }
        const ownerNotices = async (roomId: string) =>
          (await h.announced(p)).filter((x) => x.to === 'room' && x.roomId === roomId && x.event === 'system').map((x) => x.args[0]);

        it('keeps the owner with the room; join answers it; an operator room has none', async () => {
          const [a, b] = [mem('a'), mem('b')];
          const r = await ownedBy(a);
          expect((await store.getRoom(p, r.roomId))?.ownerUID).toBe(a.userUID);
          expect(await store.join(p, b, r.roomId)).toMatchObject({ ok: true, ownerUID: a.userUID });
          const op = newRoom({ persistent: true });
          expectOk(await store.createRoom(p, op, null, 100));
          const joined = expectOk(await store.join(p, a, op.roomId));
          expect(joined.ownerUID).toBeUndefined();
        });

        it('the owner leaving hands the room to the longest-present member, announced in the same step', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const r = await ownedBy(a);
          await seat(r.roomId, b, c);
          const out = await store.leave(p, a.socketId);
          expect(out?.owner).toEqual({ userUID: b.userUID, displayName: b.displayName });
          expect((await store.getRoom(p, r.roomId))?.ownerUID).toBe(b.userUID);
          expect(await ownerNotices(r.roomId)).toEqual([{ code: 'OWNER', message: `${b.displayName} now owns this room.`, userUID: b.userUID }]);
          // A member who is not the owner leaving changes nothing.
          expect((await store.leave(p, c.socketId))?.owner).toBeUndefined();
          expect((await store.getRoom(p, r.roomId))?.ownerUID).toBe(b.userUID);
        });

        it('longest present means arrival order, a comeback counting from its return', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const r = await ownedBy(a);
          await seat(r.roomId, b, c);
          await store.leave(p, b.socketId);
          await seat(r.roomId, b);
          expect((await store.leave(p, a.socketId))?.owner?.userUID).toBe(c.userUID);
        });

        it('a session resumed on a new socket keeps its place in the arrival order (a blip is not a comeback)', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const r = await ownedBy(a);
          await seat(r.roomId, b, c);
          await store.resumeSession(p, b, 'c1');
          expect(await store.holdSession(p, b.userUID, b.socketId, 'c1', 100, 200)).toBe('held');
          const b2 = otherSocket(b, 'new');
          await store.resumeSession(p, b2, 'c2');
          expect((await store.leave(p, a.socketId))?.owner?.userUID).toBe(b.userUID);
        });

        it('a join or create elsewhere is a leave: it hands over too; the last one out deletes the room, no heir', async () => {
          const [a, b] = [mem('a'), mem('b')];
          const r = await ownedBy(a);
          await seat(r.roomId, b);
          const other = await roomBy(mem('z'));
          const joined = expectOk(await store.join(p, a, other.roomId));
          expect(joined.left?.owner?.userUID).toBe(b.userUID);
          const made = expectOk(await store.createRoom(p, newRoom({ ownerUID: b.userUID }), b, 100));
          expect(made.left).toMatchObject({ deleted: true });
          expect(made.left?.owner).toBeUndefined();
        });

        it("another socket of the owner still in the room keeps it (a duplicate-session handover)", async () => {
          const [a, b] = [mem('a'), mem('b')];
          const r = await ownedBy(a);
          await seat(r.roomId, b, otherSocket(a, 'new'));
          expect((await store.leave(p, a.socketId))?.owner).toBeUndefined();
          expect((await store.getRoom(p, r.roomId))?.ownerUID).toBe(a.userUID);
        });

        it('the owner and the next member leaving at once: exactly one new owner, announced in decision order', async () => {
          for (let round = 0; round < 5; round++) {
            const [a, b, c, d] = [mem(`a${round}`), mem(`b${round}`), mem(`c${round}`), mem(`d${round}`)];
            const r = await ownedBy(a);
            await seat(r.roomId, b, c, d);
            const outs = await Promise.all([store.leave(p, a.socketId), store.leave(p, b.socketId)]);
            const owner = (await store.getRoom(p, r.roomId))?.ownerUID;
            expect(owner).toBe(c.userUID);
            const notices = (await ownerNotices(r.roomId)) as { userUID: string }[];
            // The last notice names the owner as the state has it; every handover was announced once.
            expect(notices.at(-1)?.userUID).toBe(c.userUID);
            expect(notices.map((n) => n.userUID).sort()).toEqual(outs.flatMap((o) => (o?.owner ? [o.owner.userUID] : [])).sort());
          }
        });

        it('removeMember: only the owner (EO001), from its own room (EM001), a member other than itself (EV001)', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const r = await ownedBy(a);
          await seat(r.roomId, b);
          const now = h.clock.now();
          expect(await store.removeMember(p, b, a.userUID, now, now + 1000)).toEqual({ ok: false, code: 'EO001' });
          expect(await store.removeMember(p, c, b.userUID, now, now + 1000)).toEqual({ ok: false, code: 'EM001' });
          expect(await store.removeMember(p, a, a.userUID, now, now + 1000)).toEqual({ ok: false, code: 'EV001' });
          expect(await store.removeMember(p, a, c.userUID, now, now + 1000)).toEqual({ ok: false, code: 'EV001' });
          expect((await store.getRoom(p, r.roomId))?.count).toBe(2);
          expect(await store.join(p, b, r.roomId, { now })).toMatchObject({ ok: true, already: true });
        });

        it('removeMember takes every socket of the user out and blocks its rejoin until the block ends (EJ005)', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const b2 = otherSocket(b, 'tab');
          const r = await ownedBy(a);
          await seat(r.roomId, b, b2, c);
          const now = h.clock.now();
          const out = expectOk(await store.removeMember(p, a, b.userUID, now, now + 60_000));
          expect(sortBySocket(out.removed)).toEqual(sortBySocket([b, b2]));
          expect(out.count).toBe(2);
          expect(await store.roomOf(p, b.socketId)).toBeNull();
          expect(await store.roomOf(p, b2.socketId)).toBeNull();
          expect(sortBySocket(await store.members(p, r.roomId))).toEqual(sortBySocket([a, c]));
          expect(await store.join(p, b, r.roomId, { now: now + 59_999 })).toEqual({ ok: false, code: 'EJ005' });
          // Without a clock to check against (operator paths), nothing is blocked; another user is not.
          expect(await store.join(p, mem('e'), r.roomId, { now: now + 1 })).toMatchObject({ ok: true });
          expect(await store.quickJoin(p, b, null, now + 1)).toEqual({ ok: false, code: 'EJ004' });
          expect(await store.join(p, b, r.roomId, { now: now + 60_000 })).toMatchObject({ ok: true, already: false });
        });

        it('quickJoin passes over a room the user was removed from, and takes the next', async () => {
          const [a, b, x] = [mem('a'), mem('b'), mem('x')];
          const full = await ownedBy(a, { max: 10 });
          await seat(full.roomId, b, mem('f1'), mem('f2'));
          const other = await roomBy(x);
          const now = h.clock.now();
          expectOk(await store.removeMember(p, a, b.userUID, now, now + 60_000));
          expect(await store.quickJoin(p, b, null, now + 1)).toMatchObject({ ok: true, roomId: other.roomId });
        });

        it('join holds the password to the hash it was checked against (EJ003 when it changed)', async () => {
          const [a, b] = [mem('a'), mem('b')];
          const r = await ownedBy(a, { passwordHash: 'h1' });
          expect(await store.join(p, b, r.roomId, { passwordHash: 'h2' })).toEqual({ ok: false, code: 'EJ003' });
          expect(await store.join(p, b, r.roomId, { passwordHash: null })).toEqual({ ok: false, code: 'EJ003' });
          expectOk(await store.join(p, b, r.roomId, { passwordHash: 'h1' }));
          const open = await ownedBy(mem('o'));
          expect(await store.join(p, mem('c'), open.roomId, { passwordHash: 'h1' })).toEqual({ ok: false, code: 'EJ003' });
          expectOk(await store.join(p, mem('c'), open.roomId, { passwordHash: null }));
        });

        it('updateRoom: the owner changes title and password; the lobby hears deleteRoom then addRoom', async () => {
          const [a, b] = [mem('a'), mem('b')];
          const r = await ownedBy(a);
          await seat(r.roomId, b);
          expect(await store.updateRoom(p, b, { title: 'Mine' })).toEqual({ ok: false, code: 'EO001' });
          expect(await store.updateRoom(p, mem('c'), { title: 'Mine' })).toEqual({ ok: false, code: 'EM001' });
          const before = (await h.announced(p)).length;
          const out = expectOk(await store.updateRoom(p, a, { title: '새 제목 Night', passwordHash: 'hx' }));
          expect(out.room).toMatchObject({ roomId: r.roomId, title: '새 제목 Night', passwordHash: 'hx', count: 2, ownerUID: a.userUID });
          const news = (await h.announced(p)).slice(before);
          expect(news).toEqual([
            { to: 'lobby', except: null, event: 'deleteRoom', args: [{ roomId: r.roomId }] },
            { to: 'lobby', except: null, event: 'addRoom', args: [roomSummary(out.room)] },
          ]);
          expect(roomSummary(out.room)).toEqual({ roomId: r.roomId, title: '새 제목 Night', max: r.max, count: 2, password: true });
          // Search sees the new title; the password is what later joins are held to.
          expect((await store.pageRooms(p, { after: null, limit: 10, q: '제목', open: false })).rooms.map((x) => x.roomId)).toEqual([r.roomId]);
          expect(await store.join(p, mem('c'), r.roomId, { passwordHash: null })).toEqual({ ok: false, code: 'EJ003' });
          // Unlocked again, the room is open to quickJoin.
          expectOk(await store.updateRoom(p, a, { passwordHash: null }));
          expect((await store.getRoom(p, r.roomId))?.passwordHash).toBeUndefined();
          expect(await store.quickJoin(p, mem('q'), null, h.clock.now())).toMatchObject({ ok: true, roomId: r.roomId });
        });

        it('the new owner after a handover may act; the old one may not', async () => {
          const [a, b, c] = [mem('a'), mem('b'), mem('c')];
          const r = await ownedBy(a);
          await seat(r.roomId, b, c);
          await store.leave(p, a.socketId);
          await seat(r.roomId, a);
          expect(await store.updateRoom(p, a, { title: 'x' })).toEqual({ ok: false, code: 'EO001' });
          expectOk(await store.updateRoom(p, b, { title: 'y' }));
          const now = h.clock.now();
          expectOk(await store.removeMember(p, b, a.userUID, now, now + 1000));
        });
      });

      it('ping answers true', async () => {
        expect(await store.ping()).toBe(true);
      });

      it('close resolves', async () => {
        await expect(store.close()).resolves.toBeUndefined();
      });
    });
  });
}
