/**
 * The contract of `RecordStore` (src/records/record-store.ts), run against SQLite and
 * PostgreSQL alike: migrations idempotent, records kept whole, never written twice, listed best
 * first in stable pages; the schedule, persistent rooms and bans kept and read back as the
 * server relies on them.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ban } from '../../src/domain/bans.js';
import type { AggroRecord, Room } from '../../src/domain/model.js';
import type { Programme } from '../../src/domain/schedule.js';
import type { RecordStore } from '../../src/records/record-store.js';

export function recordStoreContract(name: string, open: () => Promise<{ store: RecordStore; reopen(): Promise<RecordStore>; close(): Promise<void> }>): void {
  describe(`RecordStore contract: ${name}`, () => {
    let h: Awaited<ReturnType<typeof open>>;
    let store: RecordStore;
    let p: string;

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.migrate();
      p = `prog-${randomBytes(4).toString('hex')}`;
    });
    afterEach(async () => {
      await h.close();
    });

    let n = 0;
    function record(over: Partial<AggroRecord> = {}): AggroRecord {
      n += 1;
      return {
        aggroUID: `a${n}-${randomBytes(3).toString('hex')}`,
        scheduleUID: p,
        roomId: 'room1',
        userUID: 'u1',
        displayName: 'Mina 🙂',
        msg: "it's a 'quoted' message; DROP TABLE aggros; --",
        type: 'A',
        titleBroad: 'News_KBS',
        point: 3,
        up: 5,
        down: 2,
        startedAt: 1_795_000_000_000,
        endedAt: 1_795_000_030_000,
        endReason: 'expired',
        ...over,
      };
    }

    it('migrates again without harm', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.saveAggro(record())).toBe(true);
    });

    it('keeps a record whole, and a record without titleBroad without one', async () => {
      const a = record();
      const b = record({ endReason: 'room_emptied', point: -2, up: 0, down: 2 });
      delete b.titleBroad;
      expect(await store.saveAggro(a)).toBe(true);
      expect(await store.saveAggro(b)).toBe(true);
      const { items } = await store.listAggros(p, { limit: 10 });
      expect(items).toEqual([a, b]);
    });

    it('never writes the same aggro twice, even at once', async () => {
      const a = record();
      const results = await Promise.all(Array.from({ length: 8 }, () => store.saveAggro({ ...a, point: 99 })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.saveAggro(a)).toBe(false);
      const { items } = await store.listAggros(p, { limit: 10 });
      expect(items).toHaveLength(1);
    });

    it('lists best first, then latest end, in pages that neither skip nor repeat', async () => {
      const all = [
        record({ point: 5, endedAt: 1000 }),
        record({ point: 5, endedAt: 2000 }),
        record({ point: 9, endedAt: 1500 }),
        record({ point: -1, endedAt: 3000 }),
        record({ point: 5, endedAt: 2000 }),
        record({ point: 0, endedAt: 500 }),
        record({ point: 9, endedAt: 1500, scheduleUID: `${p}-other` }),
      ];
      for (const r of all) await store.saveAggro(r);
      const mine = all.filter((r) => r.scheduleUID === p);
      const expected = [...mine].sort((x, y) => y.point - x.point || y.endedAt - x.endedAt || (x.aggroUID < y.aggroUID ? -1 : 1));
      const seen: AggroRecord[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page: { items: AggroRecord[]; next: string | null } = await store.listAggros(p, { limit: 2, cursor });
        seen.push(...page.items);
        cursor = page.next;
        if (!cursor) break;
      }
      expect(seen.map((r) => r.aggroUID)).toEqual(expected.map((r) => r.aggroUID));
    });

    it('finds records by text in the message or the author\'s name, letter case aside, in pages of the same order', async () => {
      const rows = [
        record({ msg: '출구조사 압승이다', point: 5 }),
        record({ msg: 'Landslide in the NORTH', point: 4 }),
        record({ msg: '개표 중', displayName: 'Landslide fan', point: 4, endedAt: 1 }),
        record({ msg: '출구조사 박빙', point: 1 }),
        record({ msg: 'nothing to see', point: 9 }),
        record({ msg: '출구조사 다른 방송', scheduleUID: `${p}-other` }),
      ];
      for (const r of rows) await store.saveAggro(r);
      expect((await store.listAggros(p, { limit: 10, q: '출구조사' })).items.map((r) => r.msg)).toEqual(['출구조사 압승이다', '출구조사 박빙']);
      const first = await store.listAggros(p, { limit: 1, q: 'landslide' });
      expect(first.items.map((r) => r.aggroUID)).toEqual([rows[1]!.aggroUID]);
      const second = await store.listAggros(p, { limit: 1, q: 'landslide', cursor: first.next });
      expect(second.items.map((r) => r.aggroUID)).toEqual([rows[2]!.aggroUID]);
      expect(second.next).toBeNull();
      // Characters with a meaning in LIKE patterns are plain text here.
      expect((await store.listAggros(p, { limit: 10, q: '%' })).items).toEqual([]);
    });

    it('keeps the author\'s photoURL, and none when there was none', async () => {
      const a = record({ photoURL: 'https://img.example/mina.png' });
      const b = record();
      await store.saveAggro(a);
      await store.saveAggro(b);
      expect((await store.listAggros(p, { limit: 10 })).items).toEqual([a, b]);
    });

    it("lists a user's aggros newest first across programmes, in pages that neither skip nor repeat, with rows arriving meanwhile", async () => {
      const me = `me-${randomBytes(4).toString('hex')}`;
      const mine = Array.from({ length: 7 }, (_, i) => record({ userUID: me, scheduleUID: `${p}-${i % 3}`, endedAt: 10_000 + (i % 4) * 1000 }));
      for (const r of mine) await store.saveAggro(r);
      await store.saveAggro(record({ userUID: 'someone-else', endedAt: 99_999 }));
      const expected = [...mine].sort((x, y) => y.endedAt - x.endedAt || (x.aggroUID < y.aggroUID ? 1 : -1));
      const seen: AggroRecord[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<RecordStore['listUserAggros']>> = await store.listUserAggros(me, { limit: 3, cursor });
        seen.push(...page.items);
        // Newer rows written between pages belong before the cursor: the pages go on unchanged.
        await store.saveAggro(record({ userUID: me, endedAt: 50_000 + seen.length }));
        cursor = page.next;
      } while (cursor);
      expect(seen).toEqual(expected);
      expect((await store.listUserAggros('nobody', { limit: 3 })).items).toEqual([]);
      expect((await store.listUserAggros(me, { limit: 3, cursor: 'bm90IGpzb24' })).items).toHaveLength(3);
    });

    it('answers an empty page for an unknown programme and ignores a forged cursor', async () => {
      expect(await store.listAggros('nobody', { limit: 5 })).toEqual({ items: [], next: null });
      await store.saveAggro(record());
      expect((await store.listAggros(p, { limit: 5, cursor: 'not-a-cursor' })).items).toHaveLength(1);
    });

    it('keeps records across a reopen', async () => {
      const a = record();
      await store.saveAggro(a);
      store = await h.reopen();
      await store.migrate();
      expect((await store.listAggros(p, { limit: 5 })).items).toEqual([a]);
    });

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    // ---- the schedule ---------------------------------------------------------------------

    const NOW = 1_795_000_000_000;
    let k = 0;
    function programme(over: Partial<Programme> = {}): Programme {
      k += 1;
      return {
        scheduleUID: `${p}-${k}`,
        title: "Evening 'News'",
        broadcaster: 'KBS 🙂',
        startAt: NOW + k * 1000,
        endAt: NOW + k * 1000 + 3_600_000,
        ...over,
      };
    }

    describe('programs', () => {
      it('puts and lists programmes, earliest start first, then by scheduleUID', async () => {
        const late = programme({ startAt: NOW + 50_000, endAt: NOW + 90_000 });
        const early = programme({ startAt: NOW, endAt: NOW + 10_000 });
        const tieB = programme({ scheduleUID: `${p}-b`, startAt: NOW + 20_000, endAt: NOW + 30_000 });
        const tieA = programme({ scheduleUID: `${p}-a`, startAt: NOW + 20_000, endAt: NOW + 40_000 });
        for (const x of [late, early, tieB, tieA]) await store.putProgram(x, NOW);
        expect(await store.listPrograms()).toEqual([early, tieA, tieB, late]);
      });

      it('an empty schedule lists nothing', async () => {
        expect(await store.listPrograms()).toEqual([]);
      });

      it('putting a scheduleUID again replaces the programme, whole', async () => {
        const a = programme();
        const b = programme();
        await store.putProgram(a, NOW);
        await store.putProgram(b, NOW);
        const a2 = { ...a, title: 'Late show', broadcaster: 'MBC', startAt: NOW + 500_000, endAt: NOW + 600_000 };
        await store.putProgram(a2, NOW + 1);
        expect(await store.listPrograms()).toEqual([b, a2]);
      });

      it('keeps epoch milliseconds exactly, far from 2^31', async () => {
        const a = programme({ startAt: 4_102_444_800_123, endAt: 4_102_444_800_124 });
        await store.putProgram(a, NOW);
        expect(await store.listPrograms()).toEqual([a]);
      });

      it('deletes a programme: true once, then false; others stay', async () => {
        const a = programme();
        const b = programme();
        await store.putProgram(a, NOW);
        await store.putProgram(b, NOW);
        expect(await store.deleteProgram(a.scheduleUID)).toBe(true);
        expect(await store.deleteProgram(a.scheduleUID)).toBe(false);
        expect(await store.deleteProgram('nobody')).toBe(false);
        expect(await store.listPrograms()).toEqual([b]);
      });

      it('keeps the schedule across a reopen', async () => {
        const a = programme();
        await store.putProgram(a, NOW);
        store = await h.reopen();
        await store.migrate();
        expect(await store.listPrograms()).toEqual([a]);
      });
    });

    // ---- persistent rooms -----------------------------------------------------------------

    let roomSeq = 0;
    function persistentRoom(over: Partial<Room> = {}): Room {
      roomSeq += 1;
      return {
        roomId: `r${roomSeq}${randomBytes(4).toString('hex')}`,
        title: `Studio ${roomSeq}`,
        max: 50,
        persistent: true,
        createdAt: NOW + roomSeq,
        ...over,
      };
    }

    describe('persistent rooms', () => {
      it("lists a programme's rooms in creation order (createdAt, not insertion order), whole", async () => {
        const second = persistentRoom({ createdAt: NOW + 2000 });
        const first = persistentRoom({ createdAt: NOW + 1000, passwordHash: 'scrypt$c2FsdA$a2V5', title: "Mina's 'den' 🙂" });
        const third = persistentRoom({ createdAt: NOW + 3000, max: 2 });
        for (const r of [second, third, first]) await store.saveRoom(p, r);
        await store.saveRoom(`${p}-other`, persistentRoom());
        expect(await store.listRooms(p)).toEqual([first, second, third]);
        // The password hash is kept as given; a room without one comes back without the field.
        const [a, b] = await store.listRooms(p);
        expect(a!.passwordHash).toBe('scrypt$c2FsdA$a2V5');
        expect(b).not.toHaveProperty('passwordHash');
        expect(await store.listRooms(`${p}-other`)).toHaveLength(1);
        expect(await store.listRooms('nobody')).toEqual([]);
      });

      it('deletes a room of its programme only: true once, then false', async () => {
        const a = persistentRoom();
        const b = persistentRoom();
        await store.saveRoom(p, a);
        await store.saveRoom(p, b);
        expect(await store.deleteRoom(`${p}-other`, a.roomId)).toBe(false);
        expect(await store.deleteRoom(p, a.roomId)).toBe(true);
        expect(await store.deleteRoom(p, a.roomId)).toBe(false);
        expect(await store.listRooms(p)).toEqual([b]);
      });

      it('keeps rooms across a reopen', async () => {
        const a = persistentRoom({ passwordHash: 'scrypt$c2FsdA$a2V5' });
        await store.saveRoom(p, a);
        store = await h.reopen();
        await store.migrate();
        expect(await store.listRooms(p)).toEqual([a]);
      });
    });

    // ---- bans -----------------------------------------------------------------------------

    describe('bans', () => {
      const sortBans = (bans: Ban[]) => [...bans].sort((x, y) => (x.userUID + (x.scheduleUID ?? '*')).localeCompare(y.userUID + (y.scheduleUID ?? '*')));

      it('keeps a ban whole; everywhere and per-programme bans of one user are separate', async () => {
        const everywhere: Ban = { userUID: 'u-1', reason: "spam 'links'", createdAt: NOW };
        const here: Ban = { userUID: 'u-1', scheduleUID: p, until: NOW + 60_000, createdAt: NOW + 1 };
        const bare: Ban = { userUID: 'u-2', scheduleUID: p, createdAt: NOW + 2 };
        for (const b of [everywhere, here, bare]) await store.putBan(b);
        expect(sortBans(await store.listBans(NOW))).toEqual(sortBans([everywhere, here, bare]));
        const listed = await store.listBans(NOW);
        expect(listed.find((b) => b.userUID === 'u-2')).toEqual(bare);
        expect(listed.find((b) => b.userUID === 'u-2')).not.toHaveProperty('reason');
        expect(listed.find((b) => b.userUID === 'u-2')).not.toHaveProperty('until');
        expect(listed.find((b) => b.userUID === 'u-1' && b.scheduleUID === undefined)).not.toHaveProperty('scheduleUID');
      });

      it('putting the same user and reach again replaces the ban', async () => {
        await store.putBan({ userUID: 'u-1', scheduleUID: p, reason: 'first', until: NOW + 1000, createdAt: NOW });
        const again: Ban = { userUID: 'u-1', scheduleUID: p, reason: 'second', createdAt: NOW + 5 };
        await store.putBan(again);
        expect(await store.listBans(NOW + 2000)).toEqual([again]);
        expect(await store.findBan('u-1', p, NOW + 2000)).toEqual(again);
      });

      it('findBan: a programme ban keeps the user out of that programme only; an everywhere ban out of all', async () => {
        const here: Ban = { userUID: 'u-1', scheduleUID: p, createdAt: NOW };
        await store.putBan(here);
        expect(await store.findBan('u-1', p, NOW)).toEqual(here);
        expect(await store.findBan('u-1', `${p}-other`, NOW)).toBeNull();
        expect(await store.findBan('u-2', p, NOW)).toBeNull();
        const everywhere: Ban = { userUID: 'u-2', createdAt: NOW };
        await store.putBan(everywhere);
        expect(await store.findBan('u-2', p, NOW)).toEqual(everywhere);
        expect(await store.findBan('u-2', `${p}-other`, NOW)).toEqual(everywhere);
        // A programme literally named like the everywhere marker is not special.
        expect(await store.findBan('u-1', '*', NOW)).toBeNull();
      });

      it('findBan and listBans respect `until`: in force before it, gone from it on', async () => {
        const until = NOW + 10_000;
        const b: Ban = { userUID: 'u-1', scheduleUID: p, until, createdAt: NOW };
        await store.putBan(b);
        expect(await store.findBan('u-1', p, until - 1)).toEqual(b);
        expect(await store.findBan('u-1', p, until)).toBeNull();
        expect(await store.listBans(until - 1)).toEqual([b]);
        expect(await store.listBans(until)).toEqual([]);
      });

      it('findBan: an expired programme ban does not hide an everywhere ban in force', async () => {
        await store.putBan({ userUID: 'u-1', scheduleUID: p, until: NOW, createdAt: NOW - 10 });
        const everywhere: Ban = { userUID: 'u-1', until: NOW + 1000, createdAt: NOW - 5 };
        await store.putBan(everywhere);
        expect(await store.findBan('u-1', p, NOW)).toEqual(everywhere);
        expect(await store.listBans(NOW)).toEqual([everywhere]);
      });

      it('listBans drops expired bans and lists the rest oldest first', async () => {
        const old: Ban = { userUID: 'u-a', createdAt: NOW - 300 };
        const expired: Ban = { userUID: 'u-b', scheduleUID: p, until: NOW - 1, createdAt: NOW - 200 };
        const running: Ban = { userUID: 'u-c', scheduleUID: p, until: NOW + 1, createdAt: NOW - 100 };
        for (const b of [running, expired, old]) await store.putBan(b);
        expect(await store.listBans(NOW)).toEqual([old, running]);
      });

      it('deleteBan lifts one reach: with a scheduleUID that programme, without it the everywhere ban', async () => {
        const everywhere: Ban = { userUID: 'u-1', createdAt: NOW };
        const here: Ban = { userUID: 'u-1', scheduleUID: p, createdAt: NOW + 1 };
        await store.putBan(everywhere);
        await store.putBan(here);
        expect(await store.deleteBan('u-1', `${p}-other`)).toBe(false);
        expect(await store.deleteBan('u-1', p)).toBe(true);
        expect(await store.deleteBan('u-1', p)).toBe(false);
        expect(await store.listBans(NOW)).toEqual([everywhere]);
        expect(await store.findBan('u-1', p, NOW)).toEqual(everywhere);
        await store.putBan(here);
        expect(await store.deleteBan('u-1', undefined)).toBe(true);
        expect(await store.deleteBan('u-1', undefined)).toBe(false);
        expect(await store.listBans(NOW)).toEqual([here]);
        expect(await store.findBan('u-1', `${p}-other`, NOW)).toBeNull();
        expect(await store.deleteBan('nobody', undefined)).toBe(false);
      });

      it('keeps bans across a reopen', async () => {
        const b: Ban = { userUID: 'u-1', scheduleUID: p, reason: 'r', until: NOW + 1000, createdAt: NOW };
        await store.putBan(b);
        store = await h.reopen();
        await store.migrate();
        expect(await store.findBan('u-1', p, NOW)).toEqual(b);
      });
    });

    describe('moderation records', () => {
      it('keeps the filter list as one document; every put bumps the version', async () => {
        const before = await store.moderation.filterVersion();
        const entries = [
          { text: "시발 ' ; DROP TABLE reports; --", action: 'block' as const },
          { text: 'idiot', action: 'mask' as const, scheduleUID: p },
        ];
        const v = await store.moderation.putFilters(entries, NOW);
        expect(v).toBe(before + 1);
        expect(await store.moderation.filterVersion()).toBe(v);
        expect(await store.moderation.filters()).toEqual({ version: v, entries, updatedAt: NOW });
        expect(await store.moderation.putFilters([], NOW + 1)).toBe(v + 1);
        expect((await store.moderation.filters()).entries).toEqual([]);
      });

      it('pages the audit log newest first, one programme or all; a foreign cursor is null', async () => {
        for (let i = 0; i < 5; i++) {
          await store.moderation.audit({ at: NOW + i, actor: i % 2 ? 'admin' : 'moderator:mia', action: 'mute', scheduleUID: i < 4 ? p : `${p}-other`, target: `u${i}`, reason: i ? 'spam' : null, detail: { seconds: i } });
        }
        const first = (await store.moderation.listAudit({ limit: 2, scheduleUID: p }))!;
        expect(first.items.map((e) => e.target)).toEqual(['u3', 'u2']);
        expect(first.items[0]).toMatchObject({ actor: 'admin', action: 'mute', scheduleUID: p, reason: 'spam', detail: { seconds: 3 } });
        const second = (await store.moderation.listAudit({ limit: 2, scheduleUID: p, cursor: first.next! }))!;
        expect(second.items.map((e) => e.target)).toEqual(['u1', 'u0']);
        expect(second.next).toBeNull();
        const mine = (await store.moderation.listAudit({ limit: 100 }))!.items.filter((e) => e.scheduleUID?.startsWith(p));
        expect(mine.map((e) => e.target)).toEqual(['u4', 'u3', 'u2', 'u1', 'u0']);
        expect(await store.moderation.listAudit({ limit: 2, cursor: 'not-a-cursor' })).toBeNull();
      });

      it('keeps one report per reporter and target, counts distinct reporters, resolves a target at once', async () => {
        const base = { scheduleUID: p, roomId: 'r1', kind: 'message' as const, targetId: `m-${p}`, targetUserUID: 'author', text: 'the text', reason: 'abuse', createdAt: NOW };
        const a = await store.moderation.addReport({ ...base, reporterUID: 'v1' });
        expect(a).toMatchObject({ created: true, reporters: 1 });
        expect((await store.moderation.addReport({ ...base, reporterUID: 'v1', reason: 'again' })).created).toBe(false);
        const many = await Promise.all(['v2', 'v3', 'v4', 'v2'].map((v, i) => store.moderation.addReport({ ...base, reporterUID: v, createdAt: NOW + 1 + i })));
        expect(many.filter((m) => m.created)).toHaveLength(3);
        expect((await store.moderation.addReport({ ...base, reporterUID: 'v5', createdAt: NOW + 9 })).reporters).toBe(5);
        const got = await store.moderation.getReport(a.id);
        expect(got).toMatchObject({ id: a.id, text: 'the text', reporterUID: 'v1', status: 'open', resolution: null });
        const open = (await store.moderation.listReports({ status: 'open', limit: 100 }))!.items.filter((r) => r.scheduleUID === p);
        expect(open.map((r) => r.reporterUID)).toEqual(['v5', 'v4', 'v3', 'v2', 'v1']);
        const both = await Promise.all([store.moderation.resolveReports(a.id, 'remove', 'admin', NOW + 20), store.moderation.resolveReports(a.id, 'dismiss', 'moderator:x', NOW + 20)]);
        expect(both.filter(Boolean)).toHaveLength(1);
        expect(await store.moderation.resolveReports(a.id, 'dismiss', 'admin', NOW + 21)).toBe(false);
        const resolved = (await store.moderation.listReports({ status: 'resolved', limit: 100 }))!.items.filter((r) => r.scheduleUID === p);
        expect(resolved).toHaveLength(5);
        expect(await store.moderation.getReport('nope')).toBeNull();
        expect(await store.moderation.listReports({ status: 'open', limit: 2, cursor: '!!' })).toBeNull();
      });
    });

    it('migrating again, and after a reopen, keeps the schedule, rooms, bans and aggros', async () => {
      await store.putProgram(programme({ scheduleUID: p }), NOW);
      await store.saveRoom(p, persistentRoom());
      await store.putBan({ userUID: 'u-x', createdAt: NOW });
      await store.saveAggro(record());
      await store.migrate();
      await store.migrate();
      expect(await store.listPrograms()).toHaveLength(1);
      expect(await store.listRooms(p)).toHaveLength(1);
      expect(await store.listBans(NOW)).toHaveLength(1);
      expect((await store.listAggros(p, { limit: 5 })).items).toHaveLength(1);
      store = await h.reopen();
      await store.migrate();
      expect(await store.listPrograms()).toHaveLength(1);
      expect(await store.listBans(NOW)).toHaveLength(1);
    });
  });
}
