/**
 * Issue 10 point 6: another process holding SQLite's write lock must not freeze the server. While
 * it holds it, `/healthz`, a chat round trip, the end of an aggro and reads of records are
 * answered; a write of the admin API answers 503 UNAVAILABLE; `/readyz` is 503 while the ended
 * aggro's record waits; once the lock is released the record is written, once. A lock held
 * only for a moment (another server's commit) is waited out, off the loop, and the write done.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOURNAL_FILE } from '../../src/records/journal.js';
import { SqliteRecordStore } from '../../src/records/sqlite-store.js';
import { adminCall, ADMIN_TOKEN } from '../helpers/admin.js';
import { call, join as joinProgram } from '../helpers/client.js';
import { httpGet, scrape, value } from '../helpers/metrics.js';
import { startServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { holdWriteLock, pendingRecords, readyz } from './records-faults.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a SQLite file locked by another process', () => {
  it('chat, /healthz and reads go on while it is locked; the record is written once after the release', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-lock-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer(
      { DATA_DIR: dataDir, ADMIN_TOKEN, AGGRO_TTL_MS: '150', AGGRO_COOLDOWN_MS: '0', RECORDS_RETRY_MS: '100' },
      { records: undefined },
    );
    cleanups.push(() => server.close());
    const p = `lock-${randomBytes(3).toString('hex')}`;
    const a = await joinProgram(server, p);
    const b = await joinProgram(server, p);
    const created = (await call<{ roomId: string }>(a, 'createRoom', { title: 'locked', max: 10 })) as { ok: boolean; roomId: string };
    const roomId = created.roomId;
    expect((await call(b, 'joinRoom', { roomId })).ok).toBe(true);

    const lock = await holdWriteLock(join(dataDir, 'onair.db'));
    cleanups.push(() => lock.release());
    const answered: string[] = [];

    const started = (await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'locked goal', type: 'A' })) as { ok: boolean; aggroUID: string };
    expect(started.ok).toBe(true);
    await b.events.some('stopAggro', (id: string) => id === started.aggroUID);
    answered.push('stopAggro');
    expect((await httpGet(server, '/healthz')).status).toBe(200);
    answered.push('healthz');
    const chat = b.events.next('chat');
    expect((await call(a, 'chat', { roomId, msg: 'still here', type: 'N' })).ok).toBe(true);
    await chat;
    answered.push('chat');
    // Reads are not blocked by the writer (WAL); a write fails fast instead of hanging.
    expect((await adminCall(server, 'GET', `/admin/programs/${p}/aggros`)).status).toBe(200);
    expect((await adminCall(server, 'PUT', `/admin/bans/someone-${p}`, {})).status).toBe(503);
    answered.push('admin');
    await waitUntil(async () => (await pendingRecords(server)) === 1, 3000, 'one record pending');
    const r = await readyz(server);
    expect(r.status).toBe(503);
    expect(r.body.checks).toMatchObject({ database: true, records: false });
    // All of the above was answered while the other process still held the lock.
    expect(lock.child.exitCode).toBeNull();
    expect(answered).toEqual(['stopAggro', 'healthz', 'chat', 'admin']);

    await lock.release();
    await waitUntil(async () => (await readyz(server)).status === 200 && (await pendingRecords(server)) === 0, 5000, 'the record written');
    const reader = new SqliteRecordStore(join(dataDir, 'onair.db'));
    cleanups.push(() => reader.close());
    expect((await reader.listAggros(p, { limit: 10 })).items.map((x) => x.aggroUID)).toEqual([started.aggroUID]);
    const m = await scrape(server);
    expect(value(m, 'onair_records_deferred_total', { to: 'journal' })).toBe(1);
    expect(value(m, 'onair_records_written_late_total')).toBe(1);
    expect(statSync(join(dataDir, JOURNAL_FILE)).size).toBe(0);
  });

  it('records left in the journal by a server that stopped are written by the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-journal-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, AGGRO_TTL_MS: '150', AGGRO_COOLDOWN_MS: '0', RECORDS_RETRY_MS: '100' };
    const first = await startServer(env, { records: undefined });
    const p = `journal-${randomBytes(3).toString('hex')}`;
    const a = await joinProgram(first, p);
    const { roomId } = (await call<{ roomId: string }>(a, 'createRoom', { title: 'j', max: 10 })) as { ok: boolean; roomId: string };
    const lock = await holdWriteLock(join(dataDir, 'onair.db'));
    cleanups.push(() => lock.release());
    const started = (await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'kept', type: 'A' })) as { ok: boolean; aggroUID: string };
    await a.events.some('stopAggro', (id: string) => id === started.aggroUID);
    await waitUntil(async () => (await pendingRecords(first)) === 1, 3000, 'one record pending');
    await first.close();
    await lock.release();

    const next = await startServer(env, { records: undefined });
    cleanups.push(() => next.close());
    await waitUntil(async () => (await pendingRecords(next)) === 0 && (await readyz(next)).status === 200, 5000, 'the journal drained');
    const reader = new SqliteRecordStore(join(dataDir, 'onair.db'));
    cleanups.push(() => reader.close());
    expect((await reader.listAggros(p, { limit: 10 })).items.map((x) => x.aggroUID)).toEqual([started.aggroUID]);
  });
  it('a write that meets a lock held for a moment waits its turn off the event loop and is done', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'onair-turn-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const file = join(dataDir, 'onair.db');
    const store = new SqliteRecordStore(file);
    cleanups.push(() => store.close());
    await store.migrate();
    const lock = await holdWriteLock(file);
    cleanups.push(() => lock.release());
    const report = { scheduleUID: 'turn', roomId: 'r1', kind: 'message' as const, targetId: 'm1', targetUserUID: 'u1', text: 'spam', reason: 'spam', createdAt: Date.now() };
    // The first attempt runs before addReport returns, so it has met the lock by now.
    const pending = store.moderation.addReport({ ...report, reporterUID: 'r1' });
    let settled = false;
    void pending.then(() => (settled = true), () => (settled = true));
    // The loop is free while the write waits: this timer fires before the write settles.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await lock.release();
    expect(await pending).toMatchObject({ created: true, reporters: 1 });
    expect(await store.moderation.addReport({ ...report, reporterUID: 'r2' })).toMatchObject({ created: true, reporters: 2 });
  });
});
