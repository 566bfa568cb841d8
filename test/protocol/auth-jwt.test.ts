/**
 * Spec section 1, AUTH_MODE=jwt: where the token is read from, how it is verified (HS256 secret,
 * RS256 PEM key, remote JWKS as Firebase ID tokens use), the identity it yields, the refusal
 * codes, and the configuration rules that keep production off dev mode.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import type { UserInfo } from '../../src/protocol/index.js';
import { call, client, refusal, type Client, type Recorder } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTopology } from '../helpers/topology.js';

const PROGRAM = 'prog-jwt';
const SECRET = 'test-secret-that-is-long-enough-for-hs256!!';
const OTHER_SECRET = 'another-secret-also-long-enough-for-hs256!!';
const JWT_ENV = { AUTH_MODE: 'jwt', JWT_SECRET: SECRET };

type Refusal = Error & { data?: { code: string; message: string } };
type Opts = Parameters<typeof client>[2];

function expectRefused(err: Refusal, code: string): void {
  expect(err.message).toBe(code);
  expect(err.data).toEqual({ code, message: expect.any(String) });
  expect(err.data!.message.length).toBeGreaterThan(0);
}

const secretKey = (s: string) => new TextEncoder().encode(s);

interface SignOptions {
  alg?: string;
  kid?: string;
  /** Seconds from now; `null` leaves `exp` out. */
  expiresIn?: number | null;
}

async function sign(claims: JWTPayload, key: Uint8Array | CryptoKey, opts: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT', ...(opts.kid ? { kid: opts.kid } : {}) }).setIssuedAt(now - 5);
  if (opts.expiresIn !== null) jwt.setExpirationTime(now + (opts.expiresIn ?? 300));
  return jwt.sign(key);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Connect and wait for the initial `loadRooms`; throws with the refusal if refused. */
async function connectWith(server: TestServer, opts: Opts): Promise<Client & { events: Recorder }> {
  const c = client(server, PROGRAM, opts);
  const loaded = c.events.next('loadRooms');
  const refused = new Promise<never>((_, reject) => c.once('connect_error', (err) => reject(new Error(`refused: ${err.message}`))));
  c.connect();
  await Promise.race([loaded, refused]);
  return c;
}

/** The identity the server uses for `c`: make a room (entering it) and list its members. */
async function identityOf(c: Client): Promise<UserInfo> {
  expect(await call(c, 'createRoom', { title: 'whoami', max: 2 })).toMatchObject({ ok: true });
  const listed = await call<{ users: UserInfo[] }>(c, 'loadUsers');
  if (!listed.ok) throw new Error(`loadUsers failed: ${listed.code}`);
  expect(listed.users).toHaveLength(1);
  return listed.users[0]!;
}

describe('HS256 with JWT_SECRET', () => {
  it('accepts a valid token in auth.token: userUID = sub, displayName = name, photoURL = picture', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-alice', name: 'Alice', picture: 'https://img.example/alice.png' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), { auth: { token } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-alice', displayName: 'Alice', photoURL: 'https://img.example/alice.png' });
  });

  it('takes the identity from the token, never from handshake fields the claims cover', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-real', name: 'Real Name', picture: 'https://img.example/real.png' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), {
      auth: { token, userUID: 'impostor', displayName: 'Impostor', photoURL: 'https://evil.example/x.png' },
    });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-real', displayName: 'Real Name', photoURL: 'https://img.example/real.png' });
  });

  it('falls back to the handshake displayName and photoURL when the token has no name or picture', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-bare' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), { auth: { token, displayName: '  Typed Name ', photoURL: 'https://img.example/typed.png' } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-bare', displayName: 'Typed Name', photoURL: 'https://img.example/typed.png' });
  });

  it('accepts the token in query.token', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-query', name: 'Query' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), { query: { token } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-query', displayName: 'Query' });
  });

  it('accepts the token in an Authorization: Bearer header', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-header', name: 'Header' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), { extraHeaders: { Authorization: `Bearer ${token}` } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-header', displayName: 'Header' });
  });

  it('refuses an expired token with AUTH_EXPIRED', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-old', name: 'Old' }, secretKey(SECRET), { expiresIn: -60 });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_EXPIRED');
  });

  it('refuses a token signed with another secret with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-forged', name: 'Forged' }, secretKey(OTHER_SECRET));
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });

  it('refuses a token whose payload was altered after signing with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-victim', name: 'Victim' }, secretKey(SECRET));
    const [header, , signature] = token.split('.');
    const now = Math.floor(Date.now() / 1000);
    const tampered = `${header}.${b64url({ sub: 'uid-admin', name: 'Admin', iat: now, exp: now + 300 })}.${signature}`;
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: tampered } })), 'AUTH_INVALID');
  });

  it('refuses an unsigned alg:none token with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'uid-none', name: 'None', iat: now, exp: now + 300 })}.`;
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: unsigned } })), 'AUTH_INVALID');
  });

  it('refuses a token without exp with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ sub: 'uid-forever', name: 'Forever' }, secretKey(SECRET), { expiresIn: null });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });

  it('refuses a token without sub with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const token = await sign({ name: 'Nobody' }, secretKey(SECRET));
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });

  it('applies the identity rules to the token: a sub with whitespace or no display name at all is AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    const spaced = await sign({ sub: 'uid with space', name: 'Spaced' }, secretKey(SECRET));
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: spaced } })), 'AUTH_INVALID');
    const nameless = await sign({ sub: 'uid-nameless' }, secretKey(SECRET));
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: nameless } })), 'AUTH_INVALID');
  });

  it('refuses a handshake without token with AUTH_REQUIRED, even carrying a dev identity', async () => {
    const t = await startTopology(JWT_ENV);
    expectRefused(await refusal(client(t.server(0), PROGRAM)), 'AUTH_REQUIRED');
    const dev = { userUID: 'uid-dev', displayName: 'Dev' };
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: dev })), 'AUTH_REQUIRED');
    expectRefused(await refusal(client(t.server(0), PROGRAM, { query: dev })), 'AUTH_REQUIRED');
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: '' } })), 'AUTH_REQUIRED');
  });

  it('refuses a token that is not a JWT with AUTH_INVALID', async () => {
    const t = await startTopology(JWT_ENV);
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: 'not-a-jwt' } })), 'AUTH_INVALID');
  });
});

describe('issuer and audience', () => {
  const ENV = { ...JWT_ENV, JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'onair-app' };

  it('accepts a token with the configured issuer and audience', async () => {
    const t = await startTopology(ENV);
    const token = await sign({ sub: 'uid-ok', name: 'Ok', iss: 'https://issuer.example', aud: 'onair-app' }, secretKey(SECRET));
    const c = await connectWith(t.server(0), { auth: { token } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-ok', displayName: 'Ok' });
  });

  it.each([
    ['a wrong audience', { iss: 'https://issuer.example', aud: 'someone-else' }],
    ['no audience', { iss: 'https://issuer.example' }],
    ['a wrong issuer', { iss: 'https://evil.example', aud: 'onair-app' }],
    ['no issuer', { aud: 'onair-app' }],
  ])('refuses %s with AUTH_INVALID', async (_what, claims) => {
    const t = await startTopology(ENV);
    const token = await sign({ sub: 'uid-x', name: 'X', ...claims }, secretKey(SECRET));
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });
});

describe('RS256 with JWT_PUBLIC_KEY', () => {
  let dir: string;
  let pemPath: string;
  let pem: string;
  let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
  let otherKeys: { privateKey: CryptoKey; publicKey: CryptoKey };

  beforeAll(async () => {
    [keys, otherKeys] = await Promise.all([
      generateKeyPair('RS256', { extractable: true }),
      generateKeyPair('RS256', { extractable: true }),
    ]);
    dir = mkdtempSync(joinPath(tmpdir(), 'onair-jwt-'));
    pemPath = joinPath(dir, 'jwt-public.pem');
    pem = await exportSPKI(keys.publicKey);
    writeFileSync(pemPath, pem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a token signed with the matching private key', async () => {
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: pemPath });
    const token = await sign({ sub: 'uid-rsa', name: 'Rsa' }, keys.privateKey, { alg: 'RS256' });
    const c = await connectWith(t.server(0), { auth: { token } });
    expect(await identityOf(c)).toEqual({ userUID: 'uid-rsa', displayName: 'Rsa' });
  });

  it('refuses a token signed with another key with AUTH_INVALID', async () => {
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: pemPath });
    const token = await sign({ sub: 'uid-rsa', name: 'Rsa' }, otherKeys.privateKey, { alg: 'RS256' });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });

  it('refuses an HS256 token keyed with the public key text (algorithm confusion) with AUTH_INVALID', async () => {
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: pemPath });
    const token = await sign({ sub: 'uid-confused', name: 'Confused' }, secretKey(pem), { alg: 'HS256' });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token } })), 'AUTH_INVALID');
  });
});

describe('JWKS with JWT_JWKS_URL (Firebase-style ID tokens)', () => {
  const PROJECT = 'onair-test-project';
  const ISSUER = `https://securetoken.google.com/${PROJECT}`;
  const KID = 'key-2024-1';
  let keys: { privateKey: CryptoKey; publicKey: CryptoKey };
  let rogue: { privateKey: CryptoKey; publicKey: CryptoKey };
  const jwksServers: Server[] = [];

  beforeAll(async () => {
    [keys, rogue] = await Promise.all([
      generateKeyPair('RS256', { extractable: true }),
      generateKeyPair('RS256', { extractable: true }),
    ]);
  });
  afterEach(async () => {
    await Promise.all(
      jwksServers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  });

  /** A key-set endpoint on 127.0.0.1; `requests` counts how often it was fetched. */
  async function serveJwks(): Promise<{ url: string; requests: () => number }> {
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    let requests = 0;
    const server = createServer((req, res) => {
      if (req.url !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    jwksServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/jwks.json`, requests: () => requests };
  }

  function firebaseClaims(sub: string): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { sub, user_id: sub, name: 'Fire User', picture: 'https://img.example/fire.png', iss: ISSUER, aud: PROJECT, auth_time: now - 10 };
  }

  it('verifies a token whose kid is in the remote key set, with issuer and audience checked', async () => {
    const jwks = await serveJwks();
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_JWKS_URL: jwks.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: PROJECT });
    const token = await sign(firebaseClaims('fire-uid-1'), keys.privateKey, { alg: 'RS256', kid: KID, expiresIn: 3600 });
    const c = await connectWith(t.server(0), { auth: { token } });
    expect(await identityOf(c)).toEqual({ userUID: 'fire-uid-1', displayName: 'Fire User', photoURL: 'https://img.example/fire.png' });
    expect(jwks.requests()).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token signed with a key not in the set with AUTH_INVALID', async () => {
    const jwks = await serveJwks();
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_JWKS_URL: jwks.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: PROJECT });
    const sameKid = await sign(firebaseClaims('fire-uid-2'), rogue.privateKey, { alg: 'RS256', kid: KID });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: sameKid } })), 'AUTH_INVALID');
    const unknownKid = await sign(firebaseClaims('fire-uid-2'), rogue.privateKey, { alg: 'RS256', kid: 'unknown-kid' });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: unknownKid } })), 'AUTH_INVALID');
  });

  it('refuses a token of another Firebase project (audience and issuer) with AUTH_INVALID', async () => {
    const jwks = await serveJwks();
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_JWKS_URL: jwks.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: PROJECT });
    const otherProject = await sign(
      { ...firebaseClaims('fire-uid-3'), aud: 'other-project', iss: 'https://securetoken.google.com/other-project' },
      keys.privateKey,
      { alg: 'RS256', kid: KID },
    );
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: otherProject } })), 'AUTH_INVALID');
  });

  it('refuses an expired token from the key set with AUTH_EXPIRED', async () => {
    const jwks = await serveJwks();
    const t = await startTopology({ AUTH_MODE: 'jwt', JWT_JWKS_URL: jwks.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: PROJECT });
    const expired = await sign(firebaseClaims('fire-uid-4'), keys.privateKey, { alg: 'RS256', kid: KID, expiresIn: -60 });
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { token: expired } })), 'AUTH_EXPIRED');
  });
});

describe('configuration', () => {
  /** The problems a configuration is refused with (fails the test if it is accepted). */
  function problemsOf(env: Record<string, string>): { problems: string[]; message: string } {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      return { problems: e.problems, message: e.message };
    }
    throw new Error(`configuration was accepted: ${JSON.stringify(env)}`);
  }

  it('refuses AUTH_MODE=dev when NODE_ENV=production, naming AUTH_MODE', () => {
    const { problems, message } = problemsOf({ NODE_ENV: 'production', AUTH_MODE: 'dev' });
    expect(problems.some((p) => p.startsWith('AUTH_MODE'))).toBe(true);
    expect(message).toContain('AUTH_MODE');
  });

  it('defaults to jwt in production, and then needs a key source, naming AUTH_MODE', () => {
    const { problems } = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((p) => p.startsWith('AUTH_MODE'))).toBe(true);
    const ok = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET });
    expect(ok.production).toBe(true);
    expect(ok.auth).toMatchObject({ mode: 'jwt', key: { kind: 'secret' } });
  });

  it('refuses a JWT_SECRET shorter than 32 bytes, naming JWT_SECRET without showing it', () => {
    const short = 'x'.repeat(31);
    const { problems, message } = problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET: short });
    expect(problems.some((p) => p.startsWith('JWT_SECRET'))).toBe(true);
    expect(message).not.toContain(short);
    // Bytes, not characters: 16 two-byte characters are 32 bytes.
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: '\u00e9'.repeat(16) }).auth.mode).toBe('jwt');
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32) }).auth.mode).toBe('jwt');
  });

  it('refuses jwt mode without a key source, naming AUTH_MODE', () => {
    const { problems } = problemsOf({ AUTH_MODE: 'jwt' });
    expect(problems.some((p) => p.startsWith('AUTH_MODE'))).toBe(true);
  });

  it('refuses jwt mode with more than one key source, naming AUTH_MODE', () => {
    const { problems } = problemsOf({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_JWKS_URL: 'https://keys.example/jwks.json' });
    expect(problems.some((p) => p.startsWith('AUTH_MODE'))).toBe(true);
  });

  it('keeps dev mode the default outside production', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'dev' });
  });
});
