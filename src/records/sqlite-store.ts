/** Records in a SQLite file (better-sqlite3): the default, in `DATA_DIR`. */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { AggroRecord } from '../domain/model.js';
import { recordParams, rowToRecord, type AggroRow } from './rows.js';
import { MIGRATIONS } from './migrations.js';
import { decodeCursor, encodeCursor, type AggroPage, type AggroPageQuery } from './record-store.js';
import { SqlRecordStore, type SqlRunner } from './sql-record-store.js';

/**
 * better-sqlite3 12's native objects must never be garbage-collected on Node >= 24.19: their
 * finalisers call into Node outside a JavaScript context there and abort the process
 * (`RemoveEnvironmentCleanupHook: Assertion (env) != nullptr`; 13 fixes it but crashes on
 * Node 20). So each statement is prepared once and kept, and every database object made is kept
 * for the life of the process: a few dozen objects per store, and a process opens one store.
 */
const keptForever = new Set<unknown>();
export function keepAlive<T>(native: T): T {
  keptForever.add(native);
  return native;
}

/** `$n` placeholders to SQLite's `?`, with the parameters in the order they appear. */
function positional(sql: string, params: unknown[]): [string, unknown[]] {
  const ordered: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(params[Number(n) - 1]);
    return '?';
  });
  return [text, ordered];
}

/** A write lock held elsewhere makes a write fail after this long instead of waiting: SQLite
 * waits on the event loop, so a long wait freezes every socket of the server. */
export const DEFAULT_BUSY_TIMEOUT_MS = 50;

/**
 * Pauses, off the event loop, before a write that met another process's lock tries again. Servers
 * sharing one file take turns at its lock for each commit, and a commit's fsync on a busy disk can
 * outlast the busy timeout: a viewer's report or a moderator's ban should then wait its turn, not
 * fail. About 0.4 s in all: a lock held longer than that is a fault, and the write fails.
 */
const BUSY_RETRY_PAUSES_MS = [25, 50, 100, 200];

function isBusy(err: unknown): boolean {
  return String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_BUSY');
}

/** Reopening is for a file that has become writable again; not more often than this, since
 * every connection opened is kept for the life of the process (see `keepAlive`). */
const REOPEN_EVERY_MS = 30_000;

export class SqliteRecordStore extends SqlRecordStore {
  private db: Database.Database;
  private reopenedAt = 0;
  private readonly statements = new Map<string, Database.Statement>();
  protected readonly sql: SqlRunner = {
    all: async <T>(sql: string, params: unknown[]) => {
      const [text, args] = positional(sql, params);
      return this.statement(text).all(...args) as T[];
    },
    run: async (sql: string, params: unknown[]) => {
      const [text, args] = positional(sql, params);
      for (const pause of BUSY_RETRY_PAUSES_MS) {
        try {
          return this.statement(text).run(...args).changes;
        } catch (err) {
          if (!isBusy(err)) throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
      return this.statement(text).run(...args).changes;
    },
  };

  /** Prepared once per text (the texts are this module's own, so the cache is bounded). */
  private statement(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = keepAlive(this.db.prepare(text));
      this.statements.set(text, st);
    }
    return st;
  }

  constructor(
    private readonly file: string,
    private readonly options: { busyTimeoutMs?: number } = {},
  ) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = this.open();
  }

  private get busyTimeoutMs(): number {
    return Math.max(0, Math.floor(this.options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
  }

  private open(): Database.Database {
    const db = keepAlive(new Database(this.file));
    // WAL: readers never block the writer (nor wait for one holding the write lock), and a
    // committed record survives a crash. (`exec`, not `pragma`, which would prepare a statement
    // to throw away.)
    db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    return db;
  }

  /**
   * SQLite opens a file it cannot write read-only, and the connection stays read-only after the
   * file becomes writable (a remount): open it again then, so waiting records can be written.
   */
  private reopenIfWritable(err: unknown): void {
    if (this.file === ':memory:' || !String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_READONLY')) return;
    const now = Date.now();
    if (now - this.reopenedAt < REOPEN_EVERY_MS) return;
    try {
      accessSync(dirname(this.file), constants.W_OK);
      accessSync(this.file, constants.W_OK);
    } catch {
      return;
    }
    this.reopenedAt = now;
    const db = this.open();
    // The old connection and its statements stay kept (never garbage-collected, see above).
    if (this.db.open) this.db.close();
    this.db = db;
    this.statements.clear();
  }

  async migrate(): Promise<void> {
    // At start nothing is served yet, so waiting for another server's migration is harmless.
    this.db.exec('PRAGMA busy_timeout = 5000');
    try {
      this.migrateNow();
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private migrateNow(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    // IMMEDIATE takes the write lock before reading what is applied: processes sharing the file
    // (servers started together) migrate one after another, never twice.
    this.db
      .transaction(() => {
        const applied = new Set(this.statement('SELECT version FROM schema_migrations').all().map((r) => (r as { version: number }).version));
        for (const m of MIGRATIONS) {
          if (applied.has(m.version)) continue;
          for (const sql of m.statements) this.db.exec(sql);
          this.statement('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        }
      })
      .immediate();
  }

  async saveAggro(record: AggroRecord): Promise<boolean> {
    try {
      const info = this
        .statement(
          `INSERT INTO aggros (aggro_uid, schedule_uid, room_id, user_uid, display_name, msg, type, title_broad, point, up, down, started_at, ended_at, end_reason, photo_url)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (aggro_uid) DO NOTHING`,
        )
        .run(...recordParams(record));
      return info.changes === 1;
    } catch (err) {
      this.reopenIfWritable(err);
      throw err;
    }
  }

  async listAggros(scheduleUID: string, page: AggroPageQuery): Promise<AggroPage> {
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    // lower() of SQLite folds ASCII only; Hangul has no case, so Korean text matches as it is.
    const search = page.q ? ' AND (instr(lower(msg), ?) > 0 OR instr(lower(display_name), ?) > 0)' : '';
    const q = page.q ? [page.q.toLowerCase(), page.q.toLowerCase()] : [];
    const rows = (
      after
        ? this.statement(
              // `point <= ?` is what lets a later page start inside the index rather than
              // filter its way down from the programme's best.
              `SELECT * FROM aggros WHERE schedule_uid = ? AND point <= ?
                 AND (point < ? OR (point = ? AND (ended_at < ? OR (ended_at = ? AND aggro_uid > ?))))${search}
               ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT ?`,
            )
            .all(scheduleUID, after.point, after.point, after.point, after.endedAt, after.endedAt, after.aggroUID, ...q, page.limit + 1)
        : this.statement(`SELECT * FROM aggros WHERE schedule_uid = ?${search} ORDER BY point DESC, ended_at DESC, aggro_uid LIMIT ?`).all(scheduleUID, ...q, page.limit + 1)
    ) as AggroRow[];
    const items = rows.slice(0, page.limit).map(rowToRecord);
    const last = items.at(-1);
    return { items, next: rows.length > page.limit && last ? encodeCursor(last) : null };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
