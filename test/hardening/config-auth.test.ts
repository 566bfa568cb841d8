/**
 * Issue 10 point 10: NODE_ENV spellings, JWT name claims and clock tolerance, and the
 * same-origin check when there is no TLS certificate to vouch for the Host header.
 */
import { Writable } from 'node:stream';
import { SignJWT, type JWTPayload } from 'jose';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import type { UserInfo } from '../../src/protocol/index.js';
import { call, client, join, refusal, user, type Client } from '../helpers/client.js';
import { scrape, value } from '../helpers/metrics.js';
import { startServer, type TestServer } from '../helpers/server.js';

const P = 'prog-cfg';
const SECRET = 'test-secret-that-is-long-enough-for-hs256!!';
const JWT_ENV = { AUTH_MODE: 'jwt', JWT_SECRET: SECRET };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('NODE_ENV', () => {
  it.each(['production', 'Production', 'PRODUCTION', 'prod', 'Prod', ' production '])('%j is production: dev auth is refused', (value) => {
    expect(problemsOf({ NODE_ENV: value, AUTH_MODE: 'dev' }).some((p) => p.startsWith('AUTH_MODE:'))).toBe(true);
    expect(loadConfig({ NODE_ENV: value, JWT_SECRET: SECRET })).toMatchObject({ production: true, auth: { mode: 'jwt' } });
  });

  it.each(['development', 'Development', 'dev', 'test', 'TEST'])('%j is not production', (value) => {
    expect(loadConfig({ NODE_ENV: value })).toMatchObject({ production: false, auth: { mode: 'dev' } });
  });

  it.each(['prodution', 'staging', 'live', 'production1'])('an unknown spelling %j stops the start, naming NODE_ENV', (value) => {
    const problems = problemsOf({ NODE_ENV: value });
    expect(problems.some((p) => p.startsWith('NODE_ENV:'))).toBe(true);
  });
});

describe('JWT_CLOCK_TOLERANCE_S', () => {
  it('defaults to 30 s and takes 0-300', () => {
    expect(loadConfig(JWT_ENV).auth).toMatchObject({ clockToleranceS: 30 });
    expect(loadConfig({ ...JWT_ENV, JWT_CLOCK_TOLERANCE_S: '0' }).auth).toMatchObject({ clockToleranceS: 0 });
    expect(problemsOf({ ...JWT_ENV, JWT_CLOCK_TOLERANCE_S: '301' }).some((p) => p.startsWith('JWT_CLOCK_TOLERANCE_S:'))).toBe(true);
  });
});

/** A token whose times are given in seconds from now. */
async function token(claims: JWTPayload, times: { exp: number; nbf?: number; iat?: number }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime(now + times.exp);
  jwt.setIssuedAt(now + (times.iat ?? -120));
  if (times.nbf !== undefined) jwt.setNotBefore(now + times.nbf);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

async function connect(server: TestServer, auth: Record<string, unknown>): Promise<Client> {
  const c = client(server, P, { auth });
  const loaded = c.events.next('loadRooms');
  const refused = new Promise<never>((_, reject) => c.once('connect_error', (err) => reject(new Error(`refused: ${err.message}`))));
  c.connect();
  await Promise.race([loaded, refused]);
  return c;
}

async function nameOf(c: Client): Promise<string> {
  expect(await call(c, 'createRoom', { title: 'whoami', max: 2 })).toMatchObject({ ok: true });
  const listed = await call<{ users: UserInfo[] }>(c, 'loadUsers');
  if (!listed.ok) throw new Error(listed.code);
  return listed.users[0]!.displayName;
}

describe('JWT clock tolerance (real TLS)', () => {
  it('accepts a token expired 10 s ago and refuses one expired 60 s ago with AUTH_EXPIRED', async () => {
    const server = await startServer(JWT_ENV);
    const c = await connect(server, { token: await token({ sub: 'late-10' }, { exp: -10 }), displayName: 'Late' });
    expect(c.connected).toBe(true);
    const err = await refusal(client(server, P, { auth: { token: await token({ sub: 'late-60' }, { exp: -60 }), displayName: 'Late' } }));
    expect(err.data?.code).toBe('AUTH_EXPIRED');
  });

  it('accepts nbf and iat 10 s in the future; nbf 60 s ahead is AUTH_INVALID', async () => {
    const server = await startServer(JWT_ENV);
    const early = await connect(server, { token: await token({ sub: 'early-10' }, { exp: 300, nbf: 10, iat: 10 }), displayName: 'Early' });
    expect(early.connected).toBe(true);
    const err = await refusal(client(server, P, { auth: { token: await token({ sub: 'early-60' }, { exp: 300, nbf: 60 }), displayName: 'Early' } }));
    expect(err.data?.code).toBe('AUTH_INVALID');
  });

  it('JWT_CLOCK_TOLERANCE_S=0 gives no slack', async () => {
    const server = await startServer({ ...JWT_ENV, JWT_CLOCK_TOLERANCE_S: '0' });
    const err = await refusal(client(server, P, { auth: { token: await token({ sub: 'strict' }, { exp: -10 }), displayName: 'S' } }));
    expect(err.data?.code).toBe('AUTH_EXPIRED');
  });
});

describe('JWT name claim (real TLS)', () => {
  it('cleans a name with a tab, newlines and invisible characters instead of refusing the user', async () => {
    const server = await startServer(JWT_ENV);
    const c = await connect(server, { token: await token({ sub: 'tabbed', name: ' Ada\tLovelace\r\n\u200B' }, { exp: 300 }) });
    expect(await nameOf(c)).toBe('Ada Lovelace');
  });

  it('cuts a long name to 30 characters', async () => {
    const server = await startServer(JWT_ENV);
    const c = await connect(server, { token: await token({ sub: 'long', name: `${'가'.repeat(25)}\n\t${'나'.repeat(20)}` }, { exp: 300 }) });
    expect(await nameOf(c)).toBe(`${'가'.repeat(25)} ${'나'.repeat(4)}`);
  });

  it('falls back to the handshake displayName when nothing visible is left of the claim', async () => {
    const server = await startServer(JWT_ENV);
    const c = await connect(server, { token: await token({ sub: 'blank', name: '\t\u3164\u200B\n' }, { exp: 300 }), displayName: 'Typed' });
    expect(await nameOf(c)).toBe('Typed');
  });
});

describe('same-origin check with TLS=off', () => {
  it('refuses a browser Origin that matches a spoofed Host, and warns at start that CORS_ORIGINS is needed', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const server = await startServer({ TLS: 'off' }, { log: pino({ level: 'warn' }, sink) });
    expect(lines.some((l) => l.includes('CORS_ORIGINS'))).toBe(true);
    for (const transports of [['websocket'], ['polling']]) {
      const evil = client(server, P, { auth: user('rebound'), transports, extraHeaders: { origin: 'http://evil.example', host: 'evil.example' } });
      await refusal(evil);
      expect(evil.connected).toBe(false);
    }
    // Clients that are not browser pages (no Origin) still connect.
    expect((await join(server, P, user('native'))).connected).toBe(true);
    expect(value(await scrape(server), 'onair_origin_refused_total', { reason: 'plain-http' })).toBeGreaterThanOrEqual(2);
  });

  it('with CORS_ORIGINS, a listed origin connects over plain HTTP', async () => {
    const server = await startServer({ TLS: 'off', CORS_ORIGINS: 'http://app.example' });
    const app = await join(server, P, user('app'), { extraHeaders: { origin: 'http://app.example' } });
    expect(app.connected).toBe(true);
    const evil = client(server, P, { auth: user('evil'), extraHeaders: { origin: 'http://evil.example', host: 'evil.example' } });
    await refusal(evil);
    expect(value(await scrape(server), 'onair_origin_refused_total', { reason: 'not-listed' })).toBeGreaterThanOrEqual(1);
  });

  it('with TLS on, a same-origin page still connects without CORS_ORIGINS', async () => {
    const server = await startServer();
    const origin = server.url;
    const page = await join(server, P, user('page'), { extraHeaders: { origin } });
    expect(page.connected).toBe(true);
  });
});
