/**
 * Issue 10 point 5: a record the database cannot take is kept (outbox) and written later, once;
 * users see the end of the aggro on time; `/readyz` is 503 and `onair_records_pending` > 0 while
 * records wait. Real faults: a full tmpfs, a read-only mount, PostgreSQL behind a cut TCP relay,
 * a private Redis as the outbox.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AggroRecord } from '../../src/domain/model.js';
import { PostgresRecordStore } from '../../src/records/postgres-store.js';
import { JOURNAL_FILE } from '../../src/records/journal.js';
import { SqliteRecordStore } from '../../src/records/sqlite-store.js';
import { call, join as joinProgram, type Client, type Recorder } from '../helpers/client.js';
import { scrape, value } from '../helpers/metrics.js';
import { startRedis } from '../helpers/redis.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { fillUp, free, holdWriteLock, pendingRecords, readyz, relay, tmpfs } from './records-faults.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const FAST = { AGGRO_TTL_MS: '150', AGGRO_COOLDOWN_MS: '0', RECORDS_RETRY_MS: '100', RECORDS_WRITE_TIMEOUT_MS: '1000' };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // Servers close first (helpers' afterEach is registered earlier and runs after this one, so
  // close them here before the file systems under them go).
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Member = Client & { events: Recorder };

async function roomOf(server: TestServer, program: string): Promise<{ c: Member; roomId: string }> {
  const c = await joinProgram(server, program);
  const res = (await call<{ roomId: string }>(c, 'createRoom', { title: 'records', max: 10 })) as { ok: boolean; roomId: string };
  expect(res.ok).toBe(true);
  return { c, roomId: res.roomId };
}

/** Start an aggro and wait for its `stopAggro` (it expires after AGGRO_TTL_MS). */
async function aggroEnded(c: Member, roomId: string): Promise<string> {
  const res = (await call<{ aggroUID: string }>(c, 'chat', { roomId, msg: `goal ${randomBytes(3).toString('hex')}`, type: 'A' })) as {
    ok: boolean;
    aggroUID: string;
  };
  expect(res.ok).toBe(true);
  await c.events.some('stopAggro', (id: string) => id === res.aggroUID);
  return res.aggroUID;
}

async function aggrosEnded(c: Member, roomId: string, n: number): Promise<string[]> {
  const uids: string[] = [];
  for (let i = 0; i < n; i += 1) uids.push(await aggroEnded(c, roomId));
  return uids;
}

/** Waiting records are visible as such while the database is broken. */
async function expectWaiting(server: TestServer): Promise<void> {
  await waitUntil(async () => (await pendingRecords(server)) > 0, 5000, 'onair_records_pending > 0');
  const r = await readyz(server);
  expect(r.status).toBe(503);
  expect(r.body.checks?.records).toBe(false);
}

async function expectDrained(server: TestServer): Promise<void> {
  await waitUntil(async () => (await readyz(server)).status === 200 && (await pendingRecords(server)) === 0, 8000, 'records drained and /readyz 200');
}

function sqliteAggros(store: SqliteRecordStore, program: string): Promise<AggroRecord[]> {
  return store.listAggros(program, { limit: 1000 }).then((p) => p.items);
}

describe('records on a full disk (DATA_DIR on a 4 MiB tmpfs)', () => {
  it('ends are told on time, records wait (readyz 503, pending > 0) and are all written once after space is freed', async () => {
    const fs = tmpfs(4);
    cleanups.push(() => fs.remove());
    const server = await startServer({ ...FAST, DATA_DIR: fs.dir }, { records: undefined });
    cleanups.push(() => server.close());
    const p = `full-${randomBytes(3).toString('hex')}`;
    const { c, roomId } = await roomOf(server, p);
    const first = await aggroEnded(c, roomId);
    const reader = new SqliteRecordStore(join(fs.dir, 'onair.db'));
    cleanups.push(() => reader.close());
    await waitUntil(async () => (await sqliteAggros(reader, p)).length === 1, 3000, 'the first record');

    const filler = fillUp(fs.dir);
    const ended = await aggrosEnded(c, roomId, 6);
    await expectWaiting(server);
    const whileFull = (await sqliteAggros(reader, p)).map((r) => r.aggroUID);
    expect(ended.some((uid) => !whileFull.includes(uid))).toBe(true);

    free(filler);
    await expectDrained(server);
    const rows = (await sqliteAggros(reader, p)).map((r) => r.aggroUID);
    expect(rows.sort()).toEqual([first, ...ended].sort());
    const m = await scrape(server);
    expect(value(m, 'onair_records_written_late_total')).toBeGreaterThan(0);
    expect(value(m, 'onair_records_deferred_total', { to: 'memory' })).toBeGreaterThan(0);
  });
});

describe('records on a read-only database file', () => {
  it('records wait while onair.db is read-only and are all written once after it is writable again', async () => {
    const fs = tmpfs(4);
    cleanups.push(() => fs.remove());
    // A first run leaves its certificate and database; then a process keeps using the database
    // (so its WAL files exist) while the server sees it through a read-only mount.
    await (await startServer({ DATA_DIR: fs.dir }, { records: undefined })).close();
    const holder = new SqliteRecordStore(join(fs.dir, 'onair.db'));
    await holder.migrate();
    cleanups.push(() => holder.close());
    const ro = mkdtempSync(join(tmpdir(), 'onair-ro-'));
    execFileSync('mount', ['--bind', fs.dir, ro]);
    execFileSync('mount', ['-o', 'remount,ro,bind', ro]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', ro]);
      rmSync(ro, { recursive: true, force: true });
    });
    const server = await startServer({ ...FAST, DATA_DIR: ro }, { records: undefined });
    cleanups.push(() => server.close());
    const p = `ro-${randomBytes(3).toString('hex')}`;
    const { c, roomId } = await roomOf(server, p);
    const ended = await aggrosEnded(c, roomId, 4);
    await expectWaiting(server);
    expect(await sqliteAggros(holder, p)).toEqual([]);

    execFileSync('mount', ['-o', 'remount,rw,bind', ro]);
    await expectDrained(server);
    expect((await sqliteAggros(holder, p)).map((r) => r.aggroUID).sort()).toEqual([...ended].sort());
  });
});

describe('records in PostgreSQL behind a relay that is cut', () => {
  it('records wait while PostgreSQL is unreachable and are all written once after it is back', async () => {
    const schema = `onair_test_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    });
    const line = await relay(Number(new URL(PG_URL).port || 5432), new URL(PG_URL).hostname);
    cleanups.push(() => line.close());
    const url = new URL(PG_URL);
    url.port = String(line.port);
    const store = new PostgresRecordStore(url.toString(), { schema });
    await store.migrate();
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-pg-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer({ ...FAST, DATA_DIR: dataDir }, { records: undefined, recordStore: store });
    cleanups.push(() => server.close());
    const p = `pg-${randomBytes(3).toString('hex')}`;
    const { c, roomId } = await roomOf(server, p);
    const before = await aggroEnded(c, roomId);

    await line.cut();
    const ended = await aggrosEnded(c, roomId, 5);
    await expectWaiting(server);
    // The journal in DATA_DIR keeps them meanwhile.
    expect(readFileSync(join(dataDir, JOURNAL_FILE), 'utf8')).toContain(ended[0]);

    await line.mend();
    await expectDrained(server);
    const rows = await admin.query<{ aggro_uid: string; n: string }>(`SELECT aggro_uid, count(*) AS n FROM ${schema}.aggros WHERE schedule_uid = $1 GROUP BY aggro_uid`, [p]);
    expect(rows.rows.map((r) => r.aggro_uid).sort()).toEqual([before, ...ended].sort());
    expect(rows.rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(statSync(join(dataDir, JOURNAL_FILE)).size).toBe(0);
  });
});

describe('records waiting in Redis', () => {
  it('with REDIS_URL the outbox is a Redis hash, drained by the next server once the database takes writes', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.remove());
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-redis-outbox-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { ...FAST, DATA_DIR: dataDir, REDIS_URL: redis.url, REDIS_PREFIX: 'rec:' };
    const server = await startServer(env, { records: undefined });
    const p = `redis-${randomBytes(3).toString('hex')}`;
    const { c, roomId } = await roomOf(server, p);
    const lock = await holdWriteLock(join(dataDir, 'onair.db'));
    cleanups.push(() => lock.release());
    const ended = await aggrosEnded(c, roomId, 3);
    await expectWaiting(server);
    const r = createClient({ url: redis.url });
    await r.connect();
    cleanups.push(() => r.close());
    expect((await r.hKeys('rec:{_service}:records:outbox')).sort()).toEqual([...ended].sort());
    expect(existsSync(join(dataDir, JOURNAL_FILE))).toBe(false);
    // This server goes while the records still wait; the next one writes them.
    await server.close();

    await lock.release();
    const next = await startServer(env, { records: undefined });
    cleanups.push(() => next.close());
    await expectDrained(next);
    expect(await r.hLen('rec:{_service}:records:outbox')).toBe(0);
    const reader = new SqliteRecordStore(join(dataDir, 'onair.db'));
    cleanups.push(() => reader.close());
    expect((await sqliteAggros(reader, p)).map((a) => a.aggroUID).sort()).toEqual([...ended].sort());
  });
});
