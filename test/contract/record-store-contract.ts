/**
 * The contract of `RecordStore` (src/records/record-store.ts), run against SQLite and
 * PostgreSQL alike: migrations idempotent, records kept whole, never written twice, listed best
 * first in stable pages.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AggroRecord } from '../../src/domain/model.js';
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
  });
}
