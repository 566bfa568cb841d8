/**
 * What both databases share: the operator's records (schedule, persistent rooms, bans) written
 * once over a `SqlRunner` each store provides. Statements use PostgreSQL's `$n` placeholders,
 * which the SQLite runner rewrites.
 */
import { banApplies, banScope, EVERYWHERE, type Ban } from '../domain/bans.js';
import type { Room } from '../domain/model.js';
import type { AggroRecord } from '../domain/model.js';
import type { Programme } from '../domain/schedule.js';
import { decodeUserCursor, encodeUserCursor, type AggroPage, type AggroPageQuery, type RecordStore } from './record-store.js';
import { rowToRecord, type AggroRow } from './rows.js';
import { SqlModerationRecords } from './moderation-records.js';
import type { ModerationRecords } from '../domain/ports/moderation-records.js';

export interface SqlRunner {
  all<T>(sql: string, params: unknown[]): Promise<T[]>;
  /** Rows changed. */
  run(sql: string, params: unknown[]): Promise<number>;
}

interface ProgrammeRow {
  schedule_uid: string;
  title: string;
  broadcaster: string;
  start_at: number | string;
  end_at: number | string;
}

interface RoomRow {
  room_id: string;
  title: string;
  max: number | string;
  password_hash: string | null;
  created_at: number | string;
}

interface BanRow {
  user_uid: string;
  scope: string;
  reason: string | null;
  until: number | string | null;
  created_at: number | string;
}

function banFromRow(r: BanRow): Ban {
  const ban: Ban = { userUID: r.user_uid, createdAt: Number(r.created_at) };
  if (r.scope !== EVERYWHERE) ban.scheduleUID = r.scope;
  if (r.reason !== null) ban.reason = r.reason;
  if (r.until !== null) ban.until = Number(r.until);
  return ban;
}

export abstract class SqlRecordStore implements RecordStore {
  protected abstract readonly sql: SqlRunner;
  abstract migrate(): Promise<void>;
  private moderationRecords?: SqlModerationRecords;

  /** Made on first use: `sql` is the subclass's, not there yet while this class initialises. */
  get moderation(): ModerationRecords {
    return (this.moderationRecords ??= new SqlModerationRecords(this.sql));
  }
  abstract saveAggro(record: AggroRecord): Promise<boolean>;
  abstract listAggros(scheduleUID: string, page: AggroPageQuery): Promise<AggroPage>;

  /** Both dialects take the row-value bound, and both read it as one range of `aggros_mine`. */
  async listUserAggros(userUID: string, page: { limit: number; cursor?: string | null }): Promise<AggroPage> {
    const after = page.cursor ? decodeUserCursor(page.cursor) : null;
    const rows = after
      ? await this.sql.all<AggroRow>(
          'SELECT * FROM aggros WHERE user_uid = $1 AND (ended_at, aggro_uid) < ($2, $3) ORDER BY ended_at DESC, aggro_uid DESC LIMIT $4',
          [userUID, after.endedAt, after.aggroUID, page.limit + 1],
        )
      : await this.sql.all<AggroRow>('SELECT * FROM aggros WHERE user_uid = $1 ORDER BY ended_at DESC, aggro_uid DESC LIMIT $2', [userUID, page.limit + 1]);
    const items = rows.slice(0, page.limit).map(rowToRecord);
    const last = items.at(-1);
    return { items, next: rows.length > page.limit && last ? encodeUserCursor(last) : null };
  }
  abstract close(): Promise<void>;

  async ping(): Promise<boolean> {
    try {
      await this.sql.all('SELECT 1', []);
      return true;
    } catch {
      return false;
    }
  }

  async listPrograms(): Promise<Programme[]> {
    const rows = await this.sql.all<ProgrammeRow>('SELECT * FROM programs ORDER BY start_at, schedule_uid', []);
    return rows.map((r) => ({
      scheduleUID: r.schedule_uid,
      title: r.title,
      broadcaster: r.broadcaster,
      startAt: Number(r.start_at),
      endAt: Number(r.end_at),
    }));
  }

  async putProgram(p: Programme, now: number): Promise<void> {
    await this.sql.run(
      `INSERT INTO programs (schedule_uid, title, broadcaster, start_at, end_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (schedule_uid) DO UPDATE SET title = excluded.title, broadcaster = excluded.broadcaster,
         start_at = excluded.start_at, end_at = excluded.end_at, updated_at = excluded.updated_at`,
      [p.scheduleUID, p.title, p.broadcaster, p.startAt, p.endAt, now],
    );
  }

  async deleteProgram(scheduleUID: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM programs WHERE schedule_uid = $1', [scheduleUID])) > 0;
  }

  async listRooms(scheduleUID: string): Promise<Room[]> {
    const rows = await this.sql.all<RoomRow>('SELECT * FROM persistent_rooms WHERE schedule_uid = $1 ORDER BY created_at, room_id', [scheduleUID]);
    return rows.map((r) => {
      const room: Room = { roomId: r.room_id, title: r.title, max: Number(r.max), persistent: true, createdAt: Number(r.created_at) };
      if (r.password_hash !== null) room.passwordHash = r.password_hash;
      return room;
    });
  }

  async saveRoom(scheduleUID: string, room: Room): Promise<void> {
    await this.sql.run(
      'INSERT INTO persistent_rooms (room_id, schedule_uid, title, max, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [room.roomId, scheduleUID, room.title, room.max, room.passwordHash ?? null, room.createdAt],
    );
  }

  async deleteRoom(scheduleUID: string, roomId: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM persistent_rooms WHERE schedule_uid = $1 AND room_id = $2', [scheduleUID, roomId])) > 0;
  }

  async putBan(ban: Ban): Promise<void> {
    await this.sql.run(
      `INSERT INTO bans (user_uid, scope, reason, until, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_uid, scope) DO UPDATE SET reason = excluded.reason, until = excluded.until, created_at = excluded.created_at`,
      [ban.userUID, banScope(ban.scheduleUID), ban.reason ?? null, ban.until ?? null, ban.createdAt],
    );
  }

  async deleteBan(userUID: string, scheduleUID: string | undefined): Promise<boolean> {
    return (await this.sql.run('DELETE FROM bans WHERE user_uid = $1 AND scope = $2', [userUID, banScope(scheduleUID)])) > 0;
  }

  /** Bans still in force. */
  async listBans(now: number): Promise<Ban[]> {
    const rows = await this.sql.all<BanRow>('SELECT * FROM bans WHERE until IS NULL OR until > $1 ORDER BY created_at, user_uid, scope', [now]);
    return rows.map(banFromRow);
  }

  /** The ban keeping the user out of the programme now, if any. */
  async findBan(userUID: string, scheduleUID: string, now: number): Promise<Ban | null> {
    const rows = await this.sql.all<BanRow>('SELECT * FROM bans WHERE user_uid = $1 AND scope IN ($2, $3)', [userUID, scheduleUID, EVERYWHERE]);
    return rows.map(banFromRow).find((b) => banApplies(b, scheduleUID, now)) ?? null;
  }
}
