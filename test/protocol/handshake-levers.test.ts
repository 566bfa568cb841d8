/**
 * Issue 17 (handshakes and memory per connection), over real TLS with the real client:
 * - the JWT verification cache: a token seen before is admitted without a new verification, an
 *   expired one is refused even though it is cached, and a different token with the same claims
 *   (another signature) is verified anew and refused when its signature is wrong;
 * - TLS session resumption: a returning client resumes its session with a ticket;
 * - the self-signed certificate is ECDSA P-256;
 * - the engine.io request swapped for a slim stand-in after the engine.io handshake: a second
 *   namespace CONNECT on the same connection still has the handshake's query and headers.
 */
import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { SignJWT, type JWTPayload } from 'jose';
import { Manager, io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { JwtAuthenticator, VerifiedTokens } from '../../src/transport/auth.js';
import { startServer, TEST_ENV, testDataDir, type TestServer } from '../helpers/server.js';
import { user } from '../helpers/client.js';
import { waitUntil } from '../helpers/wait.js';

const PROGRAM = 'prog-levers';
const SECRET = 'test-secret-that-is-long-enough-for-hs256!!';
const OTHER_SECRET = 'another-secret-also-long-enough-for-hs256!!';
const key = (s: string) => new TextEncoder().encode(s);

const open: Socket[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** `iat` is the claims' own when they carry one: two tokens of the same claims are then the same
 * but for their signature, whatever second each was signed in. */
async function sign(claims: JWTPayload, secret: string, expSeconds: number): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(claims.iat).setExpirationTime(expSeconds).sign(key(secret));
}

/** Connect; resolves with the socket once `loadRooms` arrives, or with the refusal code. */
function outcome(server: TestServer, auth: Record<string, string>, opts: Record<string, unknown> = {}): Promise<{ socket?: Socket; code?: string }> {
  const socket = io(`${server.url}/${PROGRAM}`, { transports: ['websocket'], reconnection: false, forceNew: true, ca: server.ca!, auth, ...opts });
  open.push(socket);
  return new Promise((resolve) => {
    socket.once('loadRooms', () => resolve({ socket }));
    socket.once('connect_error', (err: Error & { data?: { code: string } }) => resolve({ code: err.data?.code ?? err.message }));
  });
}

function jwtConfig(env: Record<string, string>) {
  const config = loadConfig({ ...TEST_ENV, DATA_DIR: testDataDir(), AUTH_MODE: 'jwt', JWT_SECRET: SECRET, ...env });
  if (config.auth.mode !== 'jwt') throw new Error('not jwt');
  return config.auth;
}

describe('the JWT verification cache', () => {
  it('admits a returning token from the cache; a different token with the same claims is verified anew', async () => {
    const server = await startServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
    const exp = Math.floor(Date.now() / 1000) + 300;
    const claims = { sub: 'uid-cached', name: 'Cached', iat: Math.floor(Date.now() / 1000) };
    const good = await sign(claims, SECRET, exp);
    expect((await outcome(server, { token: good })).socket).toBeDefined();
    expect((await outcome(server, { token: good })).socket).toBeDefined();
    // Same header and claims, signed with another key: another token, so no hit, and refused.
    const forged = await sign(claims, OTHER_SECRET, exp);
    expect(forged.split('.').slice(0, 2)).toEqual(good.split('.').slice(0, 2));
    expect((await outcome(server, { token: forged })).code).toBe('AUTH_INVALID');
    // The same payload with the signature tampered with.
    const tampered = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await outcome(server, { token: tampered })).code).toBe('AUTH_INVALID');
    // And the good token is still admitted.
    expect((await outcome(server, { token: good })).socket).toBeDefined();
  });

  it('refuses an expired token even though it was verified and cached while valid', async () => {
    const server = await startServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_S: '0' });
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await sign({ sub: 'uid-expiring', name: 'Soon' }, SECRET, exp);
    expect((await outcome(server, { token })).socket).toBeDefined();
    // What is waited for is the token's own expiry (time itself), not an event.
    await waitUntil(() => Date.now() >= exp * 1000, 5000, 'the token has expired');
    expect((await outcome(server, { token })).code).toBe('AUTH_EXPIRED');
  });

  it('verifies once per token while cached, and not at all when JWT_CACHE_SIZE=0', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await sign({ sub: 'uid-unit', name: 'Unit' }, SECRET, exp);
    const input = { auth: { token }, query: {}, headers: {} };
    const on = new JwtAuthenticator(jwtConfig({}));
    expect(await on.authenticate(input)).toEqual({ userUID: 'uid-unit', displayName: 'Unit' });
    expect(on.verified.size).toBe(1);
    expect(await on.authenticate(input)).toEqual({ userUID: 'uid-unit', displayName: 'Unit' });
    expect(on.verified.size).toBe(1);
    const off = new JwtAuthenticator(jwtConfig({ JWT_CACHE_SIZE: '0' }));
    expect(await off.authenticate(input)).toEqual({ userUID: 'uid-unit', displayName: 'Unit' });
    expect(off.verified.size).toBe(0);
    // A refused token is never cached.
    await expect(on.authenticate({ ...input, auth: { token: await sign({ sub: 'x' }, OTHER_SECRET, exp) } })).rejects.toMatchObject({ code: 'AUTH_INVALID' });
    expect(on.verified.size).toBe(1);
  });

  it('is bounded (least recently used out first) and drops an entry at its expiry', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokens(2, () => now);
    cache.set('a', { sub: 'a' }, now + 10_000);
    cache.set('b', { sub: 'b' }, now + 10_000);
    expect(cache.get('a')).toEqual({ sub: 'a' }); // a is now the most recent
    cache.set('c', { sub: 'c' }, now + 10_000);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual({ sub: 'a' });
    expect(cache.get('c')).toEqual({ sub: 'c' });
    now += 10_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.set('old', { sub: 'old' }, now - 1);
    expect(cache.get('old')).toBeUndefined();
  });
});

describe('TLS', () => {
  it('makes an ECDSA P-256 self-signed certificate', async () => {
    const server = await startServer();
    const cert = new X509Certificate(server.ca!);
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('lets a returning client resume its TLS session with a ticket', async () => {
    const server = await startServer();
    const agent = new Agent({ maxCachedSessions: 10 });
    const reused = async () => {
      const { socket } = await outcome(server, { ...user('tls') }, { agent });
      const ws = (socket!.io.engine.transport as unknown as { ws: { _socket: { isSessionReused(): boolean } } }).ws;
      const r = ws._socket.isSessionReused();
      socket!.close();
      return r;
    };
    expect(await reused()).toBe(false);
    // TLS 1.3 sends its tickets after the handshake: the agent caches one on the socket's 'session'.
    await waitUntil(() => Object.keys((agent as unknown as { _sessionCache: { map: object } })._sessionCache.map).length > 0, 3000, 'a ticket is cached');
    expect(await reused()).toBe(true);
    agent.destroy();
  });
});

describe('the slim engine.io request', () => {
  it('keeps the query and headers of the handshake for a later namespace CONNECT on the same connection', async () => {
    const server = await startServer({ TRUST_PROXY: '1' });
    const who = user('slim');
    const manager = new Manager(server.url, {
      transports: ['websocket'],
      reconnection: false,
      ca: server.ca!,
      query: { userUID: who.userUID, displayName: who.displayName },
      extraHeaders: { 'x-forwarded-for': '203.0.113.7' },
    });
    const connectTo = (nsp: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = manager.socket(nsp);
        open.push(s);
        s.once('loadRooms', () => resolve(s));
        s.once('connect_error', reject);
      });
    await connectTo(`/${PROGRAM}`);
    const conn = Object.values((server.app.io.engine as unknown as { clients: Record<string, unknown> }).clients)[0] as { request: Record<string, unknown> };
    expect(conn.request.constructor).toBe(Object); // the stand-in, not the IncomingMessage
    expect((conn.request.headers as Record<string, string>)['x-forwarded-for']).toBe('203.0.113.7');
    // A second programme over the same engine.io connection: its CONNECT reads the query again.
    const second = await connectTo(`/${PROGRAM}-2`);
    expect(second.connected).toBe(true);
    manager.engine.close();
  });
});
