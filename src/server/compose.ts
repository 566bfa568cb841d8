/**
 * The composition root: opens what a server is made of from its configuration (the schedule
 * file, the state backends, the database, the record sink, the authenticator, the TLS material)
 * and hands it to `createApp`, which only assembles. A test hands in its own parts instead of
 * some of them (a store, a record sink, a clock).
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { randomIds, type IdSource } from '../domain/ids.js';
import type { RecordSink } from '../domain/ports/records.js';
import { ServerMetrics } from '../operator/metrics.js';
import { loadScheduleFile } from '../operator/schedule-file.js';
import { openRecordSink, openRecordStore, type RecordStore } from '../records/index.js';
import type { StateStore } from '../domain/ports/store.js';
import { createApp, type OnAirApp } from './app.js';
import { createAuthenticator, type Authenticator } from '../transport/auth.js';
import { createBackends, ownBackends, type Backends } from './backends.js';
import { loadTls } from './tls.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  /** State backend; in-memory (or Redis with `REDIS_URL`) when absent. */
  store?: StateStore;
  /** Where finished aggros go; the record store (with its outbox) when absent. */
  records?: RecordSink;
  /** The database (schedule, persistent rooms, bans, records); opened from the configuration when absent. */
  recordStore?: RecordStore;
  clock?: Clock;
  ids?: IdSource;
  authenticator?: Authenticator;
}

export async function openApp(deps: AppDeps): Promise<OnAirApp> {
  const { config, log } = deps;
  const clock = deps.clock ?? systemClock;
  // Read before anything opens: a bad file stops the start.
  const scheduleFile = config.scheduleFile ? loadScheduleFile(config.scheduleFile) : [];
  const authenticator = deps.authenticator ?? createAuthenticator(config.auth);
  const metrics = new ServerMetrics();
  const opened: { close(): Promise<void> }[] = [];
  try {
    const backends: Backends = deps.store
      ? ownBackends(deps.store)
      : await createBackends(config, clock, log, { onError: () => metrics.backendError('state'), onStreamEntry: (skipped) => metrics.streamEntry(skipped) });
    opened.push(backends);
    // The database: SQLite in DATA_DIR, or PostgreSQL with DATABASE_URL.
    const recordStore = deps.recordStore ?? (await openRecordStore(config));
    opened.push(recordStore);
    // Records the database cannot take wait in an outbox (Redis, else a journal in DATA_DIR).
    let records = deps.records;
    if (!records) {
      const sink = openRecordSink(config, recordStore, { redis: backends.recordOutbox, redisCluster: backends.redisCluster, log: log.child({ module: 'records' }), observer: metrics });
      metrics.watch('recordsPending', () => sink.pending());
      records = sink;
    }
    opened.push(records);
    const tls = await loadTls(config, log.child({ module: 'tls' }));
    return await createApp({ config, log, clock, ids: deps.ids ?? randomIds, metrics, backends, recordStore, records, authenticator, tls, scheduleFile });
  } catch (err) {
    // A start that fails half-way closes what it opened, latest first.
    for (const part of opened.reverse()) await part.close().catch(() => {});
    throw err;
  }
}
