/**
 * Moderation state of one process, in memory: each method runs without an await, so each is
 * atomic as `MemoryStore`'s are. Expired mutes and windows are dropped when next looked at.
 */
import type { Admission, AdmitRules, IndexedMessage, ModerationStore, Mute, SlowMode } from '../../domain/ports/moderation-store.js';

interface Last {
  at: number;
  textKey: string;
}

class ProgramModeration {
  readonly mutes = new Map<string, Mute>();
  /** By roomId; '' for the whole programme. */
  readonly slow = new Map<string, number>();
  /** By `roomId userUID`. */
  readonly last = new Map<string, Last>();
  /** Insertion order is age: the oldest go first when the index is full. */
  readonly index = new Map<string, IndexedMessage & { removed?: true }>();
}

/** Where a socket sits: `MemoryStore.seatOf` answers at once, keeping `admit` atomic; another
 * store of this process (a test's) may answer with a promise. */
export type SeatOf = (p: string, socketId: string) => string | null | Promise<string | null>;

export class MemoryModeration implements ModerationStore {
  private readonly state = new Map<string, ProgramModeration>();

  /** `seatOf`: the state store of the same process, for `admit`'s seat check. */
  constructor(private readonly seatOf: SeatOf) {}

  private program(p: string): ProgramModeration {
    let s = this.state.get(p);
    if (!s) {
      s = new ProgramModeration();
      this.state.set(p, s);
    }
    return s;
  }

  private activeMute(s: ProgramModeration | undefined, userUID: string, now: number): Mute | null {
    const m = s?.mutes.get(userUID);
    if (!m) return null;
    if (m.until > now) return m;
    s!.mutes.delete(userUID);
    return null;
  }

  async admit(p: string, message: IndexedMessage, textKey: string, now: number, rules: AdmitRules, seat?: { socketId: string }): Promise<Admission> {
    if (seat) {
      const at = this.seatOf(p, seat.socketId);
      if ((at instanceof Promise ? await at : at) !== message.roomId) return { ok: false, code: 'EM001' };
    }
    const s = this.program(p);
    const mute = this.activeMute(s, message.userUID, now);
    if (mute) return { ok: false, code: 'EM004', until: mute.until };
    const key = `${message.roomId} ${message.userUID}`;
    const last = s.last.get(key);
    const slowMs = (s.slow.get(message.roomId) ?? s.slow.get('') ?? 0) * 1000;
    if (last && slowMs > 0 && now - last.at < slowMs) return { ok: false, code: 'EM005', retryAfterMs: last.at + slowMs - now };
    if (last && rules.duplicateWindowMs > 0 && last.textKey === textKey && now - last.at < rules.duplicateWindowMs) return { ok: false, code: 'EM006' };
    s.last.delete(key);
    s.last.set(key, { at: now, textKey });
    // The windows of users who went quiet are of no use once longer than the longest rule.
    const keep = Math.max(rules.duplicateWindowMs, ...[...s.slow.values()].map((v) => v * 1000));
    for (const [k, l] of s.last) {
      if (now - l.at < keep) break;
      s.last.delete(k);
    }
    s.index.set(message.id, { ...message });
    while (s.index.size > rules.indexSize) s.index.delete(s.index.keys().next().value!);
    return { ok: true };
  }

  async mutedUntil(p: string, userUID: string, now: number): Promise<number> {
    return this.activeMute(this.state.get(p), userUID, now)?.until ?? 0;
  }

  async mute(p: string, mute: Mute, now: number): Promise<void> {
    if (mute.until > now) this.program(p).mutes.set(mute.userUID, { ...mute });
  }

  async unmute(p: string, userUID: string, now: number): Promise<boolean> {
    const s = this.state.get(p);
    const active = this.activeMute(s, userUID, now) !== null;
    s?.mutes.delete(userUID);
    return active;
  }

  async mutes(p: string, now: number): Promise<Mute[]> {
    const s = this.state.get(p);
    if (!s) return [];
    return [...s.mutes.values()]
      .filter((m) => this.activeMute(s, m.userUID, now))
      .sort((a, b) => a.until - b.until || (a.userUID < b.userUID ? -1 : 1))
      .map((m) => ({ ...m }));
  }

  async setSlowMode(p: string, roomId: string | null, seconds: number): Promise<void> {
    const s = this.program(p);
    if (seconds > 0) s.slow.set(roomId ?? '', seconds);
    else s.slow.delete(roomId ?? '');
  }

  async slowModes(p: string): Promise<SlowMode[]> {
    return [...(this.state.get(p)?.slow ?? new Map<string, number>())].map(([roomId, seconds]) => ({ roomId: roomId || null, seconds }));
  }

  async message(p: string, id: string): Promise<IndexedMessage | null> {
    const m = this.state.get(p)?.index.get(id);
    if (!m) return null;
    return { id: m.id, roomId: m.roomId, userUID: m.userUID, msg: m.msg, ts: m.ts };
  }

  async claimRemoval(p: string, id: string): Promise<IndexedMessage | null> {
    const m = this.state.get(p)?.index.get(id);
    if (!m || m.removed) return null;
    m.removed = true;
    return { id: m.id, roomId: m.roomId, userUID: m.userUID, msg: m.msg, ts: m.ts };
  }

  async forget(p: string): Promise<void> {
    this.state.delete(p);
  }
}
