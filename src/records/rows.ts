/** Mapping between finished aggros and their table's rows (`migrations.ts`), for every dialect. */
import type { AggroRecord } from '../domain/model.js';

/** PostgreSQL returns BIGINT as a string; SQLite as a number. */
export interface AggroRow {
  aggro_uid: string;
  schedule_uid: string;
  room_id: string;
  user_uid: string;
  display_name: string;
  msg: string;
  type: 'A' | 'AP';
  title_broad: string | null;
  /** Absent from rows written before migration 3 read by a test's raw query; null otherwise. */
  photo_url?: string | null;
  point: number | string;
  up: number | string;
  down: number | string;
  started_at: number | string;
  ended_at: number | string;
  end_reason: AggroRecord['endReason'];
}

export function rowToRecord(r: AggroRow): AggroRecord {
  const rec: AggroRecord = {
    aggroUID: r.aggro_uid,
    scheduleUID: r.schedule_uid,
    roomId: r.room_id,
    userUID: r.user_uid,
    displayName: r.display_name,
    msg: r.msg,
    type: r.type,
    point: Number(r.point),
    up: Number(r.up),
    down: Number(r.down),
    startedAt: Number(r.started_at),
    endedAt: Number(r.ended_at),
    endReason: r.end_reason,
  };
  if (r.title_broad !== null) rec.titleBroad = r.title_broad;
  if (r.photo_url) rec.photoURL = r.photo_url;
  return rec;
}

export function recordParams(r: AggroRecord): (string | number | null)[] {
  return [r.aggroUID, r.scheduleUID, r.roomId, r.userUID, r.displayName, r.msg, r.type, r.titleBroad ?? null, r.point, r.up, r.down, r.startedAt, r.endedAt, r.endReason, r.photoURL ?? null];
}

