/**
 * The shared state of moderation (spec section 9): mutes, slow mode, each user's last post per
 * room (slow mode and duplicates) and an index of recent messages (who wrote what where, for
 * removal and reports). Like `StateStore`, every method is one atomic decision across every
 * server sharing the backend: in memory (`src/state/memory/memory-moderation.ts`) and, with
 * `REDIS_URL`, one Lua script each (`src/state/redis/redis-moderation.ts`). Everything here
 * ends by itself: mutes, posts and duplicates when their time is up, the index by its size.
 *
 * `p` is always the programme; `now` is the caller's clock, so the memory and Redis stores
 * agree with the domain on when a mute ends.
 */

/** A message as the index keeps it. */
export interface IndexedMessage {
  id: string;
  roomId: string;
  userUID: string;
  msg: string;
  ts: number;
}

export type Admission =
  | { ok: true }
  | { ok: false; code: 'EM001' }
  | { ok: false; code: 'EM004'; until: number }
  | { ok: false; code: 'EM005'; retryAfterMs: number }
  | { ok: false; code: 'EM006' };

export interface AdmitRules {
  /** How long the same text from the same user in the same room is refused (EM006); 0: never. */
  duplicateWindowMs: number;
  /** How many recent messages of the programme the index holds. */
  indexSize: number;
}

export interface Mute {
  userUID: string;
  until: number;
  reason?: string;
}

export interface SlowMode {
  /** `null`: every room of the programme. */
  roomId: string | null;
  seconds: number;
}

export interface ModerationStore {
  /**
   * May this user post `message` now? In this order: muted (EM004 with `until`), slow mode of
   * the room or else of the programme (EM005 with the ms left), the same text as the user's last
   * in this room within `duplicateWindowMs` (EM006, compared after `textKey`). Admitted, the post
   * starts the user's slow-mode and duplicate windows and goes into the index, in the same step.
   * With `seat`, first of all: EM001 unless that socket sits in `message.roomId` (the state
   * store's seat), so an outsider never opens a window, and the chat path needs no round trip
   * of its own to ask.
   */
  admit(p: string, message: IndexedMessage, textKey: string, now: number, rules: AdmitRules, seat?: { socketId: string }): Promise<Admission>;

  /** Until when the user is muted in the programme; 0 when not. */
  mutedUntil(p: string, userUID: string, now: number): Promise<number>;

  /** Mute until `until` (a later mute replaces the time). */
  mute(p: string, mute: Mute, now: number): Promise<void>;

  /** `false` when the user was not muted. */
  unmute(p: string, userUID: string, now: number): Promise<boolean>;

  /** Mutes in force, soonest end first. */
  mutes(p: string, now: number): Promise<Mute[]>;

  /** Set the slow mode of a room (or, `roomId` null, of every room without its own); 0 ends it. */
  setSlowMode(p: string, roomId: string | null, seconds: number): Promise<void>;

  slowModes(p: string): Promise<SlowMode[]>;

  /** The indexed message, removed or not (reports of a hidden message still count), unless it
   * has left the index. */
  message(p: string, id: string): Promise<IndexedMessage | null>;

  /** Mark the message removed: it comes back once to exactly one caller, then never again
   * (`null`), however many removals (an operator, reports reaching the threshold) race. */
  claimRemoval(p: string, id: string): Promise<IndexedMessage | null>;

  /** Forget the programme's moderation state (it ended). */
  forget(p: string): Promise<void>;
}
