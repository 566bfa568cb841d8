/**
 * Spec section 9 with real clients, on one server and across three on Redis: the word filter,
 * message removal, mutes, slow mode, duplicates, reports and the audit log, with moderators'
 * tokens limited to the moderation routes. Clients, the admin calls and the moderators sit on
 * different servers, so every rule is seen to hold across them.
 */
import { describe, expect, it } from 'vitest';
import type { AckResult, ChatMessage } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, createOk, join, user } from '../helpers/client.js';
import { startTopology, type Topology } from '../helpers/topology.js';
import { waitUntil } from '../helpers/wait.js';

const MOD_TOKEN = 'mia-moderator-token-0123456789';
const ENV = {
  ADMIN_TOKEN,
  MODERATOR_TOKENS: `mia:${MOD_TOKEN}`,
  REPORT_HIDE_THRESHOLD: '3',
  FILTER_REFRESH_MS: '100',
  HISTORY_SIZE: '20',
};

function ok<T extends object>(res: AckResult<T>): { ok: true } & T {
  if (!res.ok) throw new Error(`expected ok, got ${res.code} (${res.message})`);
  return res;
}

type Joined = Awaited<ReturnType<typeof join>>;

/** Two members of one room, on different servers. */
async function room(t: Topology, p: string): Promise<{ roomId: string; a: Joined; b: Joined }> {
  const a = await join(t.server(0), p, user('a'));
  const b = await join(t.server(1), p, user('b'));
  const roomId = await createOk(a, { title: 'Final', max: 50 });
  ok(await call(b, 'joinRoom', { roomId }));
  return { roomId, a, b };
}

/** A message sent by `author` and seen by `witness`. */
async function say(author: Joined, witness: Joined, roomId: string, msg: string): Promise<ChatMessage> {
  const seen = witness.events.next('chat', (m: ChatMessage) => m.userUID === author.who.userUID);
  ok(await call(author, 'chat', { roomId, msg, type: 'N' }));
  return (await seen)[0] as ChatMessage;
}

const mod = (t: Topology, i: number, method: string, path: string, body?: unknown) => adminCall(t.server(i), method, path, body, MOD_TOKEN);

describe('moderation', () => {
  it('moderators: the moderation routes only (403 elsewhere), a wrong token 401; the admin token opens both', async () => {
    const t = await startTopology(ENV);
    for (const [method, path, body] of [
      ['GET', '/admin/programs', undefined],
      ['PUT', '/admin/bans/someone', {}],
      ['POST', '/admin/programs/mod-auth/rooms', { title: 'x', max: 2 }],
      ['POST', '/admin/programs/mod-auth/kick', { userUID: 'x' }],
    ] as const) {
      const res = await mod(t, 0, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toMatchObject({ code: 'FORBIDDEN' });
    }
    // Nothing was banned by the refused call.
    expect((await adminCall(t.server(0), 'GET', '/admin/bans')).body.bans.map((b: { userUID: string }) => b.userUID)).not.toContain('someone');
    expect((await mod(t, 1, 'GET', '/admin/filters')).status).toBe(200);
    expect((await mod(t, 1, 'GET', '/admin/openapi.json')).status).toBe(200);
    for (const wrong of [`${MOD_TOKEN}x`, MOD_TOKEN.slice(0, -1), `mia:${MOD_TOKEN}`]) {
      expect((await adminCall(t.server(0), 'GET', '/admin/filters', undefined, wrong)).status).toBe(401);
    }
    expect((await adminCall(t.server(2), 'GET', '/admin/audit')).status).toBe(200);
  });

  it('word filter: block and mask, on chat, aggros and room titles, in force on every server within a second', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-filter';
    const { roomId, a, b } = await room(t, p);
    const put = await mod(t, 1, 'PUT', '/admin/filters', {
      entries: [
        { text: '시발', action: 'block', scheduleUID: p },
        { text: 'idiot', action: 'mask', scheduleUID: p },
      ],
    });
    expect(put.status).toBe(200);
    const started = performance.now();
    // The author's server is not the one that took the change: it sees it at its next poll.
    let n = 0;
    await waitUntil(async () => {
      n += 1;
      const res = await call(a, 'chat', { roomId, msg: `ㅅ ㅣ ㅂ ㅏ ㄹ ${n}`, type: 'N' });
      return !res.ok && res.code === 'EM003';
    }, 1000, 'the filter in force on another server');
    expect(performance.now() - started).toBeLessThan(1000);

    for (const msg of ['시.발', 'ㅅㅣㅂㅏㄹ', `시\u200b발`, '시 발 놈']) expect(await call(a, 'chat', { roomId, msg, type: 'N' })).toMatchObject({ ok: false, code: 'EM003' });
    // Nothing blocked was broadcast: the next chat b sees is the masked one.
    const seen = await say(a, b, roomId, 'you I.D.I.O.T!');
    expect(seen.msg).toBe('you *********!');
    // The kept copy is the masked one too.
    const c = await join(t.server(2), p, user('c'));
    const joined = ok(await call<{ history: ChatMessage[] }>(c, 'joinRoom', { roomId }));
    // Only probes may have passed (sent before the change reached the author's server, which
    // the one-second bound above covers); no disguised form and no unmasked word.
    expect(joined.history.at(-1)?.msg).toBe('you *********!');
    expect(joined.history.filter((m) => /시|idiot/i.test(m.msg) || m.msg === 'ㅅㅣㅂㅏㄹ')).toEqual([]);
    expect(joined.history.filter((m) => /ㅅ/.test(m.msg)).every((m) => /^ㅅ ㅣ ㅂ ㅏ ㄹ \d+$/.test(m.msg))).toBe(true);
    expect(await call(a, 'chat', { roomId, msg: '시발', type: 'A' })).toMatchObject({ ok: false, code: 'EM003' });
    const aggro = c.events.next('aggro');
    ok(await call(b, 'chat', { roomId, msg: 'idiot referee', type: 'A' }));
    expect(((await aggro)[0] as { msg: string }).msg).toBe('***** referee');
    const lobby = await join(t.server(0), p, user('lobby'));
    expect(await call(lobby, 'createRoom', { title: '시발 방', max: 5 })).toMatchObject({ ok: false, code: 'EC001' });
    const added = a.events.next('addRoom');
    void added.catch(() => {});
    const other = await join(t.server(1), p, user('other'));
    const addRoom = other.events.next('addRoom');
    ok(await call(lobby, 'createRoom', { title: 'idiot room', max: 5 }));
    expect(((await addRoom)[0] as { title: string }).title).toBe('***** room');
    // Another programme is untouched by these entries.
    const elsewhere = await join(t.server(2), 'mod-filter-other', user('x'));
    const r2 = await createOk(elsewhere, { title: '시발', max: 3 });
    expect(ok(await call(elsewhere, 'chat', { roomId: r2, msg: 'idiot', type: 'N' }))).toMatchObject({ ok: true });
    // Read back as put.
    expect((await mod(t, 0, 'GET', '/admin/filters')).body.entries).toEqual(put.body.entries);
  });

  it('removing a message: deleteChat to the room on every server, out of the history, once; audited', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-remove';
    const { roomId, a, b } = await room(t, p);
    const m1 = await say(a, b, roomId, 'first');
    const m2 = await say(a, b, roomId, 'second');
    const gone = a.events.next('deleteChat');
    const gone2 = b.events.next('deleteChat');
    expect((await mod(t, 2, 'DELETE', `/admin/programs/${p}/messages/${m1.id}`)).status).toBe(204);
    expect((await gone)[0]).toEqual({ roomId, id: m1.id });
    expect((await gone2)[0]).toEqual({ roomId, id: m1.id });
    expect((await mod(t, 0, 'DELETE', `/admin/programs/${p}/messages/${m1.id}`)).status).toBe(404);
    expect((await mod(t, 0, 'DELETE', `/admin/programs/${p}/messages/never-sent`)).status).toBe(404);
    const c = await join(t.server(2), p, user('c'));
    expect(ok(await call<{ history: ChatMessage[] }>(c, 'joinRoom', { roomId })).history.map((m) => m.id)).toEqual([m2.id]);
    const audit = await mod(t, 1, 'GET', `/admin/audit?scheduleUID=${p}`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ actor: 'moderator:mia', action: 'remove_message', scheduleUID: p, target: m1.id, detail: { roomId, userUID: a.who.userUID, msg: 'first' } });
  });

  it('mutes: MUTED with until, EM004 on chat, aggros and votes from every server, listed, ending by themselves', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-mute';
    const { roomId, a, b } = await room(t, p);
    const aggro = a.events.next('aggro');
    ok(await call(b, 'chat', { roomId, msg: 'vote on me', type: 'A' }));
    const { aggroUID } = (await aggro)[0] as { aggroUID: string };
    const told = a.events.next('system', (n: { code: string }) => n.code === 'MUTED');
    const res = await mod(t, 1, 'PUT', `/admin/programs/${p}/mutes/${encodeURIComponent(a.who.userUID)}`, { seconds: 1, reason: 'flooding' });
    expect(res.status).toBe(200);
    const until = res.body.until as number;
    expect(res.body).toEqual({ userUID: a.who.userUID, until });
    expect((await told)[0]).toMatchObject({ code: 'MUTED', until });
    expect(await call(a, 'chat', { roomId, msg: 'hello', type: 'N' })).toEqual({ ok: false, code: 'EM004', message: expect.any(String), until });
    expect(await call(a, 'chat', { roomId, msg: 'an aggro', type: 'AP' })).toMatchObject({ ok: false, code: 'EM004', until });
    expect(await call(a, 'aggroUp', aggroUID)).toMatchObject({ ok: false, code: 'EM004', until });
    // Still connected, still reading.
    const seen = await say(b, a, roomId, 'can you read this');
    expect(seen.msg).toBe('can you read this');
    expect((await mod(t, 2, 'GET', `/admin/programs/${p}/mutes`)).body.mutes).toEqual([{ userUID: a.who.userUID, until, reason: 'flooding' }]);
    // It ends by itself: no one lifts it.
    await waitUntil(async () => (await call(a, 'chat', { roomId, msg: `back ${Date.now()}`, type: 'N' })).ok, 3000, 'the mute to end');
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect((await mod(t, 0, 'GET', `/admin/programs/${p}/mutes`)).body.mutes).toEqual([]);
    expect((await mod(t, 0, 'DELETE', `/admin/programs/${p}/mutes/${encodeURIComponent(a.who.userUID)}`)).status).toBe(404);
    // Lifted early: MUTED with `until` now.
    await mod(t, 0, 'PUT', `/admin/programs/${p}/mutes/${encodeURIComponent(b.who.userUID)}`, { seconds: 600 });
    expect(await call(b, 'chat', { roomId, msg: 'x', type: 'N' })).toMatchObject({ code: 'EM004' });
    const lifted = b.events.next('system', (n: { code: string; until: number }) => n.code === 'MUTED' && n.until <= Date.now());
    expect((await mod(t, 2, 'DELETE', `/admin/programs/${p}/mutes/${encodeURIComponent(b.who.userUID)}`)).status).toBe(204);
    await lifted;
    ok(await call(b, 'chat', { roomId, msg: 'free again', type: 'N' }));
  });

  it('slow mode: SLOW_MODE to the room, one N message per window with retryAfterMs, per user, ended with 0', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-slow';
    const { roomId, a, b } = await room(t, p);
    const notice = b.events.next('system', (n: { code: string }) => n.code === 'SLOW_MODE');
    const res = await mod(t, 2, 'PUT', `/admin/programs/${p}/slow-mode`, { seconds: 1, roomId });
    expect(res.status).toBe(200);
    expect(res.body.slowModes).toEqual([{ roomId, seconds: 1 }]);
    expect((await notice)[0]).toMatchObject({ code: 'SLOW_MODE', seconds: 1, roomId });
    const first = performance.now();
    ok(await call(a, 'chat', { roomId, msg: 'one', type: 'N' }));
    const refused = await call(a, 'chat', { roomId, msg: 'two', type: 'N' });
    expect(refused).toMatchObject({ ok: false, code: 'EM005' });
    const retry = (refused as { retryAfterMs: number }).retryAfterMs;
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(1000);
    // Another member has a window of its own, on another server.
    ok(await call(b, 'chat', { roomId, msg: 'mine', type: 'N' }));
    // Aggros are not slowed.
    ok(await call(a, 'chat', { roomId, msg: 'aggro', type: 'A' }));
    await waitUntil(async () => (await call(a, 'chat', { roomId, msg: 'two', type: 'N' })).ok, 3000, 'the window to pass');
    expect(performance.now() - first).toBeGreaterThanOrEqual(950);
    const off = a.events.next('system', (n: { code: string; seconds: number }) => n.code === 'SLOW_MODE' && n.seconds === 0);
    expect((await mod(t, 0, 'PUT', `/admin/programs/${p}/slow-mode`, { seconds: 0, roomId })).body.slowModes).toEqual([]);
    await off;
    ok(await call(a, 'chat', { roomId, msg: 'three', type: 'N' }));
    ok(await call(a, 'chat', { roomId, msg: 'four', type: 'N' }));
    // The whole programme: every room, the lobby told too.
    const all = b.events.next('system', (n: { code: string; seconds: number; roomId?: string }) => n.code === 'SLOW_MODE' && n.seconds === 30 && n.roomId === undefined);
    await mod(t, 1, 'PUT', `/admin/programs/${p}/slow-mode`, { seconds: 30 });
    await all;
    // b posted less than 30 s ago: the new window already covers that post.
    expect(await call(b, 'chat', { roomId, msg: 'slow one', type: 'N' })).toMatchObject({ code: 'EM005' });
    const c = await join(t.server(2), p, user('c'));
    ok(await call(c, 'joinRoom', { roomId }));
    ok(await call(c, 'chat', { roomId, msg: 'slow one', type: 'N' }));
    const later = await call(c, 'chat', { roomId, msg: 'slow two', type: 'N' });
    expect(later).toMatchObject({ code: 'EM005' });
    expect((later as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(28_000);
  });

  it('duplicates: the same text (as the filter reads it) from the same user in the same room is EM006', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-dup';
    const { roomId, a, b } = await room(t, p);
    ok(await call(a, 'chat', { roomId, msg: 'GOAL', type: 'N' }));
    expect(await call(a, 'chat', { roomId, msg: 'GOAL', type: 'N' })).toMatchObject({ ok: false, code: 'EM006' });
    expect(await call(a, 'chat', { roomId, msg: 'g o a l !!', type: 'N' })).toMatchObject({ ok: false, code: 'EM006' });
    ok(await call(b, 'chat', { roomId, msg: 'GOAL', type: 'N' }));
    ok(await call(a, 'chat', { roomId, msg: 'what a goal', type: 'N' }));
    ok(await call(a, 'chat', { roomId, msg: 'GOAL', type: 'N' }));
  });

  it('reports: one per reporter and target, the text copied, hidden at the threshold by concurrent reporters on every server; queue and resolutions', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-report';
    const { roomId, a, b } = await room(t, p);
    const reporters = await Promise.all([0, 1, 2, 0].map((i) => join(t.server(i), p, user(`rep${i}`))));
    for (const r of reporters) ok(await call(r, 'joinRoom', { roomId }));
    const m = await say(a, b, roomId, 'buy cheap followers');
    const hidden = b.events.next('deleteChat');
    const outs = await Promise.all(reporters.map((r) => call(r, 'report', { roomId, id: m.id, reason: 'spam' })));
    // Compared whole, so that a refusal shows its code.
    expect(outs).toEqual(reporters.map(() => ({ ok: true, reported: true })));
    expect((await hidden)[0]).toEqual({ roomId, id: m.id });
    // Exactly one removal, whoever crossed the threshold.
    await waitUntil(async () => (await mod(t, 0, 'GET', `/admin/audit?scheduleUID=${p}`)).body.items.length >= 1, 2000, 'the hiding audited');
    expect(b.events.all('deleteChat')).toHaveLength(1);
    const audit = (await mod(t, 0, 'GET', `/admin/audit?scheduleUID=${p}`)).body.items;
    expect(audit.filter((e: { action: string }) => e.action === 'remove_message')).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'reports', target: m.id });

    // Reporting a user, twice: the second is not a new report.
    expect(ok(await call<{ reported: boolean }>(b, 'report', { roomId, userUID: a.who.userUID, reason: 'rude' })).reported).toBe(true);
    expect(ok(await call<{ reported: boolean }>(b, 'report', { roomId, userUID: a.who.userUID, reason: 'rude again' })).reported).toBe(false);
    const queue = await mod(t, 1, 'GET', '/admin/reports?status=open&limit=100');
    const mine = queue.body.items.filter((r: { scheduleUID: string }) => r.scheduleUID === p);
    expect(mine.filter((r: { kind: string }) => r.kind === 'message')).toHaveLength(4);
    expect(mine.find((r: { kind: string }) => r.kind === 'message')).toMatchObject({ text: 'buy cheap followers', targetUserUID: a.who.userUID, reason: 'spam' });
    const userReport = mine.find((r: { kind: string }) => r.kind === 'user');
    expect(userReport).toMatchObject({ targetId: a.who.userUID, text: null, reporterUID: b.who.userUID });

    // Resolving with a mute mutes the author; again changes nothing.
    const muted = a.events.next('system', (n: { code: string }) => n.code === 'MUTED');
    const resolved = await mod(t, 2, 'POST', `/admin/reports/${userReport.id}/resolve`, { action: 'mute', seconds: 60 });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolution: 'mute', resolvedBy: 'moderator:mia' });
    await muted;
    expect(await call(a, 'chat', { roomId, msg: 'hi', type: 'N' })).toMatchObject({ code: 'EM004' });
    const again = await mod(t, 0, 'POST', `/admin/reports/${userReport.id}/resolve`, { action: 'dismiss' });
    expect(again.body).toMatchObject({ resolution: 'mute' });
    expect((await mod(t, 0, 'POST', '/admin/reports/no-such-report/resolve', { action: 'dismiss' })).status).toBe(404);
    const after = (await mod(t, 0, 'GET', `/admin/audit?scheduleUID=${p}`)).body.items.map((e: { action: string }) => e.action);
    // Both written in the same millisecond or so: their order within it is not the point.
    expect(after.slice(0, 2).sort()).toEqual(['mute', 'report_mute']);
  });

  it('hostile payloads for report and the moderation routes: refused with their code, nothing changed', async () => {
    const t = await startTopology(ENV);
    const p = 'mod-hostile';
    const { roomId, a, b } = await room(t, p);
    const m = await say(a, b, roomId, 'a message');
    const outsider = await join(t.server(2), p, user('outsider'));
    const bad: unknown[] = [
      undefined,
      null,
      'string',
      42,
      [roomId],
      {},
      { roomId },
      { roomId, reason: 'r' },
      { roomId, id: m.id },
      { roomId, id: m.id, reason: '' },
      { roomId, id: m.id, reason: 'x'.repeat(201) },
      { roomId, id: m.id, aggroUID: 'abc', reason: 'two targets' },
      { roomId, id: m.id, reason: 'r', extra: 1 },
      { roomId, id: { $ne: null }, reason: 'r' },
      { roomId, id: 'bad id!', reason: 'r' },
      { roomId: 'x'.repeat(65), id: m.id, reason: 'r' },
      JSON.parse(`{"roomId":"${roomId}","id":"${m.id}","reason":"r","__proto__":{"admin":true}}`),
      { roomId, id: m.id, reason: 'lone \uD800 surrogate' },
      { roomId, id: 'never-sent', reason: 'r' },
      { roomId, userUID: 'not-a-member', reason: 'r' },
      { roomId, id: m.id, reason: 'r', reporterUID: a.who.userUID },
    ];
    for (const payload of bad) expect(await call(b, 'report', payload), JSON.stringify(payload)).toMatchObject({ ok: false, code: 'EV001' });
    // One's own message, and from outside the room.
    expect(await call(a, 'report', { roomId, id: m.id, reason: 'r' })).toMatchObject({ ok: false, code: 'EV001' });
    expect(await call(outsider, 'report', { roomId, id: m.id, reason: 'r' })).toMatchObject({ ok: false, code: 'EM001' });
    // Still connected, and nothing was reported.
    ok(await call(b, 'chat', { roomId, msg: 'still here', type: 'N' }));
    const reports = (await mod(t, 0, 'GET', '/admin/reports?limit=100')).body.items.filter((r: { scheduleUID: string }) => r.scheduleUID === p);
    expect(reports).toEqual([]);

    const u = encodeURIComponent(a.who.userUID);
    for (const [method, path, body] of [
      ['PUT', `/admin/programs/${p}/mutes/${u}`, { seconds: 0 }],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, { seconds: -5 }],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, { seconds: 604_801 }],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, { seconds: '60' }],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, { seconds: 60, until: 1 }],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, [60]],
      ['PUT', `/admin/programs/${p}/mutes/${u}`, 'not json'],
      ['PUT', `/admin/programs/${p}/slow-mode`, { seconds: 3601 }],
      ['PUT', `/admin/programs/${p}/slow-mode`, { seconds: 1.5 }],
      ['PUT', `/admin/programs/${p}/slow-mode`, { seconds: 5, roomId: '../x' }],
      ['PUT', '/admin/filters', { entries: 'all' }],
      ['PUT', '/admin/filters', { entries: [{ text: '', action: 'block' }] }],
      ['PUT', '/admin/filters', { entries: [{ text: 'x', action: 'nuke' }] }],
      ['PUT', '/admin/filters', { entries: [{ text: 'x', action: 'block', scheduleUID: '_programs' }] }],
      ['PUT', '/admin/filters', { entries: [{ text: 'x'.repeat(101), action: 'block' }] }],
      ['PUT', '/admin/filters', {}],
      ['POST', `/admin/reports/${encodeURIComponent('x y')}/resolve`, { action: 'dismiss' }],
      ['GET', '/admin/reports?status=everything', undefined],
      ['GET', '/admin/reports?cursor=%%%', undefined],
      ['GET', '/admin/audit?limit=0', undefined],
      ['GET', '/admin/audit?cursor=bm90LWEtY3Vyc29y', undefined],
    ] as const) {
      const res = await mod(t, 1, method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body).toMatchObject({ code: 'BAD_REQUEST' });
    }
    expect((await mod(t, 0, 'GET', `/admin/programs/${p}/mutes`)).body.mutes).toEqual([]);
    expect((await mod(t, 0, 'GET', `/admin/programs/${p}/slow-mode`)).body.slowModes).toEqual([]);
    ok(await call(a, 'chat', { roomId, msg: 'nothing changed', type: 'N' }));
  });
});
