/**
 * The SDK's defaults for phones, against a real server over TLS: websocket only, jittered
 * backoff, retries of refused handshakes that say "later", pause()/resume() for the app's
 * AppState handler, and a token refreshed through a callback before it expires.
 */
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, OnAirClient, tokenExpiresAt, waitFor, type ConnectionSnapshot, type ConnectionState, type ConnectOptions } from '@onair/client';
import { user, WAIT_MS } from '../helpers/client.js';
import { sdk, track } from '../helpers/sdk.js';
import { startServer, type TestServer } from '../helpers/server.js';

const P = 'sdkMobile';
const SECRET = 'test-secret-that-is-long-enough-for-hs256!!';
// No slack on `exp`, so that an expired token is refused the moment it expires.
const JWT_ENV = { AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_S: '0' };

async function jwt(sub: string, expiresInMs: number): Promise<string> {
  return new SignJWT({ name: sub })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + expiresInMs) / 1000))
    .sign(new TextEncoder().encode(SECRET));
}

/** Options as an app would give them: the SDK's defaults (transport, reconnection), only the
 * test server's certificate added. */
function appOptions(server: TestServer, extra: Partial<ConnectOptions>): ConnectOptions {
  return {
    url: server.url,
    program: P,
    path: server.config.socketPath,
    timeoutMs: WAIT_MS,
    backoff: { minMs: 50, maxMs: 400 },
    ...(server.ca ? { socketOptions: { ca: server.ca } } : {}),
    ...extra,
  };
}

/** Resolves once the connection's snapshot satisfies `predicate`. */
function connectionReaches(c: OnAirClient, predicate: (s: ConnectionSnapshot) => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const state: ConnectionState = c.connection;
  if (predicate(state.snapshot)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`connection stayed ${JSON.stringify(state.snapshot)}`))), timeoutMs);
    const off = state.subscribe((s) => {
      if (predicate(s.snapshot)) (clearTimeout(timer), off(), resolve());
    });
  });
}

/** The reasons the server gives for losing each socket of `P` it holds now. (Only while a client
 * is in: once the programme is released, `io.of` would make a bare namespace without handlers.) */
function serverDisconnects(server: TestServer): string[] {
  const reasons: string[] = [];
  for (const socket of server.app.io.of(`/${P}`).sockets.values()) socket.on('disconnect', (reason) => reasons.push(reason));
  return reasons;
}

describe('backoff', () => {
  it('doubles from minMs up to maxMs, each wait spread by the jitter either way', () => {
    const opts = { minMs: 1000, maxMs: 30_000, jitter: 0.5 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(0, opts, () => 0)).toBe(500);
    expect(backoffDelay(0, opts, () => 0.999999)).toBe(1500);
    // Never past maxMs, whatever the draw.
    expect(backoffDelay(10, opts, () => 0.999999)).toBe(30_000);
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(2, opts)));
    expect(draws.size).toBeGreaterThan(10);
    expect(DEFAULT_BACKOFF).toEqual(opts);
  });
});

describe('mobile defaults', () => {
  it('connects over websocket only, so a server that refuses long-polling takes it as it is', async () => {
    const server = await startServer({ TRANSPORTS: 'websocket' });
    const c = track(new OnAirClient(appOptions(server, { identity: user('ws') })));
    await c.open();
    expect(c.socket.io.engine.transport.name).toBe('websocket');
    expect(c.connection.snapshot).toMatchObject({ status: 'connected', connections: 1, recovered: false, error: null });
  });

  it('pause() closes the transport as a lost network would, tries nothing until resume(), which connects again', async () => {
    const server = await startServer();
    const c = track(new OnAirClient(appOptions(server, { identity: user('phone') })));
    await c.open();
    const reasons = serverDisconnects(server);
    const attempts: number[] = [];
    c.socket.io.on('reconnect_attempt', (n) => attempts.push(n));

    c.pause();
    expect(c.connection.status).toBe('paused');
    await waitFor(c.state, (s) => !s.connected, WAIT_MS);
    // The server saw a transport close, not a client's leave: spec 7.1 holds that session.
    await expect.poll(() => reasons, { timeout: WAIT_MS }).toEqual(['transport close']);
    // With 50 ms backoff socket.io would have tried several times within this window.
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts).toEqual([]);
    expect(c.connection.status).toBe('paused');

    c.resume();
    await waitFor(c.state, (s) => s.connected, WAIT_MS);
    expect(c.connection.snapshot).toMatchObject({ status: 'connected', connections: 2 });
    const { roomId } = await c.createRoom({ title: 'back from the background', max: 5 });
    expect(c.state.roomId).toBe(roomId);
  });

  it('pause() between two attempts stops them too', async () => {
    const server = await startServer();
    const c = track(new OnAirClient(appOptions(server, { identity: user('tunnel'), backoff: { minMs: 5000, maxMs: 5000 } })));
    await c.open();
    // A lost line: socket.io waits ~5 s before its first attempt.
    c.socket.io.engine.close();
    await connectionReaches(c, (s) => s.status === 'reconnecting');
    c.pause();
    expect(c.connection.status).toBe('paused');
    c.resume();
    // At once, not after the 5 s backoff.
    await waitFor(c.state, (s) => s.connected, 2000);
    expect(c.connection.snapshot.status).toBe('connected');
  });

  it('a server-side disconnect other than a shutdown stops the client, and says so', async () => {
    const server = await startServer();
    const who = user('twice');
    const first = await sdk(server, P, who);
    const c = track(new OnAirClient(appOptions(server, { identity: who })));
    await c.open();
    await waitFor(first.state, (s) => !s.connected, WAIT_MS);
    expect(first.state.lastSystem?.code).toBe('DUPLICATE_SESSION');
    expect(first.connection.status).toBe('stopped');
  });
});

describe('token refresh', () => {
  it('asks for a new token before the current one expires, and reconnects with it after', async () => {
    const server = await startServer(JWT_ENV);
    const sub = user('firebase').userUID;
    const first = await jwt(sub, 3000);
    let calls = 0;
    const c = track(
      new OnAirClient(
        appOptions(server, {
          token: first,
          refreshBeforeMs: 2000,
          refreshToken: async () => {
            calls += 1;
            return jwt(sub, 3_600_000);
          },
        }),
      ),
    );
    await c.open();
    // About a second in, two before `exp`.
    await expect.poll(() => calls, { timeout: WAIT_MS }).toBe(1);
    expect(Date.now()).toBeLessThan(tokenExpiresAt(first)!);
    // Past the first token's expiry a blip's reconnection gets in: with the new one.
    await expect.poll(() => Date.now() > tokenExpiresAt(first)!, { timeout: WAIT_MS, interval: 100 }).toBe(true);
    c.socket.io.engine.close();
    await waitFor(c.state, (s) => !s.connected, WAIT_MS);
    await connectionReaches(c, (s) => s.status === 'connected' && s.connections === 2);
    expect(calls).toBe(1);
    expect(c.state.me?.userUID).toBe(sub);
  });

  it('after AUTH_EXPIRED on a reconnection, refreshes and tries again by itself', async () => {
    const server = await startServer(JWT_ENV);
    const sub = user('expired').userUID;
    let calls = 0;
    const c = track(
      new OnAirClient(
        appOptions(server, {
          token: await jwt(sub, 3_600_000),
          // A device whose clock is a minute behind: it takes an expired token for a valid one.
          refreshBeforeMs: -60_000,
          refreshToken: async () => {
            calls += 1;
            return jwt(sub, 3_600_000);
          },
        }),
      ),
    );
    await c.open();
    c.pause();
    // In the background the token expired; AppState says the app is back.
    (c as unknown as { keeper: { token: string } }).keeper.token = await jwt(sub, -1000);
    const seen: string[] = [];
    c.connection.subscribe((s) => seen.push(s.snapshot.error?.code ?? s.snapshot.status));
    c.resume();
    await connectionReaches(c, (s) => s.status === 'connected');
    expect(seen).toEqual(['connecting', 'AUTH_EXPIRED', 'AUTH_EXPIRED', 'connected']);
    expect(calls).toBe(1);
  });

  it('a refreshed token already stale is not asked for again in a loop', async () => {
    const server = await startServer(JWT_ENV);
    const sub = user('stale').userUID;
    let calls = 0;
    const c = track(
      new OnAirClient(
        appOptions(server, {
          token: await jwt(sub, 1000),
          refreshBeforeMs: 2000,
          refreshToken: async () => {
            calls += 1;
            return jwt(sub, calls <= 2 ? 1000 : 3_600_000);
          },
        }),
      ),
    );
    await c.open();
    // Asked by the schedule and by the handshake, each answered with a token already due.
    const asked = calls;
    expect(asked).toBeGreaterThanOrEqual(1);
    expect(asked).toBeLessThanOrEqual(2);
    // A loop would ask thousands of times within this window.
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(asked);
    // The next handshake asks again, and gets a good one.
    c.socket.io.engine.close();
    await connectionReaches(c, (s) => s.status === 'connected' && s.connections === 2);
    expect(calls).toBe(asked + 1);
  });

  it('gives the first token too when only refreshToken is given', async () => {
    const server = await startServer(JWT_ENV);
    const sub = user('lazy').userUID;
    const c = track(new OnAirClient(appOptions(server, { refreshToken: () => jwt(sub, 3_600_000) })));
    await c.open();
    await c.createRoom({ title: 'signed in late', max: 3 });
    expect(c.state.members.map((m) => m.userUID)).toEqual([sub]);
  });

  it('does not retry a refusal that says never', async () => {
    const server = await startServer(JWT_ENV);
    const sub = user('never').userUID;
    const c = track(new OnAirClient(appOptions(server, { token: await jwt(sub, 3_600_000) })));
    await c.open();
    // A token the server cannot read: the reconnection is refused for good (AUTH_INVALID).
    c.pause();
    (c as unknown as { keeper: { token: string } }).keeper.token = 'not-a-jwt';
    c.resume();
    await connectionReaches(c, (s) => s.status === 'stopped');
    expect(c.connection.error?.code).toBe('AUTH_INVALID');
  });
});
