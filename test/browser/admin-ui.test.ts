/**
 * The operator console (/admin/ui/) in a real browser (Debian's chromium driven by
 * playwright-core) against a real server over TLS, with real viewers connected (socket.io
 * clients): an admin runs the schedule and the records, a moderator watches a room and acts,
 * and what they do reaches the viewers. Screenshots go to a temporary folder, or to docs/images
 * with ONAIR_SCREENSHOTS=1.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { adminUiBuilt } from '../helpers/admin-ui.js';
import { call, createOk, join as joinProgram, joinOk, user } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 6000;
const SHOTS = process.env.ONAIR_SCREENSHOTS === '1' ? join(ROOT, 'docs/images') : mkdtempSync(join(tmpdir(), 'onair-admin-shots-'));
const MOD_TOKEN = 'moderator-token-for-browser-tests-42';
const HOUR = 3_600_000;
const LAPTOP = { width: 1366, height: 900 };
const TABLET = { width: 820, height: 1180 };

let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await adminUiBuilt();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 60_000);

afterEach(async () => {
  pageErrors.length = 0;
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
});

function server(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ ADMIN_TOKEN, MODERATOR_TOKENS: `mia:${MOD_TOKEN}`, SCHEDULE_REFRESH_MS: '100', HISTORY_SIZE: '50', AGGRO_TTL_MS: '30000', ...env }, { records: undefined });
}

/** The console's page, signed in with `token` (typed and sent with the Enter key). */
async function operator(s: TestServer, token: string, name: string, viewport = LAPTOP, lang: 'en' | 'ko' = 'en'): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: s.url, viewport, locale: lang === 'ko' ? 'ko-KR' : 'en-GB' });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(20_000);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  // The browser logs every refused call ("Failed to load resource"): the page shows those in
  // words, and the tests check the words. Anything else logged as an error fails the test.
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && pageErrors.push(`${name}: ${msg.text()}`));
  // Confirmations (end now, delete, ban) are accepted.
  page.on('dialog', (d) => void d.accept());
  await page.goto('/admin/ui/');
  await page.getByTestId('token').fill(token);
  await page.getByTestId('token').press('Enter');
  await page.getByTestId('workspace').waitFor();
  return page;
}

async function hasText(locator: Locator, expected: string | RegExp): Promise<void> {
  await expect.poll(async () => (await locator.textContent()) ?? '', { timeout: WAIT_MS }).toMatch(expected);
}

function uid(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

describe('the operator console', () => {
  it('signs in with the admin token (a wrong one is refused in words), and runs the schedule: create, edit times, end now, delete, upload with per-row errors', { timeout: 90_000 }, async () => {
    const s = await server();
    const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: s.url, viewport: LAPTOP });
    contexts.push(context);
    const anon = await context.newPage();
    await anon.goto('/admin/ui/');
    await anon.getByTestId('token').fill('not-the-token');
    await anon.getByTestId('sign-in-submit').click();
    await hasText(anon.getByTestId('error-text'), 'This token is not accepted (UNAUTHORIZED)');
    expect(await anon.getByTestId('workspace').isVisible()).toBe(false);
    // The token is kept for the tab only.
    expect(await anon.evaluate(() => [sessionStorage.length, localStorage.getItem('onair-admin-token')])).toEqual([0, null]);

    const page = await operator(s, ADMIN_TOKEN, 'admin');
    expect(await page.evaluate(() => sessionStorage.getItem('onair-admin-token'))).toBe(ADMIN_TOKEN);
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Schedule', 'Live', 'Moderation', 'Records']);
    // Arrow keys move between the tabs.
    await page.getByTestId('tab-schedule').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByTestId('tab-live').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await page.getByTestId('sched-create').waitFor();

    const id = uid('night');
    const now = Date.now();
    await s.app.programmes.put({ scheduleUID: uid('news'), title: '9시 뉴스', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR });
    await page.getByTestId('new-id').fill(id);
    await page.getByTestId('new-title').fill('개표 방송 2026');
    await page.getByTestId('new-broadcaster').fill('MBC');
    await page.getByTestId('create-programme').click();
    const row = page.getByTestId('programme').and(page.locator(`[data-id="${id}"]`));
    await page.getByTestId('sched-upcoming').locator(`[data-id="${id}"]`).waitFor();

    // Edit times: from an hour ago to in two hours, so it is on air.
    await row.getByTestId('edit-times').click();
    const local = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await row.getByTestId('edit-start').fill(local(now - HOUR));
    await row.getByTestId('edit-end').fill(local(now + 2 * HOUR));
    await row.getByTestId('save-times').click();
    await page.getByTestId('sched-on-air').locator(`[data-id="${id}"]`).waitFor();
    expect(s.app.programmes.admits(id)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'admin-schedule.png'), fullPage: true });

    // End now: a viewer of it is told and the programme moves to the ended.
    const viewer = await joinProgram(s, id, user('Mina'));
    const ended = viewer.events.next('system', (n: { code: string }) => n.code === 'PROGRAM_ENDED', WAIT_MS);
    await row.getByTestId('end-now').click();
    await ended;
    await page.getByTestId('sched-ended').locator(`[data-id="${id}"]`).waitFor();
    await page.getByTestId('sched-ended').locator(`[data-id="${id}"]`).getByTestId('delete-programme').click();
    await row.waitFor({ state: 'detached' });
    expect(s.app.programmes.schedule.get(id)).toBeUndefined();

    // A schedule file with two bad rows: each is named, nothing is written.
    const [a, b] = [uid('up-a'), uid('up-b')];
    const file = [
      { scheduleUID: a, title: '아침 마당', broadcaster: 'KBS', startAt: now + HOUR, endAt: now + 2 * HOUR },
      { scheduleUID: b, title: 'Late show', broadcaster: 'SBS', startAt: now + 2 * HOUR, endAt: now + HOUR },
      { scheduleUID: 'bad id!', title: '', broadcaster: 'SBS', startAt: now, endAt: now + HOUR },
    ];
    await page.getByTestId('upload-file').setInputFiles({ name: 'schedule.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
    await expect.poll(() => page.getByTestId('upload-error').count(), { timeout: WAIT_MS }).toBe(2);
    await hasText(page.getByTestId('upload-error').first(), `Row 2 (${b}) endAt: endAt must be after startAt`);
    await hasText(page.getByTestId('upload-error').nth(1), /^Row 3 \(bad id!\) scheduleUID: .*title: /);
    expect(s.app.programmes.schedule.get(a)).toBeUndefined();
    await page.screenshot({ path: join(SHOTS, 'admin-schedule-upload.png'), fullPage: true });
    await page.getByTestId('upload-file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"oops') });
    await hasText(page.getByTestId('error-text'), /^The file is not JSON/);
    await page.getByTestId('upload-file').setInputFiles({ name: 'schedule.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify([file[0], { ...file[1], endAt: now + 3 * HOUR }])) });
    await hasText(page.getByTestId('notice-text'), '2 programmes written.');
    await page.getByTestId('sched-upcoming').locator(`[data-id="${a}"]`).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('a moderator watches a room read-only and removes, mutes and slows; each reaches the viewers, and admin-only actions are not offered', { timeout: 90_000 }, async () => {
    const s = await server();
    const p = uid('election');
    const now = Date.now();
    await s.app.programmes.put({ scheduleUID: p, title: '개표 방송', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR });
    const mina = await joinProgram(s, p, user('Mina'));
    const jun = await joinProgram(s, p, user('Jun'));
    const sora = await joinProgram(s, p, user('Sora'));
    const roomId = await createOk(mina, { title: '서울 개표 현황', max: 20 });
    await joinOk(jun, { roomId });
    await createOk(sora, { title: 'Weather room', max: 8 });
    await call(mina, 'chat', { roomId, type: 'N', msg: '출구조사 나왔어요!' });
    await call(jun, 'chat', { roomId, type: 'A', msg: '압승 예상' });

    const page = await operator(s, MOD_TOKEN, 'moderator');
    await hasText(page.getByTestId('who'), 'Signed in as moderator:mia');
    // Schedule and records are the admin's: not offered.
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Live', 'Moderation']);
    await page.getByTestId('live-program').and(page.locator(`[data-id="${p}"]`)).click();
    await hasText(page.getByTestId('fig-connections'), '3');
    await hasText(page.getByTestId('fig-rooms'), '2');
    await hasText(page.getByTestId('live-aggro').getByTestId('aggro-msg'), '압승 예상');
    await hasText(page.getByTestId('live-aggro').getByTestId('aggro-left'), /^(2\d|30) s left$/);
    const room = page.getByTestId('room').and(page.locator(`[data-id="${roomId}"]`));
    await hasText(room.getByTestId('room-count'), '2 / 20');
    // Counts follow while watched.
    const ari = await joinProgram(s, p, user('Ari'));
    await joinOk(ari, { roomId });
    await hasText(room.getByTestId('room-count'), '3 / 20');
    // Search by title.
    await page.getByTestId('rooms-q').fill('weather');
    await page.getByTestId('rooms-search-submit').click();
    await expect.poll(() => page.getByTestId('room-title').allTextContents(), { timeout: WAIT_MS }).toEqual(['Weather room']);
    await page.getByTestId('rooms-q').fill('');
    await page.getByTestId('rooms-search-submit').click();
    await room.getByTestId('room-watch').click();

    // The chat, live, and the watcher is no member.
    const messages = page.getByTestId('watch-message');
    await hasText(messages.first().getByTestId('watch-text'), '출구조사 나왔어요!');
    await call(jun, 'chat', { roomId, type: 'N', msg: '서울은 박빙' });
    await hasText(messages.last().getByTestId('watch-text'), '서울은 박빙');
    expect((await call(mina, 'loadUsers')) as unknown as { users: unknown[] }).toMatchObject({ users: expect.any(Array) });
    expect(((await call(mina, 'loadUsers')) as unknown as { users: unknown[] }).users).toHaveLength(3);
    expect(await page.getByTestId('msg-ban').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'admin-live.png'), fullPage: true });

    // Remove: every viewer in the room gets deleteChat.
    const target = messages.filter({ hasText: '서울은 박빙' });
    const id = await target.getAttribute('data-id');
    const removed = [mina, ari].map((v) => v.events.next('deleteChat', (d: { id: string }) => d.id === id, WAIT_MS));
    await target.getByTestId('msg-remove').click();
    await Promise.all(removed);
    await target.getByTestId('watch-removed').waitFor();

    // Mute for a minute: Mina is told, and her next message is refused.
    const first = messages.filter({ hasText: '출구조사 나왔어요!' });
    await first.getByTestId('msg-mute-seconds').selectOption('60');
    const muted = mina.events.next('system', (n: { code: string }) => n.code === 'MUTED', WAIT_MS);
    await first.getByTestId('msg-mute').click();
    const [notice] = (await muted) as [{ until: number }];
    expect(notice.until - Date.now()).toBeGreaterThan(50_000);
    expect(await call(mina, 'chat', { roomId, type: 'N', msg: 'still here?' })).toMatchObject({ ok: false, code: 'EM004' });

    // Slow mode of 10 s in this room: the room is told, and a second message within it is refused.
    await page.getByTestId('watch-slow-seconds').selectOption('10');
    // Ari has not written yet, so one message goes through first.
    const slowed = [jun, ari].map((v) => v.events.next('system', (n: { code: string; seconds?: number }) => n.code === 'SLOW_MODE' && n.seconds === 10, WAIT_MS));
    await page.getByTestId('slow-set').click();
    await Promise.all(slowed);
    expect(await call(ari, 'chat', { roomId, type: 'N', msg: 'one' })).toMatchObject({ ok: true });
    expect(await call(ari, 'chat', { roomId, type: 'N', msg: 'two' })).toMatchObject({ ok: false, code: 'EM005' });

    // Tablet width, Korean.
    await page.setViewportSize(TABLET);
    await page.getByTestId('language').selectOption('ko');
    await expect.poll(() => page.getByRole('tab').allTextContents()).toEqual(['실시간', '모더레이션']);
    await room.getByTestId('room-watch').click();
    await hasText(messages.first().getByTestId('watch-text'), '출구조사 나왔어요!');
    await page.screenshot({ path: join(SHOTS, 'admin-live-tablet-ko.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('moderation: the reports queue with resolutions, the word filter edited and imported, mutes lifted, the audit log', { timeout: 90_000 }, async () => {
    const s = await server({ REPORT_HIDE_THRESHOLD: '5' });
    const p = uid('quiz');
    const now = Date.now();
    await s.app.programmes.put({ scheduleUID: p, title: '퀴즈 쇼', broadcaster: 'MBC', startAt: now - HOUR, endAt: now + HOUR });
    const mina = await joinProgram(s, p, user('Mina'));
    const jun = await joinProgram(s, p, user('Jun'));
    const roomId = await createOk(mina, { title: '퀴즈 방', max: 10 });
    await joinOk(jun, { roomId });
    const said = (await call(mina, 'chat', { roomId, type: 'N', msg: '바보 같은 문제' })) as unknown as { id: string };
    const rude = (await call(mina, 'chat', { roomId, type: 'N', msg: 'spam spam spam' })) as unknown as { id: string };
    expect(await call(jun, 'report', { roomId, id: said.id, reason: '욕설' })).toMatchObject({ ok: true });
    expect(await call(jun, 'report', { roomId, id: rude.id, reason: 'spam' })).toMatchObject({ ok: true });

    const page = await operator(s, MOD_TOKEN, 'moderator');
    await page.getByTestId('program').fill(p);
    await page.getByTestId('tab-moderation').click();
    const report = (text: string) => page.getByTestId('report').filter({ has: page.getByTestId('report-text').getByText(text, { exact: true }) });
    await report('바보 같은 문제').waitFor();
    // Remove: the room is told, the report leaves the open queue.
    const gone = jun.events.next('deleteChat', (d: { id: string }) => d.id === said.id, WAIT_MS);
    await report('바보 같은 문제').getByTestId('report-remove').click();
    await gone;
    await report('바보 같은 문제').waitFor({ state: 'detached' });
    // Mute from a report, then lift it from the mutes in force.
    const muted = mina.events.next('system', (n: { code: string }) => n.code === 'MUTED', WAIT_MS);
    await report('spam spam spam').getByTestId('report-mute').click();
    await muted;
    const mute = page.getByTestId('mute').and(page.locator(`[data-user="${mina.who.userUID}"]`));
    await mute.waitFor();
    await page.getByTestId('reports-resolved').click();
    await hasText(report('spam spam spam').getByTestId('report-resolution'), 'resolved: mute by moderator:mia');
    const lifted = mina.events.next('system', (n: { code: string }) => n.code === 'MUTED', WAIT_MS);
    await mute.getByTestId('mute-lift').click();
    await lifted;
    await mute.waitFor({ state: 'detached' });
    expect(await call(mina, 'chat', { roomId, type: 'N', msg: 'back again' })).toMatchObject({ ok: true });
    // No bans list for a moderator (an admin route).
    expect(await page.getByTestId('bans-card').count()).toBe(0);

    // The word filter: one word added by hand (mask), two imported from a file (block).
    await page.getByTestId('filter-new-text').fill('바보');
    await page.getByTestId('filter-new-action').selectOption('mask');
    await page.getByTestId('filter-add').click();
    await page.getByTestId('filter-import').setInputFiles({ name: 'words.txt', mimeType: 'text/plain', buffer: Buffer.from('\uFEFF# banned words\n광고\r\n\nspamword\n바보\n') });
    await hasText(page.getByTestId('notice-text'), '2 words added; save to put them in force.');
    await page.getByTestId('filter-unsaved').waitFor();
    await page.getByTestId('filter-save').click();
    await hasText(page.getByTestId('notice-text'), /^Word filter saved \(version \d+\), 3 entries\.$/);
    expect(await page.getByTestId('filter-text').allTextContents()).toEqual(['바보', '광고', 'spamword']);
    expect(await call(jun, 'chat', { roomId, type: 'N', msg: '광고 보세요' })).toMatchObject({ ok: false, code: 'EM003' });
    const masked = mina.events.next('chat', (m: { userUID: string }) => m.userUID === jun.who.userUID, WAIT_MS);
    expect(await call(jun, 'chat', { roomId, type: 'N', msg: '바보야' })).toMatchObject({ ok: true });
    expect(((await masked) as [{ msg: string }])[0].msg).toBe('**야');

    // The audit log names who did what, newest first.
    await page.getByTestId('tab-live').click();
    await page.getByTestId('tab-moderation').click();
    // Newest first; a report's resolution and what it did are written in the same millisecond.
    const actions = async () => {
      const all = await page.getByTestId('audit-action').allTextContents();
      return [...all.slice(0, 2), ...all.slice(2, 6).sort()];
    };
    await expect.poll(actions, { timeout: WAIT_MS }).toEqual(['filters', 'unmute', 'mute', 'remove_message', 'report_mute', 'report_remove']);
    await page.screenshot({ path: join(SHOTS, 'admin-moderation.png'), fullPage: true });
    // Put back an empty filter: the file's servers share one database.
    await page.evaluate(async (token) => {
      await fetch('/admin/filters', { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ entries: [] }) });
    }, MOD_TOKEN);
    expect(pageErrors).toEqual([]);
  });

  it('records: the finished aggros highest first, searched, downloaded as CSV; bans from a message and lifted by the admin', { timeout: 90_000 }, async () => {
    const s = await server({ AGGRO_TTL_MS: '1500' });
    const p = uid('match');
    const now = Date.now();
    await s.app.programmes.put({ scheduleUID: p, title: '축구 결승', broadcaster: 'SBS', startAt: now - HOUR, endAt: now + HOUR });
    const authors = await Promise.all(['Mina', 'Jun', 'Sora'].map((n) => joinProgram(s, p, user(n))));
    const fans = await Promise.all(Array.from({ length: 3 }, (_, i) => joinProgram(s, p, user(`fan${i}`))));
    const texts = ['골! 역전이다', '심판 뭐하냐', 'What a save'];
    const votesOf = [[fans[0]!, fans[1]!], [fans[2]!], []];
    for (const [i, a] of authors.entries()) {
      const rid = await createOk(a, { title: `응원 ${i + 1}`, max: 10 });
      for (const f of votesOf[i]!) await joinOk(f, { roomId: rid });
      const { aggroUID } = (await call(a, 'chat', { roomId: rid, type: 'A', msg: texts[i] })) as unknown as { aggroUID: string };
      for (const f of votesOf[i]!) expect(await call(f, 'aggroUp', aggroUID)).toMatchObject({ ok: true });
    }
    await expect.poll(async () => (await adminCall(s, 'GET', `/admin/programs/${p}/aggros`)).body.items.length, { timeout: WAIT_MS }).toBe(3);

    const page = await operator(s, ADMIN_TOKEN, 'admin');
    await page.getByTestId('tab-records').click();
    await page.getByTestId('program').fill(p);
    await page.getByTestId('program').dispatchEvent('change');
    await expect.poll(() => page.getByTestId('record-msg').allTextContents(), { timeout: WAIT_MS }).toEqual(texts);
    expect(await page.getByTestId('record-point').allTextContents()).toEqual(['2', '1', '0']);
    await page.screenshot({ path: join(SHOTS, 'admin-records.png'), fullPage: true });
    await page.getByTestId('records-q').fill('심판');
    await page.getByTestId('records-search-submit').click();
    await expect.poll(() => page.getByTestId('record-msg').allTextContents(), { timeout: WAIT_MS }).toEqual(['심판 뭐하냐']);
    const downloaded = page.waitForEvent('download');
    await page.getByTestId('records-csv').click();
    const file = await downloaded;
    expect(file.suggestedFilename()).toBe(`${p}-aggros.csv`);
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n').map((l) => l.split(',')[4])).toEqual(['msg', '심판 뭐하냐']);

    // The admin bans from a watched message; the ban is listed and lifted.
    const roomId = await createOk(authors[2]!, { title: '하프타임', max: 10 });
    await joinOk(fans[0]!, { roomId });
    await call(fans[0]!, 'chat', { roomId, type: 'N', msg: '심판 매수됐다' });
    await page.getByTestId('tab-live').click();
    await page.getByTestId('room').and(page.locator(`[data-id="${roomId}"]`)).getByTestId('room-watch').click();
    const banned = fans[0]!.events.next('system', (n: { code: string }) => n.code === 'BANNED', WAIT_MS);
    await page.getByTestId('watch-message').filter({ hasText: '심판 매수됐다' }).getByTestId('msg-ban').click();
    await banned;
    await page.getByTestId('tab-moderation').click();
    const ban = page.getByTestId('ban').and(page.locator(`[data-user="${fans[0]!.who.userUID}"]`));
    await ban.getByTestId('ban-lift').click();
    await ban.waitFor({ state: 'detached' });
    expect(pageErrors).toEqual([]);
  });
});
