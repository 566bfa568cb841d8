import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { PostgresRecordStore } from './postgres-store.js';
import type { RecordStore } from './record-store.js';
import { SqliteRecordStore } from './sqlite-store.js';

export type { RecordStore } from './record-store.js';

/** PostgreSQL with `DATABASE_URL`, else a SQLite file in `DATA_DIR`; migrated before use. */
export async function openRecordStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<RecordStore> {
  const store = config.databaseUrl
    ? new PostgresRecordStore(config.databaseUrl)
    : new SqliteRecordStore(join(resolve(config.dataDir), 'onair.db'));
  await store.migrate();
  return store;
}
