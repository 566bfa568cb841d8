/** The record-store contract on SQLite (a temp file) and on the machine's PostgreSQL, each run in
 * a fresh schema of its own that is dropped afterwards; then an upgrade from version 1 on both. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { AggroRecord } from '../../src/domain/model.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/records/migrations.js';
import { PostgresRecordStore } from '../../src/records/postgres-store.js';
import type { RecordStore } from '../../src/records/record-store.js';
import { keepAlive, SqliteRecordStore } from '../../src/records/sqlite-store.js';
import { recordStoreContract } from './record-store-contract.js';

export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

recordStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onair-sqlite-'));
  const file = join(dir, 'onair.db');
  let current: RecordStore = new SqliteRecordStore(file);
  return {
    store: current,
    async reopen() {
      await current.close();
      current = new SqliteRecordStore(file);
      return current;
    },
    async close() {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

recordStoreContract('postgres', async () => {
  const schema = `onair_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  let current: RecordStore = new PostgresRecordStore(PG_URL, { schema });
  return {
    store: current,
    async reopen() {
      await current.close();
      current = new PostgresRecordStore(PG_URL, { schema });
      return current;
    },
    async close() {
      await current.close().catch(() => {});
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
});

/** A database left at version 1 (finished aggros only, before the operator features) is brought
 * to the latest version at start, its records kept. */
describe('migrations from version 1', () => {
  const v1 = MIGRATIONS.filter((m) => m.version === 1);
  const aggro: AggroRecord = {
    aggroUID: 'a-v1',
    scheduleUID: 'prog-v1',
    roomId: 'room1',
    userUID: 'u1',
    displayName: 'Mina',
    msg: 'kept',
    type: 'A',
    titleBroad: 'News_KBS',
    point: 4,
    up: 4,
    down: 0,
    startedAt: 1_795_000_000_000,
    endedAt: 1_795_000_030_000,
    endReason: 'expired',
  };

  const V1_INSERT = `INSERT INTO aggros (aggro_uid, schedule_uid, room_id, user_uid, display_name, msg, type, title_broad, point, up, down, started_at, ended_at, end_reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
  const v1Params = [aggro.aggroUID, aggro.scheduleUID, aggro.roomId, aggro.userUID, aggro.displayName, aggro.msg, aggro.type, aggro.titleBroad, aggro.point, aggro.up, aggro.down, aggro.startedAt, aggro.endedAt, aggro.endReason];

  async function usable(store: RecordStore): Promise<void> {
    expect((await store.listAggros('prog-v1', { limit: 5 })).items).toEqual([aggro]);
    await store.putProgram({ scheduleUID: 'prog-v1', title: 'News', broadcaster: 'KBS', startAt: 1, endAt: 2 }, 3);
    expect(await store.listPrograms()).toHaveLength(1);
    await store.putBan({ userUID: 'u1', createdAt: 1 });
    expect(await store.findBan('u1', 'prog-v1', 2)).not.toBeNull();
  }

  it('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onair-sqlite-v1-'));
    const file = join(dir, 'onair.db');
    try {
      // Kept alive like the store's own (see keepAlive): Node 24 aborts when GC finalises them.
      const db = keepAlive(new Database(file));
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      for (const m of v1) {
        for (const sql of m.statements) db.exec(sql);
        db.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}', 0)`);
      }
      // Written as a version-1 server wrote it: today's store writes columns of later versions.
      keepAlive(db.prepare(V1_INSERT.replace(/\$\d+/g, '?'))).run(...v1Params);
      db.close();
      const store = new SqliteRecordStore(file);
      try {
        await store.migrate();
        await store.migrate();
        await usable(store);
      } finally {
        await store.close();
      }
      const check = keepAlive(new Database(file, { readonly: true }));
      const versions = keepAlive(check.prepare('SELECT version FROM schema_migrations ORDER BY version')).all() as { version: number }[];
      check.close();
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(versions.at(-1)?.version).toBe(LATEST_VERSION);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('postgres', async () => {
    const schema = `onair_test_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      for (const m of v1) {
        for (const sql of m.statements) await admin.query(sql);
        await admin.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)', [m.version, m.name]);
      }
      await admin.query(V1_INSERT, v1Params);
      const store = new PostgresRecordStore(PG_URL, { schema });
      try {
        await store.migrate();
        await store.migrate();
        await usable(store);
      } finally {
        await store.close();
      }
      const versions = (await admin.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows;
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(versions.at(-1)?.version).toBe(LATEST_VERSION);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
