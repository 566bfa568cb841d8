/**
 * The admin API routes the operator console reads (src/operator/console-routes.ts), on one
 * server over its real TLS with real socket.io viewers: who a token is, the live figures, rooms
 * paged and searched, a room watched without a seat, the schedule file with per-row errors,
 * the records searched and as CSV, and the console's page itself under /admin/ui/.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminUiBuilt } from '../helpers/admin-ui.js';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, createOk, join, joinOk, user } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

const MOD_TOKEN = 'moderator-token-for-tests-0123456789';
const ENV = { ADMIN_TOKEN, MODERATOR_TOKENS: `mia:${MOD_TOKEN}`, SCHEDULE_REFRESH_MS: '100', HISTORY_SIZE: '20', AGGRO_TTL_MS: '30000' };
const HOUR = 3_600_000;

function server(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ ...ENV, ...env }, { records: undefined });
}

function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

describe('operator console routes', () => {
  beforeAll(adminUiBuilt, 60_000);

  it('whoami names the caller and lists only the routes its token opens', async () => {
    const s = await server();
    const admin = await adminCall(s, 'GET', '/admin/whoami');
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ actor: 'admin', role: 'admin' });
    expect(admin.body.routes).toContain('PUT /admin/bans/:userUID');
    expect(admin.body.routes).toContain('PUT /admin/schedule');

    const mod = await adminCall(s, 'GET', '/admin/whoami', undefined, MOD_TOKEN);
    expect(mod.body).toMatchObject({ actor: 'moderator:mia', role: 'moderator' });
    expect(mod.body.routes).toContain('DELETE /admin/programs/:scheduleUID/messages/:id');
    expect(mod.body.routes).toContain('GET /admin/programs/:scheduleUID/rooms/:roomId/messages');
    for (const r of ['PUT /admin/bans/:userUID', 'GET /admin/programs', 'PUT /admin/schedule', 'GET /admin/programs/:scheduleUID/aggros.csv']) expect(mod.body.routes).not.toContain(r);
    // What whoami leaves out, the server refuses.
    expect((await adminCall(s, 'PUT', '/admin/schedule', [], MOD_TOKEN)).status).toBe(403);
    expect((await adminCall(s, 'GET', '/admin/programs/x/aggros.csv', undefined, MOD_TOKEN)).status).toBe(403);
    expect((await adminCall(s, 'GET', '/admin/whoami', undefined, 'not-a-token')).status).toBe(401);
  });

  it('watching a room reads its chat and members without a seat, a membership or a count', async () => {
    const s = await server();
    const p = uid('watch');
    const a = await join(s, p, user('Mina'));
    const b = await join(s, p, user('Jun'));
    const roomId = await createOk(a, { title: '개표 방송', max: 2 });
    await joinOk(b, { roomId });
    await call(a, 'chat', { roomId, type: 'N', msg: '출구조사 나왔어요' });
    await call(b, 'chat', { roomId, type: 'N', msg: 'second' });

    const seen = await adminCall(s, 'GET', `/admin/programs/${p}/rooms/${roomId}/messages`, undefined, MOD_TOKEN);
    expect(seen.status).toBe(200);
    expect(seen.body.room).toMatchObject({ roomId, title: '개표 방송', max: 2, count: 2 });
    expect(seen.body.room.members.map((m: { displayName: string }) => m.displayName).sort()).toEqual(['Jun', 'Mina']);
    expect(seen.body.messages.map((m: { msg: string }) => m.msg)).toEqual(['출구조사 나왔어요', 'second']);
    // The room is full (2 of 2) and stays so: the watcher took no seat; nobody was told of one.
    const counts = await adminCall(s, 'GET', `/admin/programs/${p}/room-counts?ids=${roomId}`, undefined, MOD_TOKEN);
    expect(counts.body).toEqual({ counts: { [roomId]: 2 } });
    const members = (await call(a, 'loadUsers')) as unknown as { ok: true; users: { displayName: string }[] };
    expect(members.users.map((u) => u.displayName).sort()).toEqual(['Jun', 'Mina']);

    // A removed message leaves what the watcher reads.
    const id = seen.body.messages[0].id as string;
    expect((await adminCall(s, 'DELETE', `/admin/programs/${p}/messages/${id}`, undefined, MOD_TOKEN)).status).toBe(204);
    const after = await adminCall(s, 'GET', `/admin/programs/${p}/rooms/${roomId}/messages?limit=5`, undefined, MOD_TOKEN);
    expect(after.body.messages.map((m: { msg: string }) => m.msg)).toEqual(['second']);

    expect((await adminCall(s, 'GET', `/admin/programs/${p}/rooms/aaaaaaaaaaaaaaaaaaaaaaaa/messages`, undefined, MOD_TOKEN)).status).toBe(404);
    expect((await adminCall(s, 'GET', `/admin/programs/${p}/rooms/${roomId}/messages?limit=0`)).status).toBe(400);
    expect((await adminCall(s, 'GET', `/admin/programs/${p}/room-counts?ids=`)).status).toBe(400);
  });

  it('pages and searches rooms beyond the lobby view, and gives the live figures', async () => {
    const s = await server({ LOBBY_VIEW_SIZE: '2' });
    const p = uid('rooms');
    const owners = await Promise.all(Array.from({ length: 5 }, (_, i) => join(s, p, user(`o${i}`))));
    for (const [i, o] of owners.entries()) await createOk(o, { title: i % 2 === 0 ? `개표 ${i}` : `Weather ${i}`, max: 10 });
    const first = await adminCall(s, 'GET', `/admin/programs/${p}/rooms?limit=2`, undefined, MOD_TOKEN);
    expect(first.body.rooms.map((r: { title: string }) => r.title)).toEqual(['개표 0', 'Weather 1']);
    const second = await adminCall(s, 'GET', `/admin/programs/${p}/rooms?limit=2&cursor=${first.body.next}`, undefined, MOD_TOKEN);
    expect(second.body.rooms.map((r: { title: string }) => r.title)).toEqual(['개표 2', 'Weather 3']);
    const found = await adminCall(s, 'GET', `/admin/programs/${p}/rooms?q=${encodeURIComponent('개표')}`, undefined, MOD_TOKEN);
    expect(found.body).toMatchObject({ next: null });
    expect(found.body.rooms.map((r: { title: string }) => r.title)).toEqual(['개표 0', '개표 2', '개표 4']);
    expect((await adminCall(s, 'GET', `/admin/programs/${p}/rooms?cursor=nonsense`)).status).toBe(400);

    const roomId = first.body.rooms[0].roomId as string;
    for (let i = 0; i < 3; i++) await call(owners[0]!, 'chat', { roomId, type: 'N', msg: `m${i}` });
    const posted = (await call(owners[0]!, 'chat', { roomId, type: 'A', msg: '압승!' })) as { ok: boolean };
    expect(posted).toMatchObject({ ok: true });
    const o = await adminCall(s, 'GET', `/admin/programs/${p}/overview`, undefined, MOD_TOKEN);
    expect(o.body).toMatchObject({ connections: 5, rooms: 5, aggros: [{ roomId, roomTitle: '개표 0', msg: '압승!', point: 0 }] });
    expect(o.body.messagesPerSecond).toBeGreaterThan(0);
    expect(o.body.aggros[0].expiresAt).toBeGreaterThan(o.body.now);

    const live = await adminCall(s, 'GET', '/admin/live', undefined, MOD_TOKEN);
    expect(live.body.programs).toContainEqual({ scheduleUID: p, title: null, broadcaster: null, endAt: null, connections: 5 });
  });

  it('a schedule file is written whole, or refused with every bad row named and nothing written', async () => {
    const s = await server();
    const [a, b, c] = [uid('sa'), uid('sb'), uid('sc')];
    const now = Date.now();
    const good = (id: string) => ({ scheduleUID: id, title: '뉴스', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR });
    const bad = await adminCall(s, 'PUT', '/admin/schedule', [good(a), { ...good(b), endAt: now - 2 * HOUR }, { ...good(c), title: '' }, good(a), 'row']);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'BAD_REQUEST', message: '4 of 5 rows are invalid; nothing was written' });
    const rows = bad.body.issues.map((i: { row: number; path: unknown[] }) => [i.row, i.path.slice(1).join('.')]);
    expect(rows).toEqual(expect.arrayContaining([[1, 'endAt'], [2, 'title'], [3, 'scheduleUID'], [4, '']]));
    expect(bad.body.issues.every((i: { row: number; path: unknown[] }) => i.path[0] === i.row)).toBe(true);
    const listed = async () => (await adminCall(s, 'GET', '/admin/programs')).body.programs.map((x: { scheduleUID: string }) => x.scheduleUID);
    expect(await listed()).not.toContain(a);
    expect((await adminCall(s, 'PUT', '/admin/schedule', { programs: [] })).status).toBe(400);
    expect((await adminCall(s, 'PUT', '/admin/schedule', [])).status).toBe(400);

    const ok = await adminCall(s, 'PUT', '/admin/schedule', [good(a), { ...good(b), startAt: '2026-12-24T20:00:00+09:00', endAt: '2026-12-24T22:00:00+09:00' }]);
    expect(ok).toMatchObject({ status: 200, body: { written: 2 } });
    expect(await listed()).toEqual(expect.arrayContaining([a, b]));
  });

  it('records are searched by text, and downloaded as CSV in the same order, formulas defused', async () => {
    const s = await server({ AGGRO_TTL_MS: '1500' });
    const p = uid('rec');
    const authors = await Promise.all(['Mina', 'Jun', 'Sora'].map((n) => join(s, p, user(n))));
    const texts = ['출구조사 압승', '=HYPERLINK("x")', 'tight, "close" race'];
    // Room 0's aggro gets two votes up, room 1's one, room 2's none.
    const voters = await Promise.all(Array.from({ length: 3 }, (_, i) => join(s, p, user(`v${i}`))));
    const votersOf = [[voters[0]!, voters[1]!], [voters[2]!], []];
    for (const [i, author] of authors.entries()) {
      const roomId = await createOk(author, { title: `room ${i}`, max: 10 });
      for (const v of votersOf[i]!) await joinOk(v, { roomId });
      const { aggroUID } = (await call(author, 'chat', { roomId, type: 'A', msg: texts[i] })) as unknown as { aggroUID: string };
      for (const v of votersOf[i]!) expect(await call(v, 'aggroUp', aggroUID)).toMatchObject({ ok: true });
    }
    await waitUntil(async () => (await adminCall(s, 'GET', `/admin/programs/${p}/aggros`)).body.items.length === 3, 5000, 'three records');
    const all = await adminCall(s, 'GET', `/admin/programs/${p}/aggros`);
    expect(all.body.items.map((r: { msg: string }) => r.msg)).toEqual(texts);
    const found = await adminCall(s, 'GET', `/admin/programs/${p}/aggros?q=${encodeURIComponent('출구')}`);
    expect(found.body.items.map((r: { msg: string }) => r.msg)).toEqual(['출구조사 압승']);
    expect((await adminCall(s, 'GET', `/admin/programs/${p}/aggros?q=`)).status).toBe(400);

    const csv = await adminCall(s, 'GET', `/admin/programs/${p}/aggros.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="${p}-aggros.csv"`);
    const text = csv.body as string;
    expect(text.startsWith('\uFEFFrank,point,up,down,msg,')).toBe(true);
    const lines = text.slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^1,2,2,0,출구조사 압승,Mina,/);
    expect(lines[2]).toMatch(/^2,1,1,0,"'=HYPERLINK\(""x""\)",Jun,/);
    expect(lines[3]).toMatch(/^3,0,0,0,"tight, ""close"" race",Sora,/);
    const searched = await adminCall(s, 'GET', `/admin/programs/${p}/aggros.csv?q=race`);
    expect((searched.body as string).trimEnd().split('\r\n')).toHaveLength(2);
  });

  it('serves the console page under /admin/ui/ only with ADMIN_TOKEN, without a token and under its policy', async () => {
    const on = await server();
    const page = await adminCall(on, 'GET', '/admin/ui/', undefined, null);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(String(page.body)).toContain('onair operator console');
    expect((await adminCall(on, 'GET', '/admin/ui', undefined, null)).status).toBe(301);
    expect((await adminCall(on, 'GET', '/admin/ui/../whoami', undefined, null)).status).toBe(401);
    // The API beside it still needs the token.
    expect((await adminCall(on, 'GET', '/admin/whoami', undefined, null)).status).toBe(401);

    const off = await startServer();
    for (const path of ['/admin/ui/', '/admin/ui', '/admin/ui/index.html']) {
      const r = await adminCall(off, 'GET', path, undefined, null);
      expect(r.status, path).toBe(404);
      expect(r.body).toEqual({ code: 'NOT_FOUND' });
    }
  });

  it('the OpenAPI document describes the console routes, the CSV as text/csv', async () => {
    const s = await server();
    const doc = (await adminCall(s, 'GET', '/admin/openapi.json', undefined, MOD_TOKEN)).body;
    for (const path of ['/admin/whoami', '/admin/live', '/admin/programs/{scheduleUID}/overview', '/admin/programs/{scheduleUID}/room-counts', '/admin/programs/{scheduleUID}/rooms/{roomId}/messages']) {
      expect(doc.paths[path].get.responses['403'], path).toBeUndefined();
    }
    expect(doc.paths['/admin/schedule'].put.responses['403']).toBeDefined();
    expect(Object.keys(doc.paths['/admin/programs/{scheduleUID}/aggros.csv'].get.responses['200'].content)).toEqual(['text/csv; charset=utf-8']);
    expect(doc.paths['/admin/programs/{scheduleUID}/rooms'].get.parameters.map((x: { name: string }) => x.name)).toEqual(['scheduleUID', 'q', 'cursor', 'limit']);
  });
});
