/**
 * The app API's records and safety (spec section 10) on a real server over TLS, with both
 * databases: a programme's best aggros in public (no user-identifying field), the caller's own
 * with a JWT or the dev header and refused without, pages that neither skip nor repeat while
 * records arrive, the per-address rate limit, CORS, bad input, and tokens kept out of the logs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { SignJWT } from 'jose';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appErrorsOf } from '../../src/app-api/openapi.js';
import { appRoutes } from '../../src/app-api/routes.js';
import type { AggroRecord } from '../../src/domain/model.js';
import { httpErrors } from '../../src/operator/http-errors.js';
import { PostgresRecordStore } from '../../src/records/postgres-store.js';
import type { RecordStore } from '../../src/records/record-store.js';
import { SqliteRecordStore } from '../../src/records/sqlite-store.js';
import { adminCall, ADMIN_TOKEN } from '../helpers/admin.js';
import { appGet, openFeed } from '../helpers/app-api.js';
import { call, join, user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECRET = 'app-api-secret-that-is-long-enough-for-hs256';

interface Db {
  /** The test's own connection, for writing records directly. */
  store: RecordStore;
  /** A connection of its own for a server (the server closes what it is handed). */
  forServer(): RecordStore;
  close(): Promise<void>;
}

const databases: { name: string; open(): Promise<Db> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(joinPath(tmpdir(), 'onair-app-'));
      const file = joinPath(dir, 'onair.db');
      const store = new SqliteRecordStore(file);
      await store.migrate();
      return {
        store,
        forServer: () => new SqliteRecordStore(file),
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `onair_app_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      const store = new PostgresRecordStore(PG_URL, { schema });
      await store.migrate();
      return {
        store,
        forServer: () => new PostgresRecordStore(PG_URL, { schema }),
        async close() {
          await store.close().catch(() => {});
          await admin.query(`DROP SCHEMA ${schema} CASCADE`);
          await admin.end();
        },
      };
    },
  },
];

let n = 0;
function record(over: Partial<AggroRecord> = {}): AggroRecord {
  n += 1;
  return {
    aggroUID: `a${n}-${randomBytes(3).toString('hex')}`,
    scheduleUID: 'prog',
    roomId: 'room-secret',
    userUID: 'author-secret',
    displayName: 'Mina',
    msg: 'what a goal',
    type: 'A',
    titleBroad: 'Match_KBS',
    point: 1,
    up: 1,
    down: 0,
    startedAt: 1_795_000_000_000,
    endedAt: 1_795_000_030_000 + n,
    endReason: 'expired',
    ...over,
  };
}

/** Every page of a list, from the first, with `between` run after each page is read. */
async function allPages(server: Parameters<typeof appGet>[0], path: string, headers: Record<string, string>, between: () => Promise<void> = async () => {}) {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await appGet(server, `${path}?limit=7${cursor ? `&cursor=${cursor}` : ''}`, headers);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    items.push(...r.body.items);
    cursor = r.body.next;
    pages += 1;
    await between();
  } while (cursor && pages < 100);
  return items;
}

describe.each(databases)('app API records on $name', (database) => {
  let db: Db;
  beforeEach(async () => {
    db = await database.open();
  });
  afterEach(async () => {
    await db.close();
  });

  it("a finished aggro is in the programme's public list without who wrote it, and in its author's own list with titleBroad", async () => {
    const server = await startServer({ ADMIN_TOKEN }, { recordStore: db.forServer(), records: undefined });
    const p = `match-${randomBytes(3).toString('hex')}`;
    const now = Date.now();
    expect((await adminCall(server, 'PUT', `/admin/programs/${p}`, { title: 'Match', broadcaster: 'KBS', startAt: now - 1000, endAt: now + 600_000 })).status).toBe(200);
    const author = { ...user('mina'), photoURL: 'https://img.example/mina.png' };
    const c = await join(server, p, author);
    const { roomId } = (await call<{ roomId: string }>(c, 'createRoom', { title: 'sofa', max: 4 })) as unknown as { roomId: string };
    const posted = (await call<{ aggroUID: string }>(c, 'chat', { roomId, msg: 'GOAL!', type: 'A' })) as unknown as { ok: true; aggroUID: string };
    expect(posted.ok).toBe(true);
    // A record is written before its end is broadcast.
    await c.events.some('stopAggro', (id: string) => id === posted.aggroUID, 5000);

    const pub = await appGet(server, `/v1/programs/${p}/aggros`);
    expect(pub.status).toBe(200);
    expect(pub.body).toEqual({ items: [{ displayName: 'mina', photoURL: 'https://img.example/mina.png', msg: 'GOAL!', point: 0, endedAt: expect.any(Number) }], next: null });
    for (const secret of [author.userUID, roomId, posted.aggroUID]) expect(pub.text).not.toContain(secret);
    expect(pub.headers['cache-control']).toMatch(/^public, max-age=\d+$/);

    const mine = await appGet(server, '/v1/me/aggros', { 'x-onair-user': author.userUID });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([
      { aggroUID: posted.aggroUID, scheduleUID: p, titleBroad: 'Match_KBS', msg: 'GOAL!', point: 0, up: 0, down: 0, startedAt: expect.any(Number), endedAt: expect.any(Number), endReason: 'expired' },
    ]);
    expect(mine.headers['cache-control']).toBe('private, no-store');
    expect((await appGet(server, '/v1/me/aggros', { 'x-onair-user': 'someone-else' })).body.items).toEqual([]);
    const refused = await appGet(server, '/v1/me/aggros');
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('UNAUTHORIZED');
    expect(refused.body.message).toMatch(/^AUTH_REQUIRED/);
  });

  it('pages the public list highest point first and my list newest first, neither skipping nor repeating while records arrive', async () => {
    const server = await startServer({}, { recordStore: db.forServer() });
    const p = `busy-${randomBytes(3).toString('hex')}`;
    const me = `me-${randomBytes(3).toString('hex')}`;
    const before = Array.from({ length: 30 }, (_, i) => record({ scheduleUID: p, userUID: i % 2 ? me : 'other', msg: `before-${i}`, point: (i * 7) % 11, endedAt: 1_000_000 + (i % 5) }));
    await Promise.all(before.map((r) => db.store.saveAggro(r)));
    let extra = 0;
    // Rows arrive between pages and while one is being read: some sort before the cursor, some after.
    const arrive = async () => {
      extra += 1;
      await Promise.all([
        db.store.saveAggro(record({ scheduleUID: p, userUID: me, msg: `high-${extra}`, point: extra % 11, endedAt: 2_000_000 + extra })),
        db.store.saveAggro(record({ scheduleUID: p, userUID: me, msg: `low-${extra}`, point: -extra, endedAt: 500_000 - extra })),
      ]);
    };

    const best = await allPages(server, `/v1/programs/${p}/aggros`, {}, arrive);
    const msgs = best.map((a) => a.msg as string);
    expect(new Set(msgs).size).toBe(msgs.length);
    for (const r of before) expect(msgs).toContain(r.msg);
    // Those written below the cursor while paging are reached too.
    expect(msgs.filter((m) => m.startsWith('low-')).length).toBeGreaterThan(0);
    for (let i = 1; i < best.length; i++) {
      expect(best[i].point < best[i - 1].point || (best[i].point === best[i - 1].point && best[i].endedAt <= best[i - 1].endedAt)).toBe(true);
    }
    for (const a of best) expect(Object.keys(a).sort()).toEqual(['displayName', 'endedAt', 'msg', 'point']);

    const mine = await allPages(server, '/v1/me/aggros', { 'x-onair-user': me }, arrive);
    const ids = mine.map((a) => a.aggroUID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of before.filter((r) => r.userUID === me)) expect(ids).toContain(r.aggroUID);
    for (let i = 1; i < mine.length; i++) expect(mine[i].endedAt).toBeLessThanOrEqual(mine[i - 1].endedAt);
  });
});

describe('app API: my aggros with a JWT', () => {
  let db: Db;
  beforeEach(async () => {
    db = await databases[0]!.open();
  });
  afterEach(async () => {
    await db.close();
  });

  const sign = (sub: string, expiresInS = 300, secret = SECRET) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now - 5).setExpirationTime(now + expiresInS).sign(new TextEncoder().encode(secret));
  };

  it("answers the token's own aggros, refuses without one or with a bad one, and never logs a token", async () => {
    const lines: string[] = [];
    const log = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
    const server = await startServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }, { recordStore: db.forServer(), log });
    await db.store.saveAggro(record({ userUID: 'alice', msg: 'mine' }));
    await db.store.saveAggro(record({ userUID: 'bob', msg: 'not mine' }));
    const good = await sign('alice');
    const mine = await appGet(server, '/v1/me/aggros', { authorization: `Bearer ${good}` });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((a: { msg: string }) => a.msg)).toEqual(['mine']);

    const expired = await sign('alice', -120);
    const forged = await sign('alice', 300, 'a-different-secret-long-enough-for-hs256!!');
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^AUTH_REQUIRED/],
      [{ authorization: 'Basic abc' }, /^AUTH_REQUIRED/],
      [{ 'x-onair-user': 'alice' }, /^AUTH_REQUIRED/],
      [{ authorization: `Bearer ${forged}` }, /^AUTH_INVALID/],
      [{ authorization: 'Bearer not.a.token' }, /^AUTH_INVALID/],
      [{ authorization: `Bearer ${expired}` }, /^AUTH_EXPIRED/],
    ];
    for (const [headers, message] of cases) {
      const r = await appGet(server, '/v1/me/aggros', headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.body.message).toMatch(message);
      expect(r.text).not.toContain('eyJ');
    }
    // A token in the query string is not taken (it would end up in proxies' logs).
    expect((await appGet(server, `/v1/me/aggros?token=${good}`)).status).toBe(401);
    await server.close();
    const logged = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const token of [good, expired, forged]) expect(logged).not.toContain(token.split('.')[2]);
  });
});

describe('app API: safety and contract', () => {
  it('limits requests per address with 429 and Retry-After; another address is not affected', async () => {
    const server = await startServer({ APP_API_RATE: '1', APP_API_BURST: '3', TRUST_PROXY: '1' });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) expect((await appGet(server, '/v1/programs/on-air', from('203.0.113.7'))).status).toBe(200);
    const limited = await appGet(server, '/v1/programs/on-air', from('203.0.113.7'));
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Every /v1 route shares the budget, 304s and errors included.
    expect((await appGet(server, '/v1/me/aggros', from('203.0.113.7'))).status).toBe(429);
    expect((await appGet(server, '/v1/programs/on-air', from('198.51.100.1'))).status).toBe(200);
  });

  it('refuses bad input with 400 BAD_REQUEST, unknown paths with 404 and other methods with 405', async () => {
    const server = await startServer();
    const dev = { 'x-onair-user': 'u1' };
    const bad: [string, Record<string, string>?][] = [
      ['/v1/programs/p1/aggros?limit=0'],
      ['/v1/programs/p1/aggros?limit=51'],
      ['/v1/programs/p1/aggros?limit=abc'],
      ['/v1/programs/p1/aggros?limit=1.5'],
      ['/v1/programs/p1/aggros?cursor='],
      ['/v1/programs/p1/aggros?cursor=bm90LWpzb24'],
      [`/v1/programs/p1/aggros?cursor=${'x'.repeat(201)}`],
      ['/v1/programs/p1/aggros?extra=1'],
      ['/v1/programs/p1/aggros?limit=1&limit=2'],
      ['/v1/programs/_programs/aggros'],
      [`/v1/programs/${'x'.repeat(65)}/aggros`],
      ['/v1/programs/a%20b/aggros'],
      ['/v1/programs/%E0%A4%A/aggros'],
      ['/v1/programs/on-air?x=1'],
      ['/v1/me/aggros?limit=-1', dev],
      // A cursor of the other list is not this list's.
      [`/v1/me/aggros?cursor=${Buffer.from(JSON.stringify([1, 2, 'a'])).toString('base64url')}`, dev],
      ['/v1/me/aggros', { 'x-onair-user': 'has space' }],
    ];
    for (const [path, headers] of bad) {
      const r = await appGet(server, path, headers ?? {});
      const expected = path.startsWith('/v1/me/aggros') && headers?.['x-onair-user'] === 'has space' ? 401 : 400;
      expect(r.status, path).toBe(expected);
      expect(r.body.code, path).toBe(expected === 400 ? 'BAD_REQUEST' : 'UNAUTHORIZED');
    }
    expect((await appGet(server, '/v1/nothing')).body).toEqual({ code: 'NOT_FOUND' });
    expect((await appGet(server, '/v1/programs/on-air', {}, 'POST')).status).toBe(405);
    // Nothing above touched the server: it still answers.
    expect((await appGet(server, '/v1/programs/on-air')).status).toBe(200);
  });

  it('applies CORS_ORIGINS: listed origins get the CORS headers and a preflight, others none', async () => {
    const server = await startServer({ CORS_ORIGINS: 'https://app.example' });
    const ok = await appGet(server, '/v1/programs/on-air', { origin: 'https://app.example' });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(ok.headers['access-control-expose-headers']).toContain('etag');
    expect(ok.headers.vary).toContain('origin');
    const other = await appGet(server, '/v1/programs/on-air', { origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await appGet(server, '/v1/me/aggros', { origin: 'https://app.example', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    const refusedPre = await appGet(server, '/v1/me/aggros', { origin: 'https://evil.example' }, 'OPTIONS');
    expect(refusedPre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('sends the feed elsewhere on shutdown: its transport closes within the spread, so socket.io-client reconnects by itself', async () => {
    const server = await startServer({ SHUTDOWN_SPREAD_MS: '300' });
    const feed = await openFeed(server);
    const reason = feed.events.next('disconnect', () => true, 5000);
    await server.close();
    expect(await reason).toEqual(['transport close']);
  });

  it('serves its OpenAPI document from the route table, with the errors each route answers and no user field in public replies', async () => {
    const server = await startServer();
    const r = await appGet(server, '/v1/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    for (const route of appRoutes()) {
      const op = r.body.paths[route.path.replace(/:([A-Za-z]+)/g, '{$1}')][route.method.toLowerCase()];
      const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400).sort();
      expect(errors, route.path).toEqual(appErrorsOf(route).map((c) => String(httpErrors[c].status)).sort());
    }
    const pub = r.body.paths['/v1/programs/{scheduleUID}/aggros'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(pub.properties.items.items.properties).sort()).toEqual(['displayName', 'endedAt', 'msg', 'photoURL', 'point']);
    expect(JSON.stringify(r.body.paths['/v1/programs/on-air'])).not.toContain('userUID');
  });
});
