/**
 * The lobby part of the `StateStore` contract (spec 3.1: the featured view, pages, search,
 * quickJoin), run against every backend with a featured view of `VIEW` rooms, so that both
 * choose the same view and announce the same changes.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Member, Room } from '../../src/domain/model.js';
import { searchKey, SCAN_BUDGET } from '../../src/domain/lobby.js';
import { roomSummary } from '../../src/domain/payloads.js';
import type { StateStore } from '../../src/domain/ports/store.js';
import type { StoreUnderTest } from './store-contract.js';

export const VIEW = 3;
const INTERVAL = 500;

let seq = 0;
const run = randomBytes(3).toString('hex');
function uniq(prefix: string): string {
  seq += 1;
  return `${prefix}${run}-${seq}`;
}

export function lobbyContract(name: string, makeStore: (viewSize: number) => Promise<StoreUnderTest>): void {
  describe(`StateStore lobby contract: ${name}`, () => {
    let h: StoreUnderTest;
    let store: StateStore;
    let p: string;
    let now: number;

    beforeEach(async () => {
      h = await makeStore(VIEW);
      store = h.store;
      p = uniq('p');
      now = 1_800_000_000_000;
    });
    afterEach(async () => {
      await h.close();
    });

    const mem = (name: string): Member => ({ userUID: `u-${name}`, displayName: name, socketId: `s-${name}-${uniq('')}` });
    const newRoom = (extra: Partial<Room> = {}): Room => ({ roomId: uniq('r'), title: 'Room', max: 10, persistent: false, createdAt: 1, ...extra });
    async function roomWith(members: number, extra: Partial<Room> = {}): Promise<Room> {
      const r = newRoom(extra);
      const [first, ...rest] = Array.from({ length: members }, (_, i) => mem(`${r.roomId}-${i}`));
      expect((await store.createRoom(p, r, first ?? null, 100_000)).ok).toBe(true);
      for (const m of rest) expect((await store.join(p, m, r.roomId)).ok).toBe(true);
      return r;
    }
    const ids = (rooms: { roomId: string }[]) => rooms.map((r) => r.roomId);
    const lobbyEvents = async () =>
      (await h.announced(p)).filter((a) => a.to === 'lobby').map((a) => [a.event, (a.args[0] as { roomId: string }).roomId] as const);
    /** Run the view's recompute one interval after the last. */
    const refresh = async () => {
      now += INTERVAL;
      return store.refreshView(p, now, INTERVAL);
    };

    it('rooms fill the view as they are made; beyond it they are not announced to the lobby', async () => {
      const rooms = [await roomWith(1), await roomWith(1), await roomWith(1), await roomWith(1)];
      expect(ids(await store.viewRooms(p))).toEqual(ids(rooms.slice(0, VIEW)));
      expect(await lobbyEvents()).toEqual(rooms.slice(0, VIEW).map((r) => ['addRoom', r.roomId]));
      // Every room is still a room: listed by pages, joinable.
      expect((await store.listRooms(p)).length).toBe(4);
    });

    it('a room deleted leaves the view at once; the recompute fills its place, with the count as it is', async () => {
      const rooms = [await roomWith(1), await roomWith(1), await roomWith(1)];
      const outsider = await roomWith(2);
      const before = (await lobbyEvents()).length;
      await store.leave(p, (await store.members(p, rooms[1]!.roomId))[0]!.socketId);
      expect((await lobbyEvents()).slice(before)).toEqual([['deleteRoom', rooms[1]!.roomId]]);
      const view = await refresh();
      expect(ids(view)).toEqual([rooms[0]!.roomId, rooms[2]!.roomId, outsider.roomId]);
      const added = (await h.announced(p)).filter((a) => a.to === 'lobby' && a.event === 'addRoom').at(-1)!;
      expect(added.args[0]).toEqual(roomSummary({ ...outsider, count: 2 }));
    });

    it('stable: an outsider takes a place only when it clearly beats the weakest room, at most once per interval', async () => {
      const rooms = [await roomWith(3), await roomWith(2), await roomWith(3)];
      const outsider = await roomWith(3);
      // 3 against 2: one member more is not enough.
      await refresh();
      expect(ids(await store.viewRooms(p))).toEqual(ids(rooms));
      expect(await store.join(p, mem('o4'), outsider.roomId)).toMatchObject({ ok: true });
      // Within the interval nothing is recomputed, whoever asks.
      expect(ids(await store.refreshView(p, now + 1, INTERVAL))).toEqual(ids(rooms));
      const before = (await lobbyEvents()).length;
      // 4 against 2: it takes the weakest room's place.
      expect(ids(await refresh())).toEqual([rooms[0]!.roomId, rooms[2]!.roomId, outsider.roomId]);
      expect((await lobbyEvents()).slice(before)).toEqual([
        ['deleteRoom', rooms[1]!.roomId],
        ['addRoom', outsider.roomId],
      ]);
      // Then it stays, though the room it replaced catches up by one.
      expect(await store.join(p, mem('r1'), rooms[1]!.roomId)).toMatchObject({ ok: true });
      await store.leave(p, (await store.members(p, outsider.roomId))[0]!.socketId);
      expect(ids(await refresh())).toEqual([rooms[0]!.roomId, rooms[2]!.roomId, outsider.roomId]);
    });

    it('persistent rooms come first, then open rooms; a full room gives way to an open one', async () => {
      const full = await roomWith(2, { max: 2 });
      const a = await roomWith(1);
      const b = await roomWith(1);
      const studio = newRoom({ persistent: true, title: 'Studio' });
      expect((await store.createRoom(p, studio, null, 100_000)).ok).toBe(true);
      expect(ids(await refresh())).toEqual([a.roomId, b.roomId, studio.roomId]);
      expect(ids(await store.viewRooms(p))).not.toContain(full.roomId);
    });

    it('count and deleteRoom of a room out of the view go to its watchers only', async () => {
      await roomWith(1);
      await roomWith(1);
      await roomWith(1);
      const out = await roomWith(1);
      expect(await store.claimCountWindow(p, out.roomId, 1000)).toBe(true);
      expect(await store.join(p, mem('x'), out.roomId)).toMatchObject({ ok: true });
      expect(await store.flushCount(p, out.roomId)).toBe(2);
      expect(await store.deleteRoom(p, out.roomId)).not.toBeNull();
      const news = (await h.announced(p)).filter((a) => a.to !== 'lobby' || a.event !== 'addRoom');
      expect(news).toEqual([
        { to: 'watchers', roomId: out.roomId, event: 'count', args: [{ roomId: out.roomId, count: 2 }] },
        { to: 'watchers', roomId: out.roomId, event: 'deleteRoom', args: [{ roomId: out.roomId }] },
      ]);
    });

    it('pages in creation order; rooms made and deleted meanwhile neither skip nor repeat a room', async () => {
      const rooms: Room[] = [];
      for (let i = 0; i < 7; i++) rooms.push(await roomWith(1));
      const seen: string[] = [];
      let page = await store.pageRooms(p, { after: null, limit: 3, q: null, open: false });
      seen.push(...ids(page.rooms));
      // Churn between pages: one already listed and one not yet listed go, two come.
      await store.deleteRoom(p, rooms[0]!.roomId);
      await store.deleteRoom(p, rooms[4]!.roomId);
      const late = [await roomWith(1), await roomWith(1)];
      while (page.next !== null) {
        page = await store.pageRooms(p, { after: page.next, limit: 3, q: null, open: false });
        seen.push(...ids(page.rooms));
      }
      expect(seen).toEqual(ids([...rooms.filter((_, i) => i !== 4), ...late]));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('the last page says so: next is null', async () => {
      for (let i = 0; i < 4; i++) await roomWith(1);
      const first = await store.pageRooms(p, { after: null, limit: 2, q: null, open: false });
      const second = await store.pageRooms(p, { after: first.next, limit: 2, q: null, open: false });
      expect(second.rooms).toHaveLength(2);
      expect(second.next).toBeNull();
      expect(await store.pageRooms(uniq('empty'), { after: null, limit: 2, q: null, open: false })).toEqual({ rooms: [], next: null });
    });

    it('searches titles by any substring after NFKC and case folding (Korean included); open keeps walk-in rooms', async () => {
      const vote = await roomWith(1, { title: '개표 방송 같이 봐요' });
      const wide = await roomWith(1, { title: 'ＫＢＳ Live' });
      // 한국 written as conjoining jamo: NFKC composes it.
      const jamo = await roomWith(1, { title: '\u1112\u1161\u11ab\u1100\u116e\u11a8 시리즈' });
      const locked = await roomWith(1, { title: '비밀 방송', passwordHash: 'salt:hash' });
      const full = await roomWith(2, { title: '꽉 찬 방송', max: 2 });
      const find = async (q: string, open = false) =>
        ids((await store.pageRooms(p, { after: null, limit: 20, q: searchKey(q), open })).rooms);
      expect(await find('표 방')).toEqual([vote.roomId]);
      expect(await find('방송')).toEqual([vote.roomId, locked.roomId, full.roomId]);
      expect(await find('kbs live')).toEqual([wide.roomId]);
      expect(await find('한국')).toEqual([jamo.roomId]);
      expect(await find('국')).toEqual([jamo.roomId]);
      expect(await find('없는 제목')).toEqual([]);
      expect(await find('방송', true)).toEqual([vote.roomId]);
      expect(ids((await store.pageRooms(p, { after: null, limit: 20, q: null, open: true })).rooms)).toEqual([vote.roomId, wide.roomId, jamo.roomId]);
    });

    it('a filtered page looks at no more than SCAN_BUDGET rooms: short, with a next that goes on where it stopped', async () => {
      // Matches inside the first read of the rooms, past it, and past the budget.
      const at = new Set([5, 450, SCAN_BUDGET + 100]);
      const made: Room[] = [];
      for (let i = 0; i < SCAN_BUDGET + 250; i++) {
        const r = newRoom({ title: at.has(i) ? `개표 ${i}` : `room ${i}` });
        expect((await store.createRoom(p, r, null, 100_000)).ok).toBe(true);
        made.push(r);
      }
      const wanted = [...at].map((i) => made[i]!.roomId);
      const first = await store.pageRooms(p, { after: null, limit: 20, q: searchKey('개표'), open: false });
      expect(ids(first.rooms)).toEqual(wanted.slice(0, 2));
      expect(first.next).not.toBeNull();
      const second = await store.pageRooms(p, { after: first.next, limit: 20, q: searchKey('개표'), open: false });
      expect(ids(second.rooms)).toEqual(wanted.slice(2));
      expect(second.next).toBeNull();
      // Unfiltered and open-only pages are full pages from the start, in creation order.
      expect(ids((await store.pageRooms(p, { after: null, limit: 20, q: null, open: false })).rooms)).toEqual(ids(made.slice(0, 20)));
      const open = await store.pageRooms(p, { after: null, limit: 20, q: null, open: true });
      expect(ids(open.rooms)).toEqual(ids(made.slice(0, 20)));
      expect(ids((await store.pageRooms(p, { after: open.next, limit: 20, q: null, open: true })).rooms)).toEqual(ids(made.slice(20, 40)));
    });

    it('quickJoin seats the caller in the fullest open room, never a full or locked one; EJ004 when none', async () => {
      expect(await store.quickJoin(p, mem('early'), null)).toEqual({ ok: false, code: 'EJ004' });
      await roomWith(2, { max: 2 });
      await roomWith(5, { passwordHash: 'salt:hash' });
      const small = await roomWith(1, { title: '작은 방' });
      const big = await roomWith(3, { title: '큰 방' });
      const m = mem('quick');
      expect(await store.quickJoin(p, m, null)).toMatchObject({ ok: true, roomId: big.roomId, title: '큰 방', count: 4 });
      expect(await store.roomOf(p, m.socketId)).toBe(big.roomId);
      // Again: the room it sits in is not a choice; it moves, leaving the old one in the same step.
      const again = await store.quickJoin(p, m, null);
      expect(again).toMatchObject({ ok: true, roomId: small.roomId, count: 2, left: { roomId: big.roomId, count: 3 } });
      expect(await store.quickJoin(p, mem('q2'), searchKey('작은'))).toMatchObject({ ok: true, roomId: small.roomId });
      expect(await store.quickJoin(p, mem('q3'), searchKey('없는'))).toEqual({ ok: false, code: 'EJ004' });
    });

    it('quickJoin is exact: with N seats free, N of many concurrent callers get one', async () => {
      const r = await roomWith(1, { max: 4 });
      const callers = Array.from({ length: 8 }, (_, i) => mem(`c${i}`));
      const outs = await Promise.all(callers.map((m) => store.quickJoin(p, m, null)));
      expect(outs.filter((o) => o.ok)).toHaveLength(3);
      expect(outs.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'EJ004')).toBe(true);
      expect((await store.getRoom(p, r.roomId))!.count).toBe(4);
    });

    it('roomCounts: the count of each room, null for one that is gone', async () => {
      const a = await roomWith(2);
      expect(await store.roomCounts(p, [a.roomId, 'gone'])).toEqual({ [a.roomId]: 2, gone: null });
      expect(await store.roomCounts(p, [])).toEqual({});
    });
  });
}
