/**
 * Spec section 6: the admin HTTP API on one server, over its real TLS, with real socket.io
 * clients watching what each call does. Servers use their own database-backed records (SQLite
 * in the test DATA_DIR, shared by the servers of this file), so every test uses programmes and
 * users of its own.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/operator/admin-api.js';
import type { RoomSummary } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, adminCall, fillPath, type AdminReply } from '../helpers/admin.js';
import { call, client, createOk, join, joinOk, refusal, user, type Who } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

type Joined = Awaited<ReturnType<typeof join>>;
type Ack = Record<string, unknown> & { ok: boolean };

const ADMIN_ENV = { ADMIN_TOKEN, SCHEDULE_REFRESH_MS: '100' };
const HOUR = 3_600_000;
const routes = adminRoutes({ roomMaxLimit: 120 });

/** A server with the admin API on and its own database-backed records. */
function adminServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ ...ADMIN_ENV, ...env }, { records: undefined });
}

/** A name no other test (nor an earlier run on the same database) uses. */
function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

async function arg<T>(p: Promise<unknown[]>): Promise<T> {
  return (await p)[0] as T;
}

function onAir(title = 'Show', broadcaster = 'TV1') {
  return { title, broadcaster, startAt: Date.now() - HOUR, endAt: Date.now() + HOUR };
}

function expectBadRequest(res: AdminReply, path?: (string | number)[]): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body).toMatchObject({ code: 'BAD_REQUEST', message: expect.any(String) });
  if (path) {
    expect(Array.isArray(res.body.issues)).toBe(true);
    expect(res.body.issues.length).toBeGreaterThan(0);
    for (const i of res.body.issues) expect(i).toEqual({ path: expect.any(Array), message: expect.any(String) });
    expect(res.body.issues.map((i: { path: unknown }) => i.path)).toContainEqual(path);
  }
}

function expectNotFound(res: AdminReply): void {
  expect(res.status, JSON.stringify(res.body)).toBe(404);
  expect(res.body).toMatchObject({ code: 'NOT_FOUND' });
}

/** Post an aggro and return its ack. */
async function aggro(c: Joined, roomId: string, msg: string): Promise<{ aggroUID: string; ts: number; expiresAt: number }> {
  const res = (await call(c, 'chat', { roomId, type: 'A', msg })) as Ack;
  expect(res).toMatchObject({ ok: true });
  return res as unknown as { aggroUID: string; ts: number; expiresAt: number };
}

/** A socket is still connected and served: its call is answered. */
async function stillServed(c: Joined): Promise<void> {
  expect(c.connected).toBe(true);
  expect(await call(c, 'loadRooms')).toMatchObject({ ok: true });
}

/** The socket got `system` with `code`, then was disconnected, in that order. */
async function endedWith(c: Joined, code: string): Promise<void> {
  const notice = await arg<{ code: string; message: string }>(c.events.some('system'));
  expect(notice).toEqual({ code, message: expect.any(String) });
  await c.events.some('disconnect');
  const names = c.events.log.map((s) => s.event);
  expect(names.indexOf('system')).toBeLessThan(names.indexOf('disconnect'));
  expect(c.connected).toBe(false);
}

/** How a handshake ends: `connected`, or the refusal's code. */
function outcome(c: ReturnType<typeof client>): Promise<string> {
  return refusal(c).then(
    (err) => err.data?.code ?? err.message,
    (err: Error) => {
      if (!c.connected) throw err;
      return 'connected';
    },
  );
}

/** A route's sample body that would be accepted, so only the token decides the answer. */
function validBody(method: string, path: string): unknown {
  if (method === 'PUT' && path === '/admin/programs/:scheduleUID') return onAir();
  if (path.endsWith('/rooms')) return { title: 'Nope', max: 2 };
  if (path.endsWith('/kick')) return { userUID: 'someone' };
  if (method === 'PUT' && path.startsWith('/admin/bans/')) return {};
  return undefined;
}

describe('admin API: authentication', () => {
  it('every route answers 401 UNAUTHORIZED without a token, with a wrong token and with another scheme, and changes nothing', async () => {
    const s = await adminServer();
    const p = uid('auth');
    const u = uid('auth-user');
    const values = { scheduleUID: p, roomId: 'room1', aggroUID: 'aggro1', userUID: u };
    const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
    const wrong: (string | null | { authorization: string })[] = [
      null,
      'wrong-token',
      `${ADMIN_TOKEN}x`,
      ADMIN_TOKEN.slice(0, -1),
      { authorization: basic },
      { authorization: `Token ${ADMIN_TOKEN}` },
      { authorization: ADMIN_TOKEN },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
    ];
    // 13 operator routes, 11 moderation routes (spec 9) and 8 the operator console reads.
    expect(routes.length).toBe(32);
    for (const r of routes) {
      const path = fillPath(r.path, values);
      for (const token of wrong) {
        const res = await adminCall(s, r.method, path, validBody(r.method, r.path), token);
        expect(res.status, `${r.method} ${r.path} with ${JSON.stringify(token)}`).toBe(401);
        expect(res.body).toEqual({ code: 'UNAUTHORIZED' });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
    // An unknown path under /admin is also behind the token.
    expect(await adminCall(s, 'GET', '/admin/nothing-here', undefined, null)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });

    // None of the refused calls did anything.
    const programs = await adminCall(s, 'GET', '/admin/programs');
    expect(programs.status).toBe(200);
    expect(programs.body.programs.map((x: { scheduleUID: string }) => x.scheduleUID)).not.toContain(p);
    const bans = await adminCall(s, 'GET', '/admin/bans');
    expect(bans.body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain(u);
    expectNotFound(await adminCall(s, 'GET', `/admin/programs/${p}/live`));

    // The right token, in any letter case of the scheme, is let through.
    expect((await adminCall(s, 'GET', '/admin/programs', undefined, { authorization: `bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('without ADMIN_TOKEN the API is off: every /admin route is 404, token or not', async () => {
    const s = await startServer({ SCHEDULE_REFRESH_MS: '100' }, { records: undefined });
    const values = { scheduleUID: uid('off'), roomId: 'room1', aggroUID: 'aggro1', userUID: 'someone' };
    for (const r of routes) {
      const path = fillPath(r.path, values);
      for (const token of [ADMIN_TOKEN, null]) {
        const res = await adminCall(s, r.method, path, validBody(r.method, r.path), token);
        expect(res.status, `${r.method} ${r.path}`).toBe(404);
        expect(res.body).toEqual({ code: 'NOT_FOUND' });
      }
    }
    // The rest of the server is there.
    expect((await adminCall(s, 'GET', '/healthz', undefined, null)).status).toBe(200);
  });
});

describe('admin API: bad requests', () => {
  it('400 BAD_REQUEST with issues for bad programme bodies; nothing is written', async () => {
    const s = await adminServer();
    const p = uid('bad-prog');
    const path = `/admin/programs/${p}`;
    const good = onAir();
    const { endAt: _endAt, ...missing } = good;
    expectBadRequest(await adminCall(s, 'PUT', path, missing), ['endAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, endAt: good.startAt }), ['endAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, endAt: good.startAt - 1 }), ['endAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, startAt: 'yesterday' }), ['startAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, startAt: '2026-13-01T00:00:00Z' }), ['startAt']);
    // A date-time without a zone is ambiguous.
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, startAt: '2026-01-01T00:00:00' }), ['startAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, startAt: -1 }), ['startAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, startAt: 1.5 }), ['startAt']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, title: '' }), ['title']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, broadcaster: 'b'.repeat(101) }), ['broadcaster']);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, extra: 1 }), []);
    expectBadRequest(await adminCall(s, 'PUT', path, { ...good, scheduleUID: p }), []);
    expectBadRequest(await adminCall(s, 'PUT', path, [good]), []);
    expectBadRequest(await adminCall(s, 'PUT', path), []);
    // Not JSON at all.
    const notJson = await adminCall(s, 'PUT', path, '{"title": "Half');
    expect(notJson).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', message: expect.any(String) } });

    const programs = await adminCall(s, 'GET', '/admin/programs');
    expect(programs.body.programs.map((x: { scheduleUID: string }) => x.scheduleUID)).not.toContain(p);
  });

  it('400 for bad room, kick and ban bodies; nothing happens', async () => {
    const s = await adminServer();
    const p = uid('bad-bodies');
    const lobby = await join(s, p, user('lobby'));
    const rooms = `/admin/programs/${p}/rooms`;
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'Tiny', max: 1 }), ['max']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'Huge', max: 121 }), ['max']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'Text', max: '5' }), ['max']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'x'.repeat(41), max: 5 }), ['title']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: '   ', max: 5 }), ['title']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'Long secret', max: 5, password: 'p'.repeat(33) }), ['password']);
    expectBadRequest(await adminCall(s, 'POST', rooms, { title: 'Extra', max: 5, persistent: false }), []);
    expectBadRequest(await adminCall(s, 'POST', rooms, { max: 5 }), ['title']);
    expectBadRequest(await adminCall(s, 'POST', rooms, '{nope'));

    const kick = `/admin/programs/${p}/kick`;
    expectBadRequest(await adminCall(s, 'POST', kick, {}), ['userUID']);
    expectBadRequest(await adminCall(s, 'POST', kick, { userUID: '' }), ['userUID']);
    expectBadRequest(await adminCall(s, 'POST', kick, { userUID: 'has space' }), ['userUID']);
    expectBadRequest(await adminCall(s, 'POST', kick, { userUID: lobby.who.userUID, why: 'x' }), []);
    expectBadRequest(await adminCall(s, 'POST', kick), []);

    const u = uid('bad-ban');
    const ban = `/admin/bans/${u}`;
    expectBadRequest(await adminCall(s, 'PUT', ban, { until: 'soon' }), ['until']);
    expectBadRequest(await adminCall(s, 'PUT', ban, { until: '2030-01-01' }), ['until']);
    expectBadRequest(await adminCall(s, 'PUT', ban, { scheduleUID: 'bad id!' }), ['scheduleUID']);
    expectBadRequest(await adminCall(s, 'PUT', ban, { scheduleUID: 'x'.repeat(65) }), ['scheduleUID']);
    expectBadRequest(await adminCall(s, 'PUT', ban, { reason: 'r'.repeat(201) }), ['reason']);
    expectBadRequest(await adminCall(s, 'PUT', ban, { everywhere: true }), []);
    expectBadRequest(await adminCall(s, 'PUT', ban, 'null x'));

    // Nothing happened: no room was announced, the lobby socket is still served, nobody is banned.
    await stillServed(lobby);
    expect(lobby.events.all('addRoom')).toEqual([]);
    expect(lobby.events.all('system')).toEqual([]);
    const bans = await adminCall(s, 'GET', '/admin/bans');
    expect(bans.body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain(u);
    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.body.rooms).toEqual([]);
  });

  it('400 for bad queries and bad path parameters; 413 for a body over 64 KiB', async () => {
    const s = await adminServer();
    const p = uid('bad-query');
    const aggros = `/admin/programs/${p}/aggros`;
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?limit=0`), ['limit']);
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?limit=abc`), ['limit']);
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?limit=101`), ['limit']);
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?limit=2.5`), ['limit']);
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?cursor=not-a-cursor`));
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?cursor=${'c'.repeat(201)}`), ['cursor']);
    expectBadRequest(await adminCall(s, 'GET', `${aggros}?page=2`), []);
    expectBadRequest(await adminCall(s, 'DELETE', `/admin/bans/someone?scheduleUID=bad%20id`), ['scheduleUID']);
    // A good query on a programme with no records is an empty page, not an error.
    expect(await adminCall(s, 'GET', `${aggros}?limit=5`)).toMatchObject({ status: 200, body: { items: [], next: null } });

    expectBadRequest(await adminCall(s, 'PUT', '/admin/programs/has%20space', onAir()), []);
    expectBadRequest(await adminCall(s, 'PUT', `/admin/programs/${'p'.repeat(65)}`, onAir()), []);
    expectBadRequest(await adminCall(s, 'PUT', '/admin/programs/a%2Fb', onAir()), []);
    // Not valid percent-encoding.
    expectBadRequest(await adminCall(s, 'PUT', '/admin/programs/%E0%A4%A', onAir()));
    expectBadRequest(await adminCall(s, 'GET', '/admin/programs/bad.id/live'), []);
    expectBadRequest(await adminCall(s, 'DELETE', `/admin/programs/${p}/rooms/bad.id`), []);
    expectBadRequest(await adminCall(s, 'DELETE', `/admin/programs/${p}/aggros/bad%21`), []);
    expectBadRequest(await adminCall(s, 'PUT', '/admin/bans/has%20space', {}), []);
    expectBadRequest(await adminCall(s, 'DELETE', `/admin/bans/${'u'.repeat(129)}`), []);

    const big = await adminCall(s, 'PUT', `/admin/programs/${p}`, { ...onAir(), title: 'x'.repeat(70 * 1024) });
    expect(big).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } });
    const programs = await adminCall(s, 'GET', '/admin/programs');
    expect(programs.body.programs.map((x: { scheduleUID: string }) => x.scheduleUID)).not.toContain(p);
  });

  it('404 NOT_FOUND for unknown things and routes; 405 for a wrong method of a known path', async () => {
    const s = await adminServer();
    const p = uid('missing');
    const someone = await join(s, p, user('someone'));
    const roomId = await createOk(someone, { title: 'Real', max: 5 });
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${uid('never')}`));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${p}/rooms/noSuchRoom`));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${uid('never')}/rooms/${roomId}`));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${p}/aggros/noSuchAggro`));
    expectNotFound(await adminCall(s, 'POST', `/admin/programs/${p}/kick`, { userUID: uid('offline') }));
    // Online, but in another programme.
    expectNotFound(await adminCall(s, 'POST', `/admin/programs/${uid('elsewhere')}/kick`, { userUID: someone.who.userUID }));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${uid('not-banned')}`));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${uid('not-banned')}?scheduleUID=${p}`));
    expectNotFound(await adminCall(s, 'GET', `/admin/programs/${uid('never')}/live`));
    for (const path of ['/admin', '/admin/', '/admin/nothing', `/admin/programs/${p}/unknown`, `/admin/programs/${p}/rooms/${roomId}/extra`]) {
      const res = await adminCall(s, 'GET', path);
      expect(res, path).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    }
    const wrongMethods: [string, string][] = [
      ['POST', '/admin/programs'],
      ['DELETE', '/admin/programs'],
      ['POST', `/admin/programs/${p}`],
      // (GET of the rooms is the operator console's page of them.)
      ['PUT', `/admin/programs/${p}/rooms`],
      ['GET', `/admin/programs/${p}/rooms/${roomId}`],
      ['PUT', `/admin/programs/${p}/aggros`],
      ['GET', `/admin/programs/${p}/kick`],
      ['PATCH', `/admin/bans/${someone.who.userUID}`],
      ['POST', '/admin/bans'],
      ['DELETE', '/admin/openapi.json'],
    ];
    for (const [method, path] of wrongMethods) {
      const res = await adminCall(s, method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(res, `${method} ${path}`).toMatchObject({ status: 405, body: { code: 'METHOD_NOT_ALLOWED' } });
    }
    // The room and its member are untouched by all this.
    await stillServed(someone);
    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.body.rooms).toEqual([{ roomId, title: 'Real', max: 5, count: 1, persistent: false }]);
  });
});

describe('admin API: the schedule', () => {
  it('PUT creates (ISO or epoch ms) and replaces, GET lists, DELETE removes; handshakes follow the schedule', async () => {
    const s = await adminServer();
    const p = uid('crud');
    const path = `/admin/programs/${p}`;
    const startAt = Date.now() - 60_000;
    const endAt = Date.now() + HOUR;

    const created = await adminCall(s, 'PUT', path, {
      title: 'Morning',
      broadcaster: 'TV1',
      startAt: new Date(startAt).toISOString(),
      endAt: new Date(endAt).toISOString(),
    });
    expect(created).toMatchObject({ status: 200 });
    expect(created.body).toEqual({ scheduleUID: p, title: 'Morning', broadcaster: 'TV1', startAt, endAt, onAir: true });
    let listed = await adminCall(s, 'GET', '/admin/programs');
    expect(listed.status).toBe(200);
    expect(listed.body.programs.filter((x: { scheduleUID: string }) => x.scheduleUID === p)).toEqual([created.body]);

    // On air: a socket connects.
    const viewer = await join(s, p, user('viewer'));
    expect(viewer.connected).toBe(true);

    // Replaced, in epoch ms; an ISO date with an offset is the same instant as in UTC.
    const replaced = await adminCall(s, 'PUT', path, { title: 'Evening', broadcaster: 'TV2', startAt: startAt - 1000, endAt: endAt + 1000 });
    expect(replaced.body).toEqual({ scheduleUID: p, title: 'Evening', broadcaster: 'TV2', startAt: startAt - 1000, endAt: endAt + 1000, onAir: true });
    const zoned = uid('zoned');
    const withOffset = await adminCall(s, 'PUT', `/admin/programs/${zoned}`, {
      title: 'Old',
      broadcaster: 'TV9',
      startAt: '2001-02-03T13:00:00+09:00',
      endAt: '2001-02-03T05:00:00Z',
    });
    expect(withOffset.body).toEqual({
      scheduleUID: zoned,
      title: 'Old',
      broadcaster: 'TV9',
      startAt: Date.UTC(2001, 1, 3, 4),
      endAt: Date.UTC(2001, 1, 3, 5),
      onAir: false,
    });
    listed = await adminCall(s, 'GET', '/admin/programs');
    const mine = listed.body.programs.filter((x: { scheduleUID: string }) => x.scheduleUID === p || x.scheduleUID === zoned);
    // In start order, the replaced one once.
    expect(mine).toEqual([withOffset.body, replaced.body]);
    await stillServed(viewer);

    // Off air (past times): the connected socket ends, a new handshake is refused.
    const ended = viewer.events.next('system');
    const past = await adminCall(s, 'PUT', path, { title: 'Evening', broadcaster: 'TV2', startAt: Date.now() - 2 * HOUR, endAt: Date.now() - HOUR });
    expect(past.body).toMatchObject({ scheduleUID: p, onAir: false });
    expect(await arg(ended)).toEqual({ code: 'PROGRAM_ENDED', message: expect.any(String) });
    await viewer.events.some('disconnect');
    const refused = await refusal(client(s, p, { auth: user('late') }));
    expect(refused.message).toBe('PROGRAM_NOT_ON_AIR');
    expect(refused.data).toEqual({ code: 'PROGRAM_NOT_ON_AIR', message: expect.any(String) });

    // Back on air, then deleted while on air: it ends, and the route is 404 afterwards.
    await adminCall(s, 'PUT', path, onAir('Again'));
    const again = await join(s, p, user('again'));
    const deleted = await adminCall(s, 'DELETE', path);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    await endedWith(again, 'PROGRAM_ENDED');
    listed = await adminCall(s, 'GET', '/admin/programs');
    expect(listed.body.programs.map((x: { scheduleUID: string }) => x.scheduleUID)).not.toContain(p);
    expectNotFound(await adminCall(s, 'DELETE', path));
    // Unknown again, so open mode lets a socket in.
    await join(s, p, user('after'));
    expect((await adminCall(s, 'DELETE', `/admin/programs/${zoned}`)).status).toBe(204);
  });

  it('deleting an on-air programme through a server whose copy of the schedule is stale still ends it', async () => {
    // Two servers on one database; B reloads the schedule only hourly, so it has not seen the
    // programme A put (open mode lets B's socket in as an unknown programme meanwhile).
    const a = await adminServer();
    const b = await adminServer({ SCHEDULE_REFRESH_MS: String(HOUR) });
    const p = uid('stale');
    expect((await adminCall(a, 'PUT', `/admin/programs/${p}`, onAir())).status).toBe(200);
    const viewer = await join(b, p, user('viewer'));
    expect((await adminCall(b, 'DELETE', `/admin/programs/${p}`)).status).toBe(204);
    await endedWith(viewer, 'PROGRAM_ENDED');
  });

  it('a programme put with past times refuses new handshakes with PROGRAM_NOT_ON_AIR; a future one too', async () => {
    const s = await adminServer();
    const past = uid('past');
    const future = uid('future');
    const r1 = await adminCall(s, 'PUT', `/admin/programs/${past}`, { title: 'Past', broadcaster: 'TV1', startAt: Date.now() - 2 * HOUR, endAt: Date.now() - HOUR });
    expect(r1).toMatchObject({ status: 200, body: { onAir: false } });
    const r2 = await adminCall(s, 'PUT', `/admin/programs/${future}`, { title: 'Later', broadcaster: 'TV1', startAt: Date.now() + HOUR, endAt: Date.now() + 2 * HOUR });
    expect(r2).toMatchObject({ status: 200, body: { onAir: false } });
    for (const p of [past, future]) {
      const err = await refusal(client(s, p, { auth: user('early') }));
      expect(err.message).toBe('PROGRAM_NOT_ON_AIR');
      expect(err.data?.code).toBe('PROGRAM_NOT_ON_AIR');
    }
  });
});

describe('admin API: persistent rooms', () => {
  it('POST opens an empty persistent room: 201, the lobby gets addRoom with count 0; it outlives its last member', async () => {
    const s = await adminServer();
    const p = uid('prooms');
    const lobby = await join(s, p, user('lobby'));
    const added = lobby.events.next('addRoom');
    const res = await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: '  Studio  ', max: 10 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ roomId: expect.any(String), title: 'Studio', max: 10, count: 0, persistent: true });
    const roomId = res.body.roomId as string;
    expect(await arg(added)).toEqual({ roomId, title: 'Studio', max: 10, count: 0 });

    // A member comes and goes; the room stays, with count 0, and no deleteRoom is sent.
    const member = await join(s, p, user('member'));
    expect(member.rooms).toEqual([{ roomId, title: 'Studio', max: 10, count: 0 }]);
    await joinOk(member, { roomId });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 1);
    expect(await call(member, 'leaveRoom', { roomId })).toMatchObject({ ok: true });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 0);
    // And again by disconnecting.
    await joinOk(member, { roomId });
    await lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 1);
    const zero = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 0);
    member.disconnect();
    await zero;
    const rooms = (await call(lobby, 'loadRooms')) as Ack;
    expect(rooms).toEqual({ ok: true, rooms: [{ roomId, title: 'Studio', max: 10, count: 0 }] });
    expect(lobby.events.all('deleteRoom')).toEqual([]);

    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.status).toBe(200);
    expect(live.body.rooms).toEqual([{ roomId, title: 'Studio', max: 10, count: 0, persistent: true }]);
  });

  it('a locked persistent room shows password: true and never the password', async () => {
    const s = await adminServer();
    const p = uid('plocked');
    const secret = 'sesame-very-secret';
    const lobby = await join(s, p, user('lobby'));
    const added = lobby.events.next('addRoom');
    const res = await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: 'Vault', max: 4, password: secret });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ roomId: expect.any(String), title: 'Vault', max: 4, count: 0, persistent: true, password: true });
    expect(await arg(added)).toEqual({ roomId: res.body.roomId, title: 'Vault', max: 4, count: 0, password: true });
    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.body.rooms).toEqual([{ roomId: res.body.roomId, title: 'Vault', max: 4, count: 0, persistent: true, password: true }]);
    for (const text of [JSON.stringify(res.body), JSON.stringify(live.body), JSON.stringify(lobby.events.log)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toMatch(/scrypt|hash|salt/i);
    }
    // The password works.
    expect(await call(lobby, 'joinRoom', { roomId: res.body.roomId, password: 'wrong' })).toMatchObject({ ok: false, code: 'EJ003' });
    await joinOk(lobby, { roomId: res.body.roomId, password: secret });
  });

  it('409 TOO_MANY_ROOMS when the programme has ROOMS_PER_PROGRAM_MAX rooms', async () => {
    const s = await adminServer({ ROOMS_PER_PROGRAM_MAX: '1' });
    const p = uid('pfull');
    const lobby = await join(s, p, user('lobby'));
    expect((await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: 'Only', max: 2 })).status).toBe(201);
    const res = await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: 'Second', max: 2 });
    expect(res).toMatchObject({ status: 409, body: { code: 'TOO_MANY_ROOMS' } });
    expect((await call(lobby, 'loadRooms')) as Ack).toMatchObject({ ok: true, rooms: [{ title: 'Only' }] });
  });

  it('409 TOO_MANY_ROOMS also counts persistent rooms still only in the database (a server started afresh)', async () => {
    const first = await adminServer({ ROOMS_PER_PROGRAM_MAX: '1' });
    const p = uid('pfull-db');
    expect((await adminCall(first, 'POST', `/admin/programs/${p}/rooms`, { title: 'Only', max: 2 })).status).toBe(201);
    await first.close();

    // Nobody has been in the programme on this server: its room is in the database only.
    const second = await adminServer({ ROOMS_PER_PROGRAM_MAX: '1' });
    const res = await adminCall(second, 'POST', `/admin/programs/${p}/rooms`, { title: 'Second', max: 2 });
    expect(res).toMatchObject({ status: 409, body: { code: 'TOO_MANY_ROOMS' } });
    const viewer = await join(second, p, user('viewer'));
    expect(viewer.rooms.map((r: RoomSummary) => r.title)).toEqual(['Only']);
  });

  it('DELETE of a room with 2 members: each hears the other leave, then gets loadRooms; the lobby gets deleteRoom', async () => {
    const s = await adminServer({ AGGRO_TTL_MS: '10000' });
    const p = uid('pdelete');
    const a = await join(s, p, user('alice'));
    const b = await join(s, p, user('bob'));
    const watcher = await join(s, p, user('watcher'));
    const other = await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: 'Other', max: 3 });
    const roomId = await createOk(a, { title: 'Doomed', max: 5 });
    await joinOk(b, { roomId });
    const live = await aggro(a, roomId, 'about to go');

    const aLeft = a.events.next('leaveRoom');
    const bLeft = b.events.next('leaveRoom');
    const aLoad = a.events.next('loadRooms');
    const bLoad = b.events.next('loadRooms');
    const gone = watcher.events.next('deleteRoom');
    const from = { a: a.events.log.length, b: b.events.log.length };
    const res = await adminCall(s, 'DELETE', `/admin/programs/${p}/rooms/${roomId}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();

    expect(await arg(aLeft)).toEqual({ userUID: b.who.userUID, displayName: 'bob' });
    expect(await arg(bLeft)).toEqual({ userUID: a.who.userUID, displayName: 'alice' });
    const remaining = [{ roomId: other.body.roomId, title: 'Other', max: 3, count: 0 }];
    expect(await arg(aLoad)).toEqual(remaining);
    expect(await arg(bLoad)).toEqual(remaining);
    expect(await arg(gone)).toEqual({ roomId });
    for (const [c, start, self] of [
      [a, from.a, a.who.userUID],
      [b, from.b, b.who.userUID],
    ] as const) {
      const after = c.events.log.slice(start).map((e) => e.event);
      expect(after.indexOf('leaveRoom')).toBeLessThan(after.indexOf('loadRooms'));
      // Nobody hears of their own leaving.
      expect(c.events.all('leaveRoom', (u: { userUID: string }) => u.userUID === self)).toEqual([]);
    }

    // They are in the lobby: not in that room any more, and they hear of new rooms.
    expect(await call(a, 'chat', { roomId, type: 'N', msg: 'hello?' })).toMatchObject({ ok: false, code: 'EM001' });
    expect(await call(b, 'chat', { roomId, type: 'N', msg: 'hello?' })).toMatchObject({ ok: false, code: 'EM001' });
    const aAdded = a.events.next('addRoom');
    const bAdded = b.events.next('addRoom');
    const fresh = await createOk(watcher, { title: 'Fresh', max: 4 });
    expect(await arg(aAdded)).toMatchObject({ roomId: fresh });
    expect(await arg(bAdded)).toMatchObject({ roomId: fresh });

    // The room's live aggro was recorded as removed.
    const recorded = await adminCall(s, 'GET', `/admin/programs/${p}/aggros`);
    expect(recorded.body.items).toEqual([expect.objectContaining({ aggroUID: live.aggroUID, roomId, endReason: 'removed' })]);
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${p}/rooms/${roomId}`));
  });

  it('persistent rooms are kept in the database: a server started afresh on the same DATA_DIR restores them; deleted ones stay gone', async () => {
    const first = await adminServer();
    const p = uid('prestore');
    const secret = 'kept-secret';
    const kept = await adminCall(first, 'POST', `/admin/programs/${p}/rooms`, { title: 'Kept', max: 6 });
    const locked = await adminCall(first, 'POST', `/admin/programs/${p}/rooms`, { title: 'Locked', max: 3, password: secret });
    const dropped = await adminCall(first, 'POST', `/admin/programs/${p}/rooms`, { title: 'Dropped', max: 3 });
    expect([kept.status, locked.status, dropped.status]).toEqual([201, 201, 201]);
    // Nobody is in the programme when the last room is deleted: only the database has it.
    expect((await adminCall(first, 'DELETE', `/admin/programs/${p}/rooms/${dropped.body.roomId}`)).status).toBe(204);
    const someone = await join(first, p, user('ephemeral-owner'));
    await createOk(someone, { title: 'Ephemeral', max: 3 });
    await first.close();

    const second = await adminServer();
    expect(second.url).not.toBe(first.url);
    const viewer = await join(second, p, user('viewer'));
    expect(viewer.rooms).toEqual([
      { roomId: kept.body.roomId, title: 'Kept', max: 6, count: 0 },
      { roomId: locked.body.roomId, title: 'Locked', max: 3, count: 0, password: true },
    ]);
    expect(await call(viewer, 'joinRoom', { roomId: locked.body.roomId, password: 'nope' })).toMatchObject({ ok: false, code: 'EJ003' });
    await joinOk(viewer, { roomId: locked.body.roomId, password: secret });
    const live = await adminCall(second, 'GET', `/admin/programs/${p}/live`);
    expect(live.body.rooms).toEqual([
      { roomId: kept.body.roomId, title: 'Kept', max: 6, count: 0, persistent: true },
      { roomId: locked.body.roomId, title: 'Locked', max: 3, count: 1, persistent: true, password: true },
    ]);
    // Deleting it on the new server deletes it from the database too.
    expect((await adminCall(second, 'DELETE', `/admin/programs/${p}/rooms/${kept.body.roomId}`)).status).toBe(204);
    await second.close();
    const third = await adminServer();
    const last = await join(third, p, user('last'));
    expect(last.rooms.map((r: RoomSummary) => r.roomId)).toEqual([locked.body.roomId]);
  });
});

describe('admin API: aggros', () => {
  it('DELETE of a live aggro: 204, the room gets deleteAggro (not stopAggro), recorded as removed', async () => {
    const s = await adminServer({ AGGRO_TTL_MS: '10000' });
    const p = uid('aremove');
    const a = await join(s, p, user('alice'));
    const b = await join(s, p, user('bob'));
    const roomId = await createOk(a, { title: 'Heated', max: 5 });
    await joinOk(b, { roomId });
    const posted = await aggro(a, roomId, 'remove me');
    expect(await call(b, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: true, point: 1 });

    const atA = a.events.next('deleteAggro');
    const atB = b.events.next('deleteAggro');
    const res = await adminCall(s, 'DELETE', `/admin/programs/${p}/aggros/${posted.aggroUID}`);
    expect(res.status).toBe(204);
    expect(await arg(atA)).toBe(posted.aggroUID);
    expect(await arg(atB)).toBe(posted.aggroUID);
    // A later message is a barrier: nothing about the aggro comes after deleteAggro.
    const chat = b.events.next('chat');
    expect(await call(a, 'chat', { roomId, type: 'N', msg: 'after' })).toMatchObject({ ok: true });
    await chat;
    for (const c of [a, b]) expect(c.events.all('stopAggro')).toEqual([]);

    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.body.aggros).toEqual([]);
    const recorded = await adminCall(s, 'GET', `/admin/programs/${p}/aggros`);
    expect(recorded.status).toBe(200);
    expect(recorded.body).toEqual({
      items: [
        {
          aggroUID: posted.aggroUID,
          roomId,
          userUID: a.who.userUID,
          displayName: 'alice',
          msg: 'remove me',
          titleBroad: null,
          point: 1,
          up: 1,
          down: 0,
          startedAt: posted.ts,
          endedAt: expect.any(Number),
          endReason: 'removed',
        },
      ],
      next: null,
    });
    expect(recorded.body.items[0].endedAt).toBeGreaterThanOrEqual(posted.ts);
    expectNotFound(await adminCall(s, 'DELETE', `/admin/programs/${p}/aggros/${posted.aggroUID}`));
    // The room is free for a new aggro.
    await aggro(b, roomId, 'next one');
  });

  it('recorded aggros are paged highest point first; following next visits each exactly once', async () => {
    const s = await adminServer({ AGGRO_TTL_MS: '400' });
    const p = uid('apaged');
    await adminCall(s, 'PUT', `/admin/programs/${p}`, onAir('Quiz', 'TV2'));
    const m = await Promise.all([0, 1, 2, 3, 4].map((i) => join(s, p, user(`m${i}`))));
    const roomId = await createOk(m[0]!, { title: 'Votes', max: 10 });
    for (const c of m.slice(1)) await joinOk(c, { roomId });
    // [author, up-voters, down-voters]: points 2, -1, 4, 0, 3.
    const plan: [number, number[], number[]][] = [
      [0, [1, 2], []],
      [1, [], [0]],
      [2, [0, 1, 3, 4], []],
      [3, [], []],
      [4, [0, 1, 2], []],
    ];
    const posted: { aggroUID: string; ts: number; point: number; up: number; down: number; author: number; msg: string }[] = [];
    for (const [author, ups, downs] of plan) {
      const msg = `aggro by m${author}`;
      const ack = await aggro(m[author]!, roomId, msg);
      const stopped = m[author]!.events.some('stopAggro', (id: string) => id === ack.aggroUID, 5000);
      for (const v of ups) expect(await call(m[v]!, 'aggroUp', ack.aggroUID)).toMatchObject({ ok: true });
      for (const v of downs) expect(await call(m[v]!, 'aggroDown', ack.aggroUID)).toMatchObject({ ok: true });
      expect(await arg(stopped)).toBe(ack.aggroUID);
      posted.push({ ...ack, point: ups.length - downs.length, up: ups.length, down: downs.length, author, msg });
    }

    const seen: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: AdminReply = await adminCall(s, 'GET', `/admin/programs/${p}/aggros?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items);
      cursor = res.body.next;
      pages += 1;
      expect(pages).toBeLessThanOrEqual(5);
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen.map((x) => x.point)).toEqual([4, 3, 2, 0, -1]);
    expect(new Set(seen.map((x) => x.aggroUID)).size).toBe(5);
    const byPoint = [...posted].sort((x, y) => y.point - x.point);
    expect(seen).toEqual(
      byPoint.map((x) => ({
        aggroUID: x.aggroUID,
        roomId,
        userUID: m[x.author]!.who.userUID,
        displayName: `m${x.author}`,
        msg: x.msg,
        titleBroad: 'Quiz_TV2',
        point: x.point,
        up: x.up,
        down: x.down,
        startedAt: x.ts,
        endedAt: expect.any(Number),
        endReason: 'expired',
      })),
    );
    for (const x of seen) expect(x.endedAt as number).toBeGreaterThanOrEqual(x.startedAt as number);

    // One page holds them all; another programme has none of them.
    const all = await adminCall(s, 'GET', `/admin/programs/${p}/aggros?limit=100`);
    expect(all.body.next).toBeNull();
    expect(all.body.items).toEqual(seen);
    expect((await adminCall(s, 'GET', `/admin/programs/${uid('other')}/aggros`)).body).toEqual({ items: [], next: null });
  });
});

describe('admin API: the live view', () => {
  it('counts sessions and lists rooms with counts and live aggros with point and expiresAt', async () => {
    const s = await adminServer({ AGGRO_TTL_MS: '10000' });
    const p = uid('live');
    // A scheduled programme nobody is in: empty, not 404.
    await adminCall(s, 'PUT', `/admin/programs/${p}`, onAir());
    expect(await adminCall(s, 'GET', `/admin/programs/${p}/live`)).toMatchObject({ status: 200, body: { connections: 0, rooms: [], aggros: [] } });

    const a = await join(s, p, user('alice'));
    const b = await join(s, p, user('bob'));
    const c = await join(s, p, user('carol'));
    const roomId = await createOk(a, { title: 'Talk', max: 8 });
    await joinOk(b, { roomId });
    const persistent = await adminCall(s, 'POST', `/admin/programs/${p}/rooms`, { title: 'Stage', max: 20 });
    const posted = await aggro(a, roomId, 'look at this');
    expect(await call(b, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: true, point: 1 });

    const live = await adminCall(s, 'GET', `/admin/programs/${p}/live`);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({
      connections: 3,
      rooms: [
        { roomId, title: 'Talk', max: 8, count: 2, persistent: false },
        { roomId: persistent.body.roomId, title: 'Stage', max: 20, count: 0, persistent: true },
      ],
      aggros: [{ aggroUID: posted.aggroUID, roomId, userUID: a.who.userUID, msg: 'look at this', point: 1, expiresAt: posted.expiresAt }],
    });
    expect(posted.expiresAt - posted.ts).toBe(10_000);

    // A socket leaves: one session fewer once the server has cleaned up after it.
    c.disconnect();
    await waitUntil(async () => (await adminCall(s, 'GET', `/admin/programs/${p}/live`)).body.connections === 2, 3000, 'carol’s session is gone');
  });
});

describe('admin API: kick', () => {
  it("the user's socket gets system KICKED then is disconnected; the user may come back after KICK_COOLDOWN_MS", async () => {
    const s = await adminServer();
    const p = uid('kick');
    const elsewhere = uid('kick-other');
    const who: Who = user('troll');
    const troll = await join(s, p, who);
    const trollElsewhere = await join(s, elsewhere, who);
    const witness = await join(s, p, user('witness'));
    const roomId = await createOk(witness, { title: 'Room', max: 4 });
    await joinOk(troll, { roomId });

    const left = witness.events.next('leaveRoom');
    const res = await adminCall(s, 'POST', `/admin/programs/${p}/kick`, { userUID: who.userUID });
    expect(res.status).toBe(204);
    await endedWith(troll, 'KICKED');
    expect(await arg(left)).toEqual({ userUID: who.userUID, displayName: 'troll' });
    // Only that programme's session ended.
    await stillServed(trollElsewhere);
    expect(trollElsewhere.events.all('system')).toEqual([]);

    // Offline now: kicking again is 404 once the server has cleaned up after the socket.
    await waitUntil(async () => (await adminCall(s, 'POST', `/admin/programs/${p}/kick`, { userUID: who.userUID })).status === 404, 3000, 'the session is gone');
    // The kick sticks for KICK_COOLDOWN_MS (default 60 s): refused, in that programme only.
    const refused = await refusal(client(s, p, { auth: who }));
    expect(refused.message).toBe('KICKED');
    expect(refused.data).toEqual({ code: 'KICKED', message: expect.any(String) });
    // A kick is not a ban: with no cooldown, the user may come back at once.
    const lenient = await adminServer({ KICK_COOLDOWN_MS: '0' });
    const again = await join(lenient, p, who);
    expect((await adminCall(lenient, 'POST', `/admin/programs/${p}/kick`, { userUID: who.userUID })).status).toBe(204);
    await endedWith(again, 'KICKED');
    await stillServed(await join(lenient, p, who));
  });
});

describe('admin API: bans', () => {
  it('a ban everywhere ends the user’s sockets in every programme and refuses new handshakes until lifted', async () => {
    const s = await adminServer();
    const p1 = uid('ban-a');
    const p2 = uid('ban-b');
    const who: Who = user('banned');
    const inP1 = await join(s, p1, who);
    const inP2 = await join(s, p2, who);
    const bystander = await join(s, p1, user('bystander'));

    const before = Date.now();
    const res = await adminCall(s, 'PUT', `/admin/bans/${who.userUID}`, { reason: 'spam' });
    expect(res.status).toBe(204);
    await endedWith(inP1, 'BANNED');
    await endedWith(inP2, 'BANNED');
    await stillServed(bystander);
    expect(bystander.events.all('system')).toEqual([]);

    for (const p of [p1, p2, uid('ban-new')]) {
      const err = await refusal(client(s, p, { auth: who }));
      expect(err.message).toBe('BANNED');
      expect(err.data).toEqual({ code: 'BANNED', message: expect.any(String) });
    }
    const bans = await adminCall(s, 'GET', '/admin/bans');
    expect(bans.status).toBe(200);
    const mine = bans.body.bans.filter((b: { userUID: string }) => b.userUID === who.userUID);
    expect(mine).toEqual([{ userUID: who.userUID, reason: 'spam', createdAt: expect.any(Number) }]);
    expect(mine[0].createdAt).toBeGreaterThanOrEqual(before - 1000);

    // A programme's scope does not lift a ban everywhere.
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}?scheduleUID=${p1}`));
    expect((await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}`)).status).toBe(204);
    const back = await join(s, p1, who);
    await stillServed(back);
    const after = await adminCall(s, 'GET', '/admin/bans');
    expect(after.body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain(who.userUID);
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}`));
  });

  it('a programme ban affects that programme only; it is lifted with ?scheduleUID=', async () => {
    const s = await adminServer();
    const p1 = uid('pban-a');
    const p2 = uid('pban-b');
    const who: Who = user('pbanned');
    const inP1 = await join(s, p1, who);
    const inP2 = await join(s, p2, who);
    const until = Date.now() + HOUR;

    const res = await adminCall(s, 'PUT', `/admin/bans/${who.userUID}`, { scheduleUID: p1, until: new Date(until).toISOString() });
    expect(res.status).toBe(204);
    await endedWith(inP1, 'BANNED');
    await stillServed(inP2);
    expect(inP2.events.all('system')).toEqual([]);
    const err = await refusal(client(s, p1, { auth: who }));
    expect(err.message).toBe('BANNED');
    expect(err.data?.code).toBe('BANNED');
    // Another programme takes the user.
    await stillServed(await join(s, uid('pban-c'), who));

    const bans = await adminCall(s, 'GET', '/admin/bans');
    expect(bans.body.bans.filter((b: { userUID: string }) => b.userUID === who.userUID)).toEqual([
      { userUID: who.userUID, scheduleUID: p1, until, createdAt: expect.any(Number) },
    ]);

    // Without the programme it names no ban; with it, the ban goes.
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}`));
    expect((await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}?scheduleUID=${p1}`)).status).toBe(204);
    await stillServed(await join(s, p1, who));
    expectNotFound(await adminCall(s, 'DELETE', `/admin/bans/${who.userUID}?scheduleUID=${p1}`));
  });

  it('a ban whose until has passed is neither listed nor enforced', async () => {
    const s = await adminServer();
    const p = uid('ban-past');
    const who: Who = user('forgiven');
    const online = await join(s, p, who);
    const res = await adminCall(s, 'PUT', `/admin/bans/${who.userUID}`, { until: Date.now() - 1000, reason: 'old' });
    expect(res.status).toBe(204);
    // The reply came after any ending would have been sent: the socket is untouched.
    await stillServed(online);
    expect(online.events.all('system')).toEqual([]);
    const bans = await adminCall(s, 'GET', '/admin/bans');
    expect(bans.body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain(who.userUID);
    await stillServed(await join(s, uid('ban-past-other'), who));

    // A ban that lapses shortly after being made: enforced, then not.
    const brief = user('briefly');
    const lapse = Date.now() + 600;
    expect((await adminCall(s, 'PUT', `/admin/bans/${brief.userUID}`, { until: lapse })).status).toBe(204);
    expect((await refusal(client(s, p, { auth: brief }))).message).toBe('BANNED');
    // Handshakes are refused until the ban lapses, then accepted.
    let refusals = 1;
    await waitUntil(async () => {
      const c = client(s, p, { auth: brief });
      const out = await outcome(c);
      if (out === 'connected') return true;
      expect(out).toBe('BANNED');
      refusals += 1;
      return false;
    }, 3000, 'the ban lapses');
    expect(Date.now()).toBeGreaterThanOrEqual(lapse);
    expect(refusals).toBeGreaterThanOrEqual(1);
    const later = await adminCall(s, 'GET', '/admin/bans');
    expect(later.body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain(brief.userUID);
  });
});

describe('admin API: OpenAPI document', () => {
  it('GET /admin/openapi.json is an OpenAPI 3.1 document with every route and its 401', async () => {
    const s = await adminServer();
    const res = await adminCall(s, 'GET', '/admin/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, any>>; components: any };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    let operations = 0;
    for (const r of routes) {
      const path = r.path.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      operations += 1;
      expect(op.summary).toBe(r.summary);
      expect(op.responses['401'], `${r.method} ${r.path} 401`).toMatchObject({ content: { 'application/json': expect.anything() } });
      expect(op.responses[String(r.ok[0])]).toBeDefined();
      if (r.body) expect(op.requestBody?.required).toBe(!r.bodyOptional);
      if (r.errors?.includes('NOT_FOUND')) expect(op.responses['404']).toBeDefined();
      const names = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]);
      const documented = (op.parameters ?? []).filter((x: { in: string }) => x.in === 'path').map((x: { name: string }) => x.name);
      expect(documented).toEqual(names);
    }
    // Nothing documented that the table does not have.
    const total = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    expect(total).toBe(operations);
  });
});
