/**
 * Spec section 1 (connecting) and the section 8 health routes: namespaces, the lobby on connect,
 * dev-mode identities, handshake rate limiting, TLS, health, origins, frame size and the
 * one-session-per-user-per-programme rule.
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { RoomSummary, UserInfo } from '../../src/protocol/index.js';
import { call, client, join, refusal, user, type Client } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startServer } from '../helpers/server.js';
import { startTopology } from '../helpers/topology.js';

const PROGRAM = 'prog-connect';

type Refusal = Error & { data?: { code: string; message: string } };

/** A refused handshake carries the code as `message` and `{ code, message }` with human text as `data`. */
function expectRefused(err: Refusal, code: string): void {
  expect(err.message).toBe(code);
  expect(err.data).toEqual({ code, message: expect.any(String) });
  expect(err.data!.message.length).toBeGreaterThan(0);
  expect(err.data!.message).not.toBe(code);
}

/** The identity the server uses for `c`: make a room (entering it) and list its members. */
async function identityOf(c: Client): Promise<UserInfo> {
  const created = await call(c, 'createRoom', { title: 'whoami', max: 2 });
  expect(created).toMatchObject({ ok: true });
  const listed = await call<{ users: UserInfo[] }>(c, 'loadUsers');
  if (!listed.ok) throw new Error(`loadUsers failed: ${listed.code}`);
  expect(listed.users).toHaveLength(1);
  return listed.users[0]!;
}

interface HttpReply {
  status: number;
  type: string | undefined;
  body: string;
}

function collect(res: IncomingMessage): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    res.on('error', reject);
  });
}

/** GET a path of the server over its own scheme, verifying the certificate with the harness CA. */
function getPath(server: TestServer, path: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = url.protocol === 'https:' ? httpsGet(url, { ca: server.ca }, (res) => collect(res).then(resolve, reject)) : httpGet(url, (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.setTimeout(3000, () => req.destroy(new Error(`GET ${path} timed out`)));
  });
}

type TlsOutcome = { ok: true; protocol: string | null; authorized: boolean } | { ok: false; code: string | undefined; message: string };

/** One raw TLS handshake against the server. */
function tlsHandshake(server: TestServer, opts: ConnectionOptions): Promise<TlsOutcome> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ...opts });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, code: 'TIMEOUT', message: 'TLS handshake timed out' });
    }, 3000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ ok: true, protocol: socket.getProtocol(), authorized: socket.authorized });
      socket.end();
    });
    socket.once('error', (err: Error & { code?: string }) => {
      clearTimeout(timer);
      resolve({ ok: false, code: err.code, message: err.message });
      socket.destroy();
    });
  });
}

describe('namespaces', () => {
  it('accepts every scheduleUID matching ^[A-Za-z0-9_-]{1,64}$', async () => {
    const t = await startTopology();
    const names = ['a', 'Prog_2024-05-01', 'x'.repeat(64), 'ABC-def_123'];
    const clients = await Promise.all(names.map((n, i) => join(t.server(i), n)));
    for (const c of clients) {
      expect(c.connected).toBe(true);
      expect(Array.isArray(c.rooms)).toBe(true);
    }
  });

  it.each([
    ['65 characters', 'x'.repeat(65)],
    ['a dot', 'a.b'],
    ['a url-encoded space', 'a%20b'],
    ['unicode letters', '프로그램'],
    ['accented latin', 'caf\u00e9'],
    ['the root namespace', ''],
  ])('refuses %s with "Invalid namespace"', async (_what, name) => {
    const t = await startTopology();
    const c = client(t.server(0), name, { auth: user() });
    const err = await refusal(c);
    expect(err.message).toBe('Invalid namespace');
    expect(c.connected).toBe(false);
    expect(c.events.all('loadRooms')).toEqual([]);
  });
});

describe('transports', () => {
  it('accepts the polling transport by default', async () => {
    const t = await startTopology();
    const c = await join(t.server(0), PROGRAM, user('poller'), { transports: ['polling'] });
    expect(c.io.engine.transport.name).toBe('polling');
    expect(await call(c, 'loadRooms')).toEqual({ ok: true, rooms: [] });
  });

  it('accepts only websocket with TRANSPORTS=websocket', async () => {
    const t = await startTopology({ TRANSPORTS: 'websocket' });
    const ws = await join(t.server(0), PROGRAM, user('ws'));
    expect(ws.connected).toBe(true);
    const poller = client(t.server(1), PROGRAM, { auth: user('poller'), transports: ['polling'] });
    await refusal(poller);
    expect(poller.connected).toBe(false);
  });
});

describe('the lobby on connect', () => {
  it('sends loadRooms at once, as the first event, with the programme rooms', async () => {
    const t = await startTopology();
    const a = await join(t.server(0), PROGRAM, user('alice'));
    expect(a.rooms).toEqual([]);
    expect(a.events.log[0]?.event).toBe('loadRooms');

    const created = await call<{ roomId: string }>(a, 'createRoom', { title: 'Open', max: 5 });
    if (!created.ok) throw new Error(created.code);
    const b = await join(t.server(1), PROGRAM, user('bob'));
    expect(b.events.log[0]?.event).toBe('loadRooms');
    expect(b.rooms).toEqual([{ roomId: created.roomId, title: 'Open', max: 5, count: 1 }]);
  });

  it('puts the socket in its programme lobby: addRoom from its programme, nothing from another', async () => {
    const t = await startTopology();
    const watcher = await join(t.server(0), PROGRAM, user('watcher'));
    const elsewhere = await join(t.server(0), 'other-programme', user('elsewhere'));
    const creator = await join(t.server(1), PROGRAM, user('creator'));

    // A room in another programme first: were it (wrongly) sent to the watcher, it would arrive
    // before the addRoom of its own programme below, which is the barrier.
    expect(await call(elsewhere, 'createRoom', { title: 'Elsewhere', max: 3 })).toMatchObject({ ok: true });
    const added = watcher.events.next('addRoom', (r: RoomSummary) => r.title === 'Here');
    const created = await call<{ roomId: string }>(creator, 'createRoom', { title: 'Here', max: 4 });
    if (!created.ok) throw new Error(created.code);
    const [room] = (await added) as [RoomSummary];
    expect(room).toEqual({ roomId: created.roomId, title: 'Here', count: 1, max: 4 });
    expect(watcher.events.all('addRoom')).toHaveLength(1);
  });
});

describe('dev identities', () => {
  it('reads the identity from auth', async () => {
    const t = await startTopology();
    const who = { userUID: `auth-${process.pid}`, displayName: 'Auth User', photoURL: 'https://img.example/a.png' };
    const c = await join(t.server(0), PROGRAM, who);
    expect(await identityOf(c)).toEqual(who);
  });

  it('reads the identity from the query when auth is empty, as the seed client sends it', async () => {
    // The seed's mobile client: socket.io path /jg, websocket only, identity in the query.
    const t = await startTopology({ SOCKET_PATH: '/jg' });
    const who = { userUID: `seed-${process.pid}`, displayName: 'Seed User', photoURL: 'https://img.example/s.png' };
    const c = client(t.server(0), PROGRAM, { query: who });
    const loaded = c.events.next('loadRooms');
    c.connect();
    expect(Array.isArray((await loaded)[0])).toBe(true);
    expect(await identityOf(c)).toEqual(who);
  });

  it('prefers auth over the query when both carry an identity', async () => {
    const t = await startTopology();
    const fromAuth = user('fromAuth');
    const c = client(t.server(0), PROGRAM, { auth: fromAuth, query: { userUID: 'from-query', displayName: 'fromQuery' } });
    const loaded = c.events.next('loadRooms');
    c.connect();
    await loaded;
    expect(await identityOf(c)).toEqual(fromAuth);
  });

  it('uses the trimmed displayName', async () => {
    const t = await startTopology();
    const uid = `trim-${process.pid}`;
    const c = await join(t.server(0), PROGRAM, { userUID: uid, displayName: '   Alice  ' });
    const other = await join(t.server(1), PROGRAM, user('other'));
    const me = await identityOf(c);
    expect(me).toEqual({ userUID: uid, displayName: 'Alice' });
    // Others see the same identity.
    const roomId = c.events.all('createRoomReq')[0]?.args[0] as { roomId: string };
    const joined = c.events.next('joinRoom');
    expect(await call(other, 'joinRoom', { roomId: roomId.roomId })).toMatchObject({ ok: true });
    await joined;
    const listed = await call<{ users: UserInfo[] }>(other, 'loadUsers');
    if (!listed.ok) throw new Error(listed.code);
    expect(listed.users).toContainEqual({ userUID: uid, displayName: 'Alice' });
  });

  it('accepts the identity limits exactly: 128-character userUID, 30-character displayName, 512-character photoURL', async () => {
    const t = await startTopology();
    const photoURL = 'https://img.example/' + 'p'.repeat(512 - 'https://img.example/'.length);
    expect(photoURL).toHaveLength(512);
    const who = { userUID: 'u'.repeat(128), displayName: 'd'.repeat(30), photoURL };
    const c = await join(t.server(0), PROGRAM, who);
    expect(await identityOf(c)).toEqual(who);
  });

  it('refuses a handshake without identity with AUTH_REQUIRED', async () => {
    const t = await startTopology();
    expectRefused(await refusal(client(t.server(0), PROGRAM)), 'AUTH_REQUIRED');
    expectRefused(await refusal(client(t.server(0), PROGRAM, { auth: { displayName: 'no uid' } })), 'AUTH_REQUIRED');
    expectRefused(await refusal(client(t.server(0), PROGRAM, { query: { displayName: 'no uid' } })), 'AUTH_REQUIRED');
  });

  const longPhoto = 'https://img.example/' + 'p'.repeat(513 - 'https://img.example/'.length);
  it.each([
    ['a space in userUID', { userUID: 'a b', displayName: 'Ann' }],
    ['a tab in userUID', { userUID: 'a\tb', displayName: 'Ann' }],
    ['a control character in userUID', { userUID: 'a\u0001b', displayName: 'Ann' }],
    ['a 129-character userUID', { userUID: 'u'.repeat(129), displayName: 'Ann' }],
    ['a displayName empty after trimming', { userUID: 'ann', displayName: '   ' }],
    ['an empty displayName', { userUID: 'ann', displayName: '' }],
    ['a missing displayName', { userUID: 'ann' }],
    ['a 31-character displayName', { userUID: 'ann', displayName: 'd'.repeat(31) }],
    ['a control character in displayName', { userUID: 'ann', displayName: 'An\u0007n' }],
    ['a javascript: photoURL', { userUID: 'ann', displayName: 'Ann', photoURL: 'javascript:alert(1)' }],
    ['a 513-character photoURL', { userUID: 'ann', displayName: 'Ann', photoURL: longPhoto }],
    ['a non-string userUID', { userUID: 42, displayName: 'Ann' }],
  ])('refuses %s with AUTH_INVALID', async (_what, auth) => {
    const t = await startTopology();
    const c = client(t.server(0), PROGRAM, { auth });
    expectRefused(await refusal(c), 'AUTH_INVALID');
  });

  it('refuses an invalid identity sent in the query with AUTH_INVALID', async () => {
    const t = await startTopology();
    const c = client(t.server(0), PROGRAM, { query: { userUID: 'u'.repeat(129), displayName: 'Ann' } });
    expectRefused(await refusal(c), 'AUTH_INVALID');
  });
});

describe('handshake rate limit', () => {
  it('refuses the third quick handshake from one address with RATE_LIMITED (HANDSHAKE_RATE=1, HANDSHAKE_BURST=2)', async () => {
    const t = await startTopology({ HANDSHAKE_RATE: '1', HANDSHAKE_BURST: '2' });
    // The limit is per address per server process, so all three go to the same server.
    const s = t.server(0);
    await join(s, PROGRAM, user('first'));
    await join(s, PROGRAM, user('second'));
    const third = client(s, PROGRAM, { auth: user('third') });
    expectRefused(await refusal(third), 'RATE_LIMITED');
  });
});

describe('TLS', () => {
  it('refuses a TLS 1.1 client', async () => {
    // The TLS listener is a property of one process: this test watches it from the inside.
    const s = await startServer();
    const serverSide = new Promise<Error & { code?: string }>((resolve) => s.app.httpServer.once('tlsClientError', resolve));
    // The client is allowed to offer TLS 1.0/1.1 (OpenSSL's default security level forbids it
    // locally), so the refusal has to come from the server.
    const outcome = await tlsHandshake(s, { ca: s.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(outcome.ok).toBe(false);
    // A protocol_version alert sent by the server.
    expect(outcome).toMatchObject({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    expect((await serverSide).code).toBe('ERR_SSL_UNSUPPORTED_PROTOCOL');
  });

  it('accepts TLS 1.2 and 1.3 with a certificate that verifies against the harness CA', async () => {
    const t = await startTopology();
    const s = t.server(0);
    expect(s.url.startsWith('https://')).toBe(true);
    expect(s.ca).toBeDefined();
    expect(await tlsHandshake(s, { ca: s.ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toEqual({
      ok: true,
      protocol: 'TLSv1.2',
      authorized: true,
    });
    expect(await tlsHandshake(s, { ca: s.ca })).toEqual({ ok: true, protocol: 'TLSv1.3', authorized: true });
    // Without the CA the self-signed certificate does not verify: the CA is what makes it trusted.
    const untrusted = await tlsHandshake(s, {});
    expect(untrusted.ok).toBe(false);
  });

  it('serves plain HTTP with TLS=off and clients connect', async () => {
    const t = await startTopology({ TLS: 'off' });
    const s = t.server(0);
    expect(s.url.startsWith('http://')).toBe(true);
    expect(s.ca).toBeUndefined();
    const c = await join(s, PROGRAM, user('plain'));
    expect(c.connected).toBe(true);
    const health = await getPath(s, '/healthz');
    expect(health.status).toBe(200);
  });
});

describe('health routes', () => {
  it('GET /healthz answers 200 {status: "ok"}', async () => {
    const t = await startTopology();
    const res = await getPath(t.server(0), '/healthz');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when the backends are reachable', async () => {
    const t = await startTopology();
    const res = await getPath(t.server(0), '/readyz');
    expect(res.status).toBe(200);
  });

  it('an unknown path answers 404', async () => {
    const t = await startTopology();
    const res = await getPath(t.server(0), '/no-such-route');
    expect(res.status).toBe(404);
  });
});

describe('origins', () => {
  it('without CORS_ORIGINS refuses a cross-origin websocket handshake and accepts one without Origin', async () => {
    const t = await startTopology();
    const evil = client(t.server(0), PROGRAM, { auth: user('evil'), extraHeaders: { origin: 'https://evil.example' } });
    await refusal(evil);
    expect(evil.connected).toBe(false);
    const plain = await join(t.server(1), PROGRAM, user('native'));
    expect(plain.connected).toBe(true);
  });

  it('without CORS_ORIGINS refuses a cross-origin polling handshake too', async () => {
    const t = await startTopology();
    const evil = client(t.server(0), PROGRAM, {
      auth: user('evil'),
      transports: ['polling'],
      extraHeaders: { origin: 'https://evil.example' },
    });
    await refusal(evil);
    expect(evil.connected).toBe(false);
  });

  it('with CORS_ORIGINS accepts a listed origin and still refuses others', async () => {
    const t = await startTopology({ CORS_ORIGINS: 'https://app.example' });
    const app = await join(t.server(0), PROGRAM, user('app'), { extraHeaders: { origin: 'https://app.example' } });
    expect(app.connected).toBe(true);
    const evil = client(t.server(1), PROGRAM, { auth: user('evil'), extraHeaders: { origin: 'https://evil.example' } });
    await refusal(evil);
    expect(evil.connected).toBe(false);
  });
});

describe('frame size', () => {
  it('caps maxHttpBufferSize at 16 KiB; a larger frame closes only that connection', async () => {
    const t = await startTopology();
    const s = t.server(0);
    // The engine's option is read from an in-process server; the behaviour below runs on the topology.
    expect((await startServer()).app.io.engine.opts.maxHttpBufferSize).toBeLessThanOrEqual(16_384);

    const big = await join(s, PROGRAM, user('big'));
    const bystander = await join(t.server(1), PROGRAM, user('bystander'));
    const closed = big.events.next('disconnect');
    big.emit('chat', { roomId: 'nowhere', msg: 'x'.repeat(20_000), type: 'N' });
    const [reason] = await closed;
    expect(reason).toMatch(/close/);
    // The server and the other clients carry on.
    expect(await call(bystander, 'loadRooms')).toMatchObject({ ok: true });
    const later = await join(s, PROGRAM, user('later'));
    expect(later.connected).toBe(true);
  });
});

describe('duplicate sessions', () => {
  it('a second socket of the same user in the same programme replaces the first', async () => {
    const t = await startTopology();
    const who = user('dup');
    const first = await join(t.server(0), PROGRAM, who);
    const mate = await join(t.server(1), PROGRAM, user('mate'));
    const sameUserElsewhere = await join(t.server(2), 'another-programme', who);

    const created = await call<{ roomId: string }>(first, 'createRoom', { title: 'Dup', max: 4 });
    if (!created.ok) throw new Error(created.code);
    expect(await call(mate, 'joinRoom', { roomId: created.roomId })).toMatchObject({ ok: true });

    const second = await join(t.server(1), PROGRAM, who);

    const [notice] = (await first.events.some('system')) as [{ code: string; message: string }];
    expect(notice.code).toBe('DUPLICATE_SESSION');
    expect(typeof notice.message).toBe('string');
    expect(notice.message.length).toBeGreaterThan(0);
    await first.events.some('disconnect');
    expect(first.connected).toBe(false);

    // The room is left as on disconnect: its other member sees the user leave.
    const [left] = (await mate.events.some('leaveRoom', (u: { userUID: string }) => u.userUID === who.userUID)) as [
      { userUID: string; displayName: string },
    ];
    expect(left).toEqual({ userUID: who.userUID, displayName: who.displayName });

    // The new session works.
    expect(second.connected).toBe(true);
    expect(await call(second, 'loadRooms')).toMatchObject({ ok: true });
    expect(second.events.all('system')).toEqual([]);

    // The same user in another programme is untouched. Barrier: the notice to the first socket
    // was sent before the second socket's loadRooms; this ack comes after anything sent to it then.
    expect(await call(sameUserElsewhere, 'loadRooms')).toMatchObject({ ok: true });
    expect(sameUserElsewhere.connected).toBe(true);
    expect(sameUserElsewhere.events.all('system')).toEqual([]);
    expect(sameUserElsewhere.events.all('disconnect')).toEqual([]);
  });

  it('a replaced socket that was in the lobby only gets the notice; the lobby room list is intact', async () => {
    const t = await startTopology();
    const who = user('lobbyDup');
    const first = await join(t.server(0), PROGRAM, who);
    const second = await join(t.server(1), PROGRAM, who);
    const [notice] = (await first.events.some('system')) as [{ code: string }];
    expect(notice.code).toBe('DUPLICATE_SESSION');
    await first.events.some('disconnect');
    expect(second.connected).toBe(true);
    expect(second.rooms).toEqual([]);
  });
});
