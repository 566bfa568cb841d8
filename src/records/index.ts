import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { JOURNAL_FILE, JournalOutbox } from './journal.js';
import type { Outbox } from './outbox.js';
import { OutboxRecordSink, type RecordsObserver } from './outbox-sink.js';
import { PostgresRecordStore } from './postgres-store.js';
import type { RecordStore } from './record-store.js';
import { RedisOutbox, type RedisOutboxCommands } from './redis-outbox.js';
import { SqliteRecordStore } from './sqlite-store.js';
import type { Logger } from 'pino';

export type { RecordStore } from './record-store.js';

/** PostgreSQL with `DATABASE_URL`, else a SQLite file in `DATA_DIR`; migrated before use. */
export async function openRecordStore(config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'sqliteBusyTimeoutMs'>>): Promise<RecordStore> {
  const store = config.databaseUrl
    ? new PostgresRecordStore(config.databaseUrl)
    : new SqliteRecordStore(join(resolve(config.dataDir), 'onair.db'), config.sqliteBusyTimeoutMs === undefined ? {} : { busyTimeoutMs: config.sqliteBusyTimeoutMs });
  await store.migrate();
  return store;
}

/** The server's record sink: the database, with Redis (when there is one) then a journal in
 * `DATA_DIR` as the outbox. Draining starts at once: records a previous run left come first. */
export function openRecordSink(
  config: Pick<Config, 'dataDir' | 'redisPrefix' | 'recordsRetryMs' | 'recordsWriteTimeoutMs'>,
  store: RecordStore,
  /** `redisCluster`: the outbox is on a Redis Cluster, which never had the untagged outbox of
   * earlier versions (`RedisOutbox`), so there is none to drain. */
  deps: { redis?: RedisOutboxCommands | undefined; redisCluster?: boolean; log: Logger; observer: RecordsObserver },
): OutboxRecordSink {
  const outboxes: Outbox[] = [];
  if (deps.redis) outboxes.push(new RedisOutbox(deps.redis, config.redisPrefix, { legacy: !deps.redisCluster }));
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true });
  outboxes.push(new JournalOutbox(join(dir, JOURNAL_FILE)));
  const sink = new OutboxRecordSink(store, outboxes, {
    retryMs: config.recordsRetryMs,
    writeTimeoutMs: config.recordsWriteTimeoutMs,
    log: deps.log,
    observer: deps.observer,
  });
  sink.start();
  return sink;
}
