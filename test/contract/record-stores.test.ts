/** The record-store contract on SQLite (a temp file) and on the machine's PostgreSQL, each run in
 * a fresh schema of its own that is dropped afterwards. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresRecordStore } from '../../src/records/postgres-store.js';
import type { RecordStore } from '../../src/records/record-store.js';
import { SqliteRecordStore } from '../../src/records/sqlite-store.js';
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
