/**
 * Durable records, behind one interface with a SQLite and a PostgreSQL implementation. What is
 * kept here outlives every process: finished aggros now; the schedule, persistent rooms and bans
 * join them with the operator features. Every implementation runs the versioned migrations of
 * `migrations.ts` at start.
 */
import type { Ban } from '../domain/bans.js';
import type { AggroRecord, EndReason, Room } from '../domain/model.js';
import type { Programme } from '../domain/schedule.js';
import type { ModerationRecords } from '../domain/ports/moderation-records.js';

export interface AggroPage {
  items: AggroRecord[];
  /** Opaque cursor of the next page, or `null` at the end. */
  next: string | null;
}

/** A page of a programme's records; `q` keeps those whose message or author's name contains
 * it (letter case aside), so an operator finds one aggro among a night's thousands. */
export interface AggroPageQuery {
  limit: number;
  cursor?: string | null;
  q?: string | null;
}

export interface RecordStore {
  /** Bring the schema to the latest version; safe to run at every start, from many servers. */
  migrate(): Promise<void>;
  /**
   * Keep a finished aggro. Resolves once it is durable. Writing the same `aggroUID` again keeps
   * the first record and answers `false`: with many servers no record is written twice.
   */
  saveAggro(record: AggroRecord): Promise<boolean>;
  /** Recorded aggros of a programme, highest `point` first (then latest end). */
  listAggros(scheduleUID: string, page: AggroPageQuery): Promise<AggroPage>;
  /** A user's recorded aggros, newest end first (then `aggroUID`, descending); the cursor is
   * `encodeUserCursor`'s. */
  listUserAggros(userUID: string, page: { limit: number; cursor?: string | null }): Promise<AggroPage>;

  /** The schedule, earliest first. */
  listPrograms(): Promise<Programme[]>;
  /** Create or replace. */
  putProgram(p: Programme, now: number): Promise<void>;
  deleteProgram(scheduleUID: string): Promise<boolean>;

  /** A programme's persistent rooms in creation order. */
  listRooms(scheduleUID: string): Promise<Room[]>;
  saveRoom(scheduleUID: string, room: Room): Promise<void>;
  deleteRoom(scheduleUID: string, roomId: string): Promise<boolean>;

  /** One ban per user and reach (a programme, or everywhere); putting it again replaces it. */
  putBan(ban: Ban): Promise<void>;
  deleteBan(userUID: string, scheduleUID: string | undefined): Promise<boolean>;
  /** Bans in force at `now`. */
  listBans(now: number): Promise<Ban[]>;
  /** The ban keeping the user out of the programme at `now`, if any. */
  findBan(userUID: string, scheduleUID: string, now: number): Promise<Ban | null>;

  /** The word filter, the audit log and reports (spec section 9). */
  readonly moderation: ModerationRecords;

  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const END_REASONS: readonly EndReason[] = ['expired', 'room_emptied', 'removed', 'program_ended', 'shutdown'];

/** The position after the last item of a page, as an opaque string. */
export function encodeCursor(r: { point: number; endedAt: number; aggroUID: string }): string {
  return Buffer.from(JSON.stringify([r.point, r.endedAt, r.aggroUID])).toString('base64url');
}

export function decodeCursor(cursor: string): { point: number; endedAt: number; aggroUID: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 3) return null;
    const [point, endedAt, aggroUID] = v as unknown[];
    if (!Number.isSafeInteger(point) || !Number.isSafeInteger(endedAt) || typeof aggroUID !== 'string') return null;
    return { point: point as number, endedAt: endedAt as number, aggroUID };
  } catch {
    return null;
  }
}

/** The position after the last item of a page of one user's aggros (newest first). */
export function encodeUserCursor(r: { endedAt: number; aggroUID: string }): string {
  return Buffer.from(JSON.stringify([r.endedAt, r.aggroUID])).toString('base64url');
}

export function decodeUserCursor(cursor: string): { endedAt: number; aggroUID: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2) return null;
    const [endedAt, aggroUID] = v as unknown[];
    if (!Number.isSafeInteger(endedAt) || typeof aggroUID !== 'string') return null;
    return { endedAt: endedAt as number, aggroUID };
  } catch {
    return null;
  }
}
