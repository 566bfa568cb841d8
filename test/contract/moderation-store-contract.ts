/**
 * The contract of `ModerationStore` (src/domain/ports/moderation-store.ts), run unchanged against
 * memory and Redis. Each test uses its own programme. Time is the caller's `now`, so the rules
 * about time are tested with made-up instants; only Redis's own expiry (PX) needs real time,
 * and windows here are long enough that it never runs out mid-test.
 */
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { IndexedMessage, ModerationStore } from '../../src/domain/ports/moderation-store.js';

const run = randomBytes(3).toString('hex');
let seq = 0;
const uniq = (prefix: string) => `${prefix}${run}-${++seq}`;

/** `seat` puts a socket in a room as the state store of the same backend would (its seats). */
export interface ModerationHarness {
  store: ModerationStore;
  seat(p: string, socketId: string, roomId: string): Promise<void>;
  close(): Promise<void>;
}

export function moderationStoreContract(name: string, make: () => Promise<ModerationHarness>): void {
  describe(`ModerationStore contract: ${name}`, () => {
    let store: ModerationStore;
    let seat: ModerationHarness['seat'];
    let p: string;
    const rules = { duplicateWindowMs: 10_000, indexSize: 100 };
    const now = Date.now();
    const msg = (userUID: string, roomId: string, text = uniq('t')): IndexedMessage => ({ id: uniq('m'), roomId, userUID, msg: text, ts: now });

    beforeEach(async () => {
      const h = await make();
      store = h.store;
      seat = h.seat;
      p = uniq('p');
      return () => h.close();
    });

    it('refuses a muted user with the end of the mute, until it ends by itself; unmute lifts it', async () => {
      await store.mute(p, { userUID: 'u1', until: now + 60_000, reason: 'spam' }, now);
      expect(await store.mutedUntil(p, 'u1', now)).toBe(now + 60_000);
      expect(await store.admit(p, msg('u1', 'r'), 'k', now, rules)).toEqual({ ok: false, code: 'EM004', until: now + 60_000 });
      expect(await store.mutes(p, now)).toEqual([{ userUID: 'u1', until: now + 60_000, reason: 'spam' }]);
      // Past its end, the mute is gone without anyone lifting it.
      expect(await store.mutedUntil(p, 'u1', now + 60_000)).toBe(0);
      expect((await store.admit(p, msg('u1', 'r'), 'k', now + 60_001, rules)).ok).toBe(true);
      expect(await store.mutes(p, now + 60_001)).toEqual([]);
      await store.mute(p, { userUID: 'u2', until: now + 5000 }, now);
      expect(await store.unmute(p, 'u2', now)).toBe(true);
      expect(await store.unmute(p, 'u2', now)).toBe(false);
      expect(await store.mutedUntil(p, 'u2', now)).toBe(0);
      // A mute that has already ended is not kept.
      await store.mute(p, { userUID: 'u3', until: now - 1 }, now);
      expect(await store.mutes(p, now)).toEqual([]);
    });

    it('lists mutes soonest end first; a later mute replaces the time', async () => {
      await store.mute(p, { userUID: 'b', until: now + 9000 }, now);
      await store.mute(p, { userUID: 'a', until: now + 3000 }, now);
      await store.mute(p, { userUID: 'b', until: now + 1000 }, now);
      expect((await store.mutes(p, now)).map((m) => [m.userUID, m.until])).toEqual([
        ['b', now + 1000],
        ['a', now + 3000],
      ]);
    });

    it("slow mode: one message per window in that room, with the time left; the room's own setting beats the programme's; 0 ends it", async () => {
      await store.setSlowMode(p, null, 10);
      expect((await store.admit(p, msg('u', 'r1'), 'a', now, rules)).ok).toBe(true);
      expect(await store.admit(p, msg('u', 'r1'), 'b', now + 4000, rules)).toEqual({ ok: false, code: 'EM005', retryAfterMs: 6000 });
      // Another room has its own window; another user too.
      expect((await store.admit(p, msg('u', 'r2'), 'c', now + 4000, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('v', 'r1'), 'd', now + 4000, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('u', 'r1'), 'e', now + 10_000, rules)).ok).toBe(true);
      await store.setSlowMode(p, 'r1', 2);
      expect((await store.admit(p, msg('u', 'r1'), 'f', now + 12_000, rules)).ok).toBe(true);
      expect(await store.slowModes(p)).toEqual(expect.arrayContaining([{ roomId: null, seconds: 10 }, { roomId: 'r1', seconds: 2 }]));
      await store.setSlowMode(p, null, 0);
      await store.setSlowMode(p, 'r1', 0);
      expect(await store.slowModes(p)).toEqual([]);
      expect((await store.admit(p, msg('u', 'r1'), 'g', now + 12_001, rules)).ok).toBe(true);
    });

    it('with a seat: EM001 unless the socket sits in the room, before anything else and without opening a window', async () => {
      await store.setSlowMode(p, 'r', 10);
      await store.mute(p, { userUID: 'muted', until: now + 60_000 }, now);
      const outsider = msg('u', 'r', 'hello');
      expect(await store.admit(p, outsider, 'k', now, rules, { socketId: 's1' })).toEqual({ ok: false, code: 'EM001' });
      await seat(p, 's1', 'elsewhere');
      expect(await store.admit(p, msg('u', 'r'), 'k', now, rules, { socketId: 's1' })).toEqual({ ok: false, code: 'EM001' });
      expect(await store.admit(p, msg('muted', 'r'), 'k', now, rules, { socketId: 's1' })).toEqual({ ok: false, code: 'EM001' });
      // Refused, it opened no slow-mode window and is not in the index.
      expect(await store.message(p, outsider.id)).toBeNull();
      await seat(p, 's1', 'r');
      expect((await store.admit(p, msg('u', 'r'), 'k', now, rules, { socketId: 's1' })).ok).toBe(true);
      expect(await store.admit(p, msg('u', 'r'), 'k2', now + 1000, rules, { socketId: 's1' })).toMatchObject({ ok: false, code: 'EM005' });
      await seat(p, 's2', 'r');
      expect(await store.admit(p, msg('muted', 'r'), 'k', now, rules, { socketId: 's2' })).toMatchObject({ ok: false, code: 'EM004' });
    });

    it('duplicates: the same text key from the same user in the same room within the window', async () => {
      expect((await store.admit(p, msg('u', 'r'), 'same', now, rules)).ok).toBe(true);
      expect(await store.admit(p, msg('u', 'r'), 'same', now + 9999, rules)).toEqual({ ok: false, code: 'EM006' });
      expect((await store.admit(p, msg('u', 'r2'), 'same', now + 1, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('v', 'r'), 'same', now + 1, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('u', 'r'), 'other', now + 2, rules)).ok).toBe(true);
      // The last text is now 'other', so 'same' passes; and after the window anything does.
      expect((await store.admit(p, msg('u', 'r'), 'same', now + 3, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('u', 'r'), 'same', now + 10_003, rules)).ok).toBe(true);
      expect((await store.admit(p, msg('w', 'r'), 'x', now, { ...rules, duplicateWindowMs: 0 })).ok).toBe(true);
      expect((await store.admit(p, msg('w', 'r'), 'x', now, { ...rules, duplicateWindowMs: 0 })).ok).toBe(true);
    });

    it('indexes admitted messages only, up to its size; a removal is claimed exactly once', async () => {
      const kept = msg('u', 'r', 'hello');
      expect((await store.admit(p, kept, 'k1', now, rules)).ok).toBe(true);
      expect(await store.message(p, kept.id)).toEqual(kept);
      await store.mute(p, { userUID: 'm', until: now + 1000 }, now);
      const refused = msg('m', 'r');
      await store.admit(p, refused, 'k2', now, rules);
      expect(await store.message(p, refused.id)).toBeNull();
      const claims = await Promise.all(Array.from({ length: 8 }, () => store.claimRemoval(p, kept.id)));
      expect(claims.filter((c) => c !== null)).toEqual([kept]);
      expect(await store.claimRemoval(p, kept.id)).toBeNull();
      // Still indexed: reports of a hidden message go on counting.
      expect(await store.message(p, kept.id)).toEqual(kept);
      const small = { ...rules, indexSize: 3 };
      const many = Array.from({ length: 5 }, (_, i) => msg(`s${i}`, 'r'));
      for (const m of many) await store.admit(p, m, m.id, now, small);
      expect(await store.message(p, many[0]!.id)).toBeNull();
      expect(await store.message(p, many[1]!.id)).toBeNull();
      expect(await store.message(p, many[4]!.id)).toEqual(many[4]);
    });

    it('decides concurrent posts once: with slow mode, exactly one of many at the same instant gets in', async () => {
      await store.setSlowMode(p, 'r', 30);
      const outs = await Promise.all(Array.from({ length: 10 }, (_, i) => store.admit(p, msg('u', 'r'), `k${i}`, now, rules)));
      expect(outs.filter((o) => o.ok)).toHaveLength(1);
    });

    it('forgets a programme', async () => {
      await store.mute(p, { userUID: 'u', until: now + 1000 }, now);
      await store.setSlowMode(p, null, 5);
      await store.forget(p);
      expect(await store.mutes(p, now)).toEqual([]);
      expect(await store.slowModes(p)).toEqual([]);
    });
  });
}
