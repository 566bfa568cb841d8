/** Records in PostgreSQL (`DATABASE_URL`): every server of a cluster writes to the same one. */
import pg from 'pg';
import type { AggroRecord } from '../domain/model.js';
import { MIGRATIONS } from './migrations.js';
import { decodeCursor, encodeCursor, type AggroPage, type AggroPageQuery } from './record-store.js';
import { SqlRecordStore, type SqlRunner } from './sql-record-store.js';
import { recordParams, rowToRecord } from './rows.js';

/** Any number of servers may start at once: one at a time migrates, under this advisory lock. */
const MIGRATION_LOCK = 0x6f6e6169; // "onai"

export class PostgresRecordStore extends SqlRecordStore {
  private readonly pool: pg.Pool;
  protected readonly sql: SqlRunner = {
    all: async <T>(sql: string, params: unknown[]) => (await this.pool.query(sql, params)).rows as T[],
    run: async (sql: string, params: unknown[]) => (await this.pool.query(sql, params)).rowCount ?? 0,
  };

  constructor(url: string, options: { schema?: string } = {}) {
    super();
    this.pool = new pg.Pool({
      connectionString: url,
      max: 5,
      connectionTimeoutMillis: 3000,
      // A silenced line never answers: without this a query waits for TCP to give up (minutes),
      // holding one of the pool's few connections.
      query_timeout: 10_000,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client losing its connection must not take the process down.
    this.pool.on('error', () => {});
  }

  async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await c.query('BEGIN');
        try {
          for (const sql of m.statements) await c.query(sql);
          await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      c.release();
    }
  }

  async saveAggro(record: AggroRecord): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO aggros (aggro_uid, schedule_uid, room_id, user_uid, display_name, msg, type, title_broad, point, up, down, started_at, ended_at, end_reason, photo_url)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (aggro_uid) DO NOTHING`,
      recordParams(record),
    );
    return r.rowCount === 1;
  }

  async listAggros(scheduleUID: string, page: AggroPageQuery): Promise<AggroPage> {
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const q = page.q ? page.q.toLowerCase() : null;
    const search = (n: number) => (q ? ` AND (strpos(lower(msg), $${n}) > 0 OR strpos(lower(display_name), $${n}) > 0)` : '');
    const r = after
      ? await this.pool.query(
          // `point <= $2` bounds the index scan (see the SQLite store).
          `SELECT * FROM aggros WHERE schedule_uid = $1 AND point <= $2
             AND (point < $2 OR (point = $2 AND (ended_at < $3 OR (ended_at = $3 AND aggro_uid > $4))))${search(6)}
           ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT $5`,
          [scheduleUID, after.point, after.endedAt, after.aggroUID, page.limit + 1, ...(q ? [q] : [])],
        )
      : await this.pool.query(`SELECT * FROM aggros WHERE schedule_uid = $1${search(3)} ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT $2`, [
          scheduleUID,
          page.limit + 1,
          ...(q ? [q] : []),
        ]);
    const items = r.rows.slice(0, page.limit).map(rowToRecord);
    const last = items.at(-1);
    return { items, next: r.rows.length > page.limit && last ? encodeCursor(last) : null };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
