/** The domain's data: what a room, a member and a live aggro are, independent of any backend. */
import type { ChatType, ErrorCode } from '../protocol/index.js';

/** A user as authenticated at the handshake; payload identity fields are never trusted. */
export interface Identity {
  userUID: string;
  displayName: string;
  photoURL?: string;
}

/** One connected socket in one programme. Membership is per socket so that a user's old and
 * new session (duplicate-session handover) can never remove each other's seat. */
export interface Member extends Identity {
  socketId: string;
}

export interface Room {
  roomId: string;
  title: string;
  max: number;
  /** scrypt hash with its salt; never leaves the server. */
  passwordHash?: string;
  /** Operator-made rooms stay when empty. */
  persistent: boolean;
  createdAt: number;
  /** The owner's userUID (spec 9): the creator of a user room, then whoever it passed to. An
   * operator's room has none. */
  ownerUID?: string;
}

export interface RoomView extends Room {
  count: number;
}

export interface LiveAggro {
  aggroUID: string;
  roomId: string;
  userUID: string;
  displayName: string;
  photoURL?: string;
  msg: string;
  type: Extract<ChatType, 'A' | 'AP'>;
  titleBroad?: string;
  point: number;
  up: number;
  down: number;
  startedAt: number;
  expiresAt: number;
  /** The last total sent as `aggroPoint` (0: the `aggro` event carried point 0). */
  pointSent: number;
  /** When that was sent, so that the final total keeps the batching interval. */
  pointSentAt: number;
}

export type EndReason = 'expired' | 'room_emptied' | 'removed' | 'program_ended' | 'shutdown';

/** What a finished aggro leaves behind, handed to the record sink. */
export interface AggroRecord {
  aggroUID: string;
  scheduleUID: string;
  roomId: string;
  userUID: string;
  displayName: string;
  /** The author's picture as authenticated, shown with the public list of a programme's best. */
  photoURL?: string;
  msg: string;
  type: 'A' | 'AP';
  titleBroad?: string;
  point: number;
  up: number;
  down: number;
  startedAt: number;
  endedAt: number;
  endReason: EndReason;
}

/** What a member leaving a room changed, as decided atomically by the store. */
export interface LeaveOutcome {
  roomId: string;
  member: Member;
  /** Members left in the room. */
  count: number;
  /** A user-made room that became empty is deleted with it. */
  deleted: boolean;
  /** The room's live aggro, ended because its last member left. */
  endedAggro?: LiveAggro;
  /** The owner left and the room passed to its longest-present member (spec 9), decided and
   * announced (`system` `OWNER`) inside the leave. */
  owner?: UserRef;
}

/** A user as named in a notice. */
export interface UserRef {
  userUID: string;
  displayName: string;
}

/** A refusal; EM004 carries `until` (the end of the mute), EM005 `retryAfterMs` (spec 9). */
export type Failure = { ok: false; code: ErrorCode; until?: number; retryAfterMs?: number };

export type Result<T extends object = object> = ({ ok: true } & T) | Failure;

export function fail(code: ErrorCode): { ok: false; code: ErrorCode } {
  return { ok: false, code };
}
