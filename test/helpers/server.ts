/**
 * Real onair servers for tests: real TLS on an ephemeral port, short TTLs and intervals through
 * configuration. One self-signed certificate per test process, verified by every client.
 */
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { OnAirApp } from '../../src/server/app.js';
import { openApp, type AppDeps } from '../../src/server/compose.js';
import type { AggroRecord } from '../../src/domain/model.js';
import type { RecordSink } from '../../src/domain/ports/records.js';

/** Fast defaults for tests; each test overrides what it is about. */
export const TEST_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  BATCH_INTERVAL_MS: '60',
  AGGRO_TTL_MS: '600',
  AGGRO_COOLDOWN_MS: '2000',
  EVENT_RATE: '1000',
  EVENT_BURST: '1000',
  HANDSHAKE_RATE: '1000',
  HANDSHAKE_BURST: '1000',
  LOAD_RATE: '1000',
  LOAD_BURST: '1000',
  // The suites written before the reconnect grace (spec 7.1) expect a dropped socket to leave
  // at once; the blip tests (test/protocol/blip*.test.ts) turn it on with short settings.
  RECONNECT_GRACE_MS: '0',
};

let dataDir: string | undefined;
export function testDataDir(): string {
  dataDir ??= mkdtempSync(join(tmpdir(), 'onair-test-'));
  return dataDir;
}
process.on('exit', () => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A record sink that keeps what it is given, and lets a test wait for a record. */
export class MemoryRecordSink implements RecordSink {
  readonly records: AggroRecord[] = [];
  private waiters: { match: (r: AggroRecord) => boolean; resolve: (r: AggroRecord) => void }[] = [];

  async record(r: AggroRecord): Promise<void> {
    this.records.push(r);
    this.waiters = this.waiters.filter((w) => (w.match(r) ? (w.resolve(r), false) : true));
  }

  async close(): Promise<void> {}

  waitFor(match: (r: AggroRecord) => boolean, timeoutMs = 3000): Promise<AggroRecord> {
    const found = this.records.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for an aggro record')), timeoutMs);
      this.waiters.push({ match, resolve: (r) => (clearTimeout(t), resolve(r)) });
    });
  }
}

export interface TestServer {
  /** The in-process app. Servers of the cluster topology are child processes: reading this
   * there throws, so a test that needs the app's internals must use `startServer` itself. */
  app: OnAirApp;
  /** Lifecycle notices (`program-released`), in-process or forwarded from a child. */
  events: EventEmitter;
  config: Config;
  url: string;
  /** The server's certificate, for clients to verify. */
  ca: string | undefined;
  records: MemoryRecordSink;
  close(): Promise<void>;
}

const running = new Set<TestServer>();

export async function startServer(env: Record<string, string> = {}, deps: Partial<AppDeps> = {}): Promise<TestServer> {
  const config = loadConfig({ ...TEST_ENV, DATA_DIR: testDataDir(), ...env });
  const records = deps.records instanceof MemoryRecordSink ? deps.records : new MemoryRecordSink();
  // `{ records: undefined }` asks for the server's own database-backed records.
  const ownRecords = Object.hasOwn(deps, 'records') && deps.records === undefined;
  const { records: _given, ...rest } = deps;
  const app = await openApp({
    config,
    log: pino({ level: config.logLevel }),
    ...rest,
    ...(ownRecords ? {} : { records: deps.records ?? records }),
  });
  const address = await app.listen();
  const server: TestServer = {
    app,
    events: app.events,
    config,
    url: `${app.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`,
    ca: app.tls?.cert,
    records,
    close: async () => {
      running.delete(server);
      await app.close();
    },
  };
  running.add(server);
  return server;
}

/** Servers a test started are closed after it, pass or fail. */
afterEach(async () => {
  await Promise.all([...running].map((s) => s.close()));
});

/** Wait for `program-released` for one programme on one server. */
export function released(server: TestServer, program: string, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const onRelease = (p: string) => {
      if (p !== program) return;
      clearTimeout(timer);
      server.events.off('program-released', onRelease);
      resolve();
    };
    const timer = setTimeout(() => {
      server.events.off('program-released', onRelease);
      reject(new Error(`timed out waiting for program-released of "${program}"`));
    }, timeoutMs);
    server.events.on('program-released', onRelease);
  });
}
