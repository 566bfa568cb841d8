/**
 * The web console in a real browser (Debian's chromium driven by playwright-core) against a real
 * server over TLS. Each browser context is one viewer. Screenshots go to a temporary folder, or
 * to docs/images with ONAIR_SCREENSHOTS=1 (they change on every run, so they are not rewritten
 * by every `npm test`).
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, join as joinProgram, user } from '../helpers/client.js';
import { closeRelays, Relay } from '../helpers/relay.js';
import { startServer, type TestServer } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WAIT_MS = 5000;
const SHOTS = process.env.ONAIR_SCREENSHOTS === '1' ? join(ROOT, 'docs/images') : mkdtempSync(join(tmpdir(), 'onair-shots-'));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Builds the console when it is missing or older than its sources (a fresh clone has none). */
async function consoleBuilt(): Promise<void> {
  const page = statSync(join(ROOT, 'dist/console/index.html'), { throwIfNoEntry: false });
  const sources = Math.max(...['console', 'packages/client/src', 'src/protocol'].map((d) => newest(join(ROOT, d))));
  if (page && page.mtimeMs >= sources) return;
  await build({ configFile: join(ROOT, 'console/vite.config.ts'), logLevel: 'error' });
}

let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await consoleBuilt();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
});

afterEach(async () => {
  pageErrors.length = 0;
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await closeRelays();
  await browser?.close();
});

/** A viewer's page on the console, signed in to `program` with a dev identity. */
async function viewer(server: TestServer, program: string, name: string, userUID = user(name).userUID, baseURL = server.url): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL, viewport: { width: 1200, height: 640 } });
  context.setDefaultTimeout(WAIT_MS);
  // The first load of the console's bundle competes with the other test file for the two cores.
  context.setDefaultNavigationTimeout(20_000);
  contexts.push(context);
  const page = await context.newPage();
  // Anything the page throws or logs as an error (a refused script, a CSP violation) fails the test.
  page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on('console', (msg) => msg.type() === 'error' && pageErrors.push(`${name}: ${msg.text()}`));
  // The console opens on the programmes on air: the programme is put on the schedule, then picked.
  if (!server.app.programmes.schedule.get(program)) {
    await server.app.programmes.put({ scheduleUID: program, title: `Programme ${program}`, broadcaster: 'KBS', startAt: Date.now() - 60_000, endAt: Date.now() + 3_600_000 });
  }
  await page.goto('/console/');
  await page.locator(`[data-testid="program-choice"][value="${program}"]`).check();
  await page.getByTestId('user-uid').fill(userUID);
  await page.getByTestId('display-name').fill(name);
  await page.getByTestId('connect').click();
  await page.getByTestId('lobby').waitFor();
  return page;
}

/** The signed-in user's id, as the page's sign-in form holds it. */
async function userOf(page: Page): Promise<string> {
  return (await page.evaluate(() => (JSON.parse(localStorage.getItem('onair-console') ?? '{}') as { userUID?: string }).userUID)) ?? '';
}

/** The id of the room the page sits in: its lobby list (hidden, kept while in a room) holds
 * the room's summary under the same title. */
async function roomIdOf(page: Page): Promise<string> {
  const title = (await page.getByTestId('room-title').textContent()) ?? '';
  return (await room(page, title).first().getAttribute('data-room-id')) ?? '';
}

function room(page: Page, title: string): Locator {
  return page.getByTestId('room-item').filter({ has: page.getByTestId('room-name').getByText(title, { exact: true }) });
}

/** Waits until the locator's text is `expected`. */
async function hasText(locator: Locator, expected: string): Promise<void> {
  await expect.poll(() => locator.textContent(), { timeout: WAIT_MS }).toBe(expected);
}

/** Waits until the element is inside the viewport (what a screenshot of the page shows). */
async function inView(page: Page, locator: Locator): Promise<void> {
  const height = page.viewportSize()!.height;
  await expect.poll(async () => {
    const box = await locator.boundingBox();
    return box !== null && box.y >= 0 && box.y + box.height <= height;
  }, { timeout: WAIT_MS }).toBe(true);
}

async function createRoom(page: Page, title: string, max: number, password?: string): Promise<void> {
  await page.getByTestId('room-title-input').fill(title);
  await page.getByTestId('room-max-input').fill(String(max));
  if (password) await page.getByTestId('room-password-input').fill(password);
  await page.getByTestId('create').click();
  await hasText(page.getByTestId('room-title'), title);
}

describe('the web console', () => {
  it('two viewers share a room, chat, and vote on an aggro while a third watches the lobby', { timeout: 60_000 }, async () => {
    const server = await startServer({ BATCH_INTERVAL_MS: '50', AGGRO_TTL_MS: '30000' });
    const program = 'news-2026-11-25';
    const [a, b, c] = await Promise.all([viewer(server, program, 'Mina'), viewer(server, program, 'Jun'), viewer(server, program, 'Sora')]);
    await c.getByTestId('no-rooms').waitFor();

    await createRoom(a, 'Election night', 20);
    await hasText(room(c, 'Election night').getByTestId('room-count'), '1 / 20');
    // Two rooms made by plain socket.io clients, so the lobby shows a locked one too.
    const other = await joinProgram(server, program, user('Ari'));
    await call(other, 'createRoom', { title: 'Backstage', max: 8, password: 'sesame' });
    await room(c, 'Backstage').getByTestId('room-lock').waitFor();

    await room(b, 'Election night').getByTestId('room-join').click();
    await hasText(b.getByTestId('room-title'), 'Election night');
    await hasText(room(c, 'Election night').getByTestId('room-count'), '2 / 20');
    await a.getByTestId('member').filter({ hasText: 'Jun' }).waitFor();
    await expect.poll(() => a.getByTestId('member-name').allTextContents(), { timeout: WAIT_MS }).toEqual(['Mina', 'Jun']);
    await hasText(a.getByTestId('member').filter({ hasText: '(you)' }).getByTestId('member-name'), 'Mina');
    await c.screenshot({ path: join(SHOTS, 'console-lobby.png') });

    await a.getByTestId('chat-input').fill('Polls just closed. What a night!');
    await a.getByTestId('send').click();
    await b.getByTestId('chat-text').filter({ hasText: 'Polls just closed. What a night!' }).waitFor();
    await b.getByTestId('chat-input').fill('The north is counting fast');
    await b.getByTestId('send').click();
    await a.getByTestId('chat-text').filter({ hasText: 'The north is counting fast' }).waitFor();
    expect(await a.getByTestId('chat-text').allTextContents()).toEqual(['Polls just closed. What a night!', 'The north is counting fast']);
    await a.screenshot({ path: join(SHOTS, 'console-room.png') });

    await b.getByTestId('aggro-input').fill('Call it now: a landslide!');
    await b.getByTestId('post-aggro').click();
    await hasText(a.getByTestId('aggro-msg'), 'Call it now: a landslide!');
    await hasText(a.getByTestId('aggro-point'), '0');
    await expect.poll(() => b.getByTestId('vote-up').isDisabled(), { timeout: WAIT_MS }).toBe(true);
    // The countdown starts near the aggro's 30 s and goes down on its own.
    const left = async () => Number((await a.getByTestId('aggro-countdown').textContent())?.match(/^(\d+) s left$/)?.[1]);
    const first = await left();
    expect(first).toBeGreaterThan(20);
    expect(first).toBeLessThanOrEqual(30);
    await expect.poll(left, { timeout: WAIT_MS }).toBeLessThan(first);

    await a.getByTestId('vote-up').click();
    await hasText(a.getByTestId('aggro-point'), '1');
    await hasText(b.getByTestId('aggro-point'), '1');
    await expect.poll(() => a.getByTestId('vote-down').isDisabled(), { timeout: WAIT_MS }).toBe(true);

    // A second aggro while one is live: refused, and said in words.
    await a.getByTestId('aggro-input').fill('Not so fast');
    await a.getByTestId('post-aggro').click();
    await hasText(a.getByTestId('error-text'), 'Another aggro is live in this room (EA001)');
    await a.getByTestId('error').getByRole('button', { name: 'Dismiss the error' }).click();
    await a.getByTestId('error').waitFor({ state: 'hidden' });
    await a.screenshot({ path: join(SHOTS, 'console-aggro.png') });

    await b.getByTestId('leave').click();
    await room(b, 'Election night').waitFor();
    await hasText(room(c, 'Election night').getByTestId('room-count'), '1 / 20');
    expect(pageErrors).toEqual([]);
  });

  it('a blip: the page says reconnecting, keeps the room, and catches up with what was said meanwhile; the room sees nothing', { timeout: 60_000 }, async () => {
    // The page reaches the server through a relay, which the test cuts as a tunnel would.
    const server = await startServer({ RECONNECT_GRACE_MS: '20000' });
    const relay = await Relay.start(server);
    const program = 'tunnel-2026';
    const page = await viewer(server, program, 'Mina', user('Mina').userUID, relay.url(server));
    await createRoom(page, 'On the train', 20);
    const roomId = await roomIdOf(page);
    const friend = await joinProgram(server, program, user('Jun'));
    await call(friend, 'joinRoom', { roomId });
    await page.getByTestId('member').filter({ hasText: 'Jun' }).waitFor();
    const mark = friend.events.log.length;

    relay.down = true;
    relay.cut();
    await hasText(page.getByTestId('status'), 'Reconnecting…');
    // The room stays on the page; sending waits for the line.
    await hasText(page.getByTestId('room-title'), 'On the train');
    expect(await page.getByTestId('send').isDisabled()).toBe(true);
    for (const msg of ['터널 들어갔어?', 'still counting']) await call(friend, 'chat', { roomId, msg, type: 'N' });

    relay.down = false;
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toMatch(/back, caught up$/);
    await expect.poll(() => page.getByTestId('chat-text').allTextContents(), { timeout: WAIT_MS }).toEqual(['터널 들어갔어?', 'still counting']);
    expect(await page.getByTestId('send').isDisabled()).toBe(false);
    await page.getByTestId('chat-input').fill('back!');
    await page.getByTestId('send').click();
    await friend.events.some('chat', (m: { msg: string }) => m.msg === 'back!');
    // Nobody in the room saw Mina go or come back.
    expect(friend.events.log.slice(mark).filter((e) => e.event === 'leaveRoom' || e.event === 'joinRoom')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('finds rooms beyond the lobby\'s view by search and paging, and quick join seats the viewer with the history shown', { timeout: 60_000 }, async () => {
    // A view of 3 rooms: the lobby lists 3 of the 12, the search reaches them all.
    const server = await startServer({ LOBBY_VIEW_SIZE: '3', HISTORY_SIZE: '10' });
    const program = 'election-2026';
    const page = await viewer(server, program, 'Mina');
    const owners = await Promise.all(Array.from({ length: 12 }, (_, i) => joinProgram(server, program, user(`owner${i}`))));
    const ids: string[] = [];
    for (const [i, o] of owners.entries()) {
      const res = (await call<{ roomId: string }>(o, 'createRoom', { title: `개표 방송 ${i + 1}`, max: 20 })) as { roomId: string };
      ids.push(res.roomId);
    }
    await call(await joinProgram(server, program, user('forecaster')), 'createRoom', { title: 'Weather', max: 20 });
    // The busiest room, with something said in it.
    const guest = await joinProgram(server, program, user('guest'));
    await call(guest, 'joinRoom', { roomId: ids[4] });
    await call(owners[4]!, 'chat', { roomId: ids[4], msg: '출구조사 나왔어요', type: 'N' });
    await expect.poll(() => page.getByTestId('room-list').getByTestId('room-item').count(), { timeout: WAIT_MS }).toBe(3);

    await page.getByTestId('search-input').fill('개표');
    await page.getByTestId('search-submit').click();
    const results = page.getByTestId('search-results').getByTestId('room-item');
    await expect.poll(() => results.count(), { timeout: WAIT_MS }).toBe(10);
    await page.getByTestId('search-more').click();
    await expect.poll(() => results.count(), { timeout: WAIT_MS }).toBe(12);
    await page.getByTestId('search-more').waitFor({ state: 'hidden' });
    expect(await page.getByTestId('search-results').getByTestId('room-name').allTextContents()).toEqual(Array.from({ length: 12 }, (_, i) => `개표 방송 ${i + 1}`));
    // "More rooms" scrolled the page down: back to the top, so the picture shows the search box
    // with what it found.
    await page.evaluate(() => window.scrollTo(0, 0));
    await inView(page, page.getByTestId('search-input'));
    await inView(page, page.getByTestId('search-results').getByTestId('room-item').first());
    await page.screenshot({ path: join(SHOTS, 'console-search.png') });

    await page.getByTestId('quick-join').click();
    await hasText(page.getByTestId('room-title'), '개표 방송 5');
    await page.getByTestId('chat-text').filter({ hasText: '출구조사 나왔어요' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'console-quick-join.png') });
    expect(pageErrors).toEqual([]);
  });

  it('moderation: the owner edits the room and removes a member, removed messages go, mute and slow-mode notices, reports, and the handover', { timeout: 90_000 }, async () => {
    const server = await startServer({ ADMIN_TOKEN, BATCH_INTERVAL_MS: '50', HISTORY_SIZE: '20' });
    const program = 'final-2026';
    const [a, b, c, d] = await Promise.all([viewer(server, program, 'Mina'), viewer(server, program, 'Jun'), viewer(server, program, 'Sora'), viewer(server, program, 'Ari')]);
    await createRoom(a, 'Final whistle', 20);
    for (const p of [b, c]) {
      await room(p, 'Final whistle').getByTestId('room-join').click();
      await hasText(p.getByTestId('room-title'), 'Final whistle');
    }
    await expect.poll(() => a.getByTestId('member-name').allTextContents(), { timeout: WAIT_MS }).toEqual(['Mina', 'Jun', 'Sora']);

    // The owner's controls are the owner's alone; everyone sees who owns the room.
    await a.getByTestId('owner-badge').waitFor();
    await a.getByTestId('edit-room').waitFor();
    await expect.poll(() => a.getByTestId('member-remove').evaluateAll((els) => els.filter((e) => !(e as HTMLElement).hidden).length), { timeout: WAIT_MS }).toBe(2);
    for (const p of [b, c]) {
      await expect.poll(() => p.getByTestId('member').filter({ hasText: 'Mina' }).getByTestId('member-owner').isVisible(), { timeout: WAIT_MS }).toBe(true);
      expect(await p.getByTestId('edit-room').isVisible()).toBe(false);
      expect(await p.getByTestId('member-remove').evaluateAll((els) => els.filter((e) => !(e as HTMLElement).hidden).length)).toBe(0);
    }

    // A report from the message's Report action reaches the moderators' queue, text and all.
    await b.getByTestId('chat-input').fill('What a goal!');
    await b.getByTestId('send').click();
    await c.getByTestId('chat-input').fill('ref is a 바보, total idiot');
    await c.getByTestId('send').click();
    const abusive = a.getByTestId('chat-message').filter({ hasText: 'total idiot' });
    await abusive.waitFor();
    expect(await a.getByTestId('chat-message').filter({ hasText: 'What a goal!' }).getByTestId('chat-report').isVisible()).toBe(true);
    await abusive.getByTestId('chat-report').click();
    await hasText(a.getByTestId('report-quote'), 'Sora: ref is a 바보, total idiot');
    await a.getByTestId('report-reason').fill('Insults the referee');
    await a.getByTestId('report-send').click();
    await hasText(a.getByTestId('notice-text'), 'Thank you: the moderators will look at it');
    const queue = await adminCall(server, 'GET', '/admin/reports?status=open');
    expect(queue.body.items).toEqual([expect.objectContaining({ kind: 'message', text: 'ref is a 바보, total idiot', reason: 'Insults the referee', targetUserUID: expect.stringMatching(/^Sora-/) })]);
    // Own messages have no Report action.
    expect(await c.getByTestId('chat-message').filter({ hasText: 'total idiot' }).getByTestId('chat-report').count()).toBe(0);

    // A moderator takes the message down: it disappears for everyone in the room.
    const id = await abusive.getAttribute('data-message-id');
    expect((await adminCall(server, 'DELETE', `/admin/programs/${program}/messages/${id}`)).status).toBe(204);
    for (const p of [a, b, c]) await p.getByTestId('chat-message').filter({ hasText: 'total idiot' }).waitFor({ state: 'detached' });
    expect(await a.getByTestId('chat-text').allTextContents()).toEqual(['What a goal!']);

    // Muted: told until when, and a message in the meantime is refused in words.
    expect((await adminCall(server, 'PUT', `/admin/programs/${program}/mutes/${encodeURIComponent(await userOf(c))}`, { seconds: 300 })).status).toBe(200);
    await expect.poll(() => c.getByTestId('notice-text').textContent(), { timeout: WAIT_MS }).toMatch(/^A moderator muted you until .+: you can read but not post$/);
    await c.getByTestId('chat-input').fill('let me speak');
    await c.getByTestId('send').click();
    await expect.poll(() => c.getByTestId('error-text').textContent(), { timeout: WAIT_MS }).toMatch(/^You are muted until .+: you can read but not post \(EM004\)$/);

    // Slow mode on the room: a notice, a badge while it lasts, and the wait in words.
    expect((await adminCall(server, 'PUT', `/admin/programs/${program}/slow-mode`, { seconds: 30, roomId: await roomIdOf(a) })).status).toBe(200);
    await hasText(b.getByTestId('notice-text'), 'Slow mode: one message every 30 s');
    await hasText(b.getByTestId('slow-mode'), 'Slow mode: 1 message / 30 s');
    // (Mina has not written yet, so her first message goes; Jun's last one counts already.)
    await hasText(a.getByTestId('slow-mode'), 'Slow mode: 1 message / 30 s');
    await a.getByTestId('chat-input').fill('Second half now');
    await a.getByTestId('send').click();
    await b.getByTestId('chat-text').filter({ hasText: 'Second half now' }).waitFor();
    await a.getByTestId('chat-input').fill('And again');
    await a.getByTestId('send').click();
    await expect.poll(() => a.getByTestId('error-text').textContent(), { timeout: WAIT_MS }).toMatch(/^Slow mode: wait \d+ s before your next message \(EM005\)$/);
    await a.screenshot({ path: join(SHOTS, 'console-moderation.png') });

    // The owner retitles and locks the room: the lobby shows it at once.
    await a.getByTestId('edit-room').click();
    await a.getByTestId('edit-room-dialog').waitFor();
    await a.getByTestId('edit-title').fill('결승전 같이 봐요');
    await a.getByTestId('edit-password').fill('goal');
    await a.screenshot({ path: join(SHOTS, 'console-owner.png') });
    await a.getByTestId('edit-save').click();
    await a.getByTestId('edit-room-dialog').waitFor({ state: 'hidden' });
    await hasText(a.getByTestId('room-title'), '결승전 같이 봐요');
    await room(d, '결승전 같이 봐요').getByTestId('room-lock').waitFor();
    expect(await room(d, 'Final whistle').count()).toBe(0);

    // The owner removes Sora: back in the lobby, told why, and kept out even with the password.
    await a.getByTestId('member').filter({ hasText: 'Sora' }).getByTestId('member-remove').click();
    await hasText(c.getByTestId('notice-text'), "The room's owner removed you from the room: you cannot go back in for a while");
    await c.getByTestId('lobby').waitFor();
    await expect.poll(() => a.getByTestId('member-name').allTextContents(), { timeout: WAIT_MS }).toEqual(['Mina', 'Jun']);
    await room(c, '결승전 같이 봐요').getByTestId('room-join').click();
    await c.getByTestId('password-input').fill('goal');
    await c.getByTestId('password-join').click();
    await hasText(c.getByTestId('password-error'), "The room's owner removed you from it a short while ago (EJ005)");
    await c.getByTestId('password-cancel').click();

    // The owner leaves: Jun, there the longest, owns the room and gets the controls.
    await a.getByTestId('leave').click();
    await hasText(b.getByTestId('notice-text'), 'You own this room now: you can edit it and remove members');
    await b.getByTestId('edit-room').waitFor();
    await b.getByTestId('owner-badge').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('a locked room asks for its password, refuses a wrong one in words, and lets the right one in', { timeout: 30_000 }, async () => {
    const server = await startServer();
    const owner = await joinProgram(server, 'quiz', user('Host'));
    await call(owner, 'createRoom', { title: 'Finals', max: 4, password: 'open sesame' });
    const p = await viewer(server, 'quiz', 'Noa');

    await room(p, 'Finals').getByTestId('room-lock').waitFor();
    await room(p, 'Finals').getByTestId('room-join').click();
    const dialog = p.getByTestId('password-dialog');
    await dialog.waitFor();
    await hasText(p.getByTestId('password-room'), 'Finals');
    await p.getByTestId('password-input').fill('open sesam');
    await p.getByTestId('password-join').click();
    await hasText(p.getByTestId('password-error'), 'Wrong password (EJ003)');
    expect(await dialog.isVisible()).toBe(true);
    expect(await p.getByTestId('room').isVisible()).toBe(false);

    await p.getByTestId('password-input').fill('open sesame');
    await p.getByTestId('password-join').click();
    await dialog.waitFor({ state: 'hidden' });
    await hasText(p.getByTestId('room-title'), 'Finals');
    await expect.poll(() => p.getByTestId('member-name').allTextContents(), { timeout: WAIT_MS }).toEqual(['Host', 'Noa']);
    expect(pageErrors).toEqual([]);
  });

  it('a second sign-in of the same user ends the first session with a readable notice', { timeout: 30_000 }, async () => {
    const server = await startServer();
    const first = await viewer(server, 'sport', 'Kai', 'kai-1');
    await viewer(server, 'sport', 'Kai', 'kai-1');
    await hasText(first.getByTestId('notice-text'), 'You signed in to this programme somewhere else, so this session was closed');
    await first.getByTestId('sign-in').waitFor();
    await hasText(first.getByTestId('status'), 'Disconnected by the server');
    expect(pageErrors).toEqual([]);
  });

  it('opens on the programmes on air, most viewers first, kept current by the feed', { timeout: 30_000 }, async () => {
    const server = await startServer({ ON_AIR_REFRESH_MS: '100' });
    const now = Date.now();
    await server.app.programmes.put({ scheduleUID: 'quiz', title: 'Quiz Night', broadcaster: 'MBC', startAt: now - 60_000, endAt: now + 3_600_000 });
    await server.app.programmes.put({ scheduleUID: 'match', title: 'The Match', broadcaster: 'KBS', startAt: now - 30_000, endAt: now + 3_600_000 });
    const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: server.url });
    contexts.push(context);
    const p = await context.newPage();
    p.on('pageerror', (err) => pageErrors.push(err.message));
    await p.goto('/console/');
    // The file's servers share one database, whose schedule has the other tests' programmes too.
    const titles = async () => (await p.getByTestId('program-title').allTextContents()).filter((t) => t === 'Quiz Night' || t === 'The Match');
    await expect.poll(titles, { timeout: WAIT_MS }).toEqual(['Quiz Night', 'The Match']);
    await joinProgram(server, 'match', user('fan'));
    await expect.poll(titles, { timeout: WAIT_MS }).toEqual(['The Match', 'Quiz Night']);
    await hasText(p.getByTestId('program-item').filter({ hasText: 'The Match' }).getByTestId('program-viewers'), '1 watching · 0 rooms');
    await p.screenshot({ path: join(SHOTS, 'console-programs.png') });
    expect(pageErrors).toEqual([]);
  });

  it('a refused sign-in is shown in words', { timeout: 30_000 }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: server.url });
    contexts.push(context);
    const p = await context.newPage();
    await p.goto('/console/');
    // A programme the schedule does not list is named by hand.
    await p.getByTestId('other-program').locator('summary').click();
    await p.getByTestId('program').fill('sport');
    await p.getByTestId('user-uid').fill('has space');
    await p.getByTestId('display-name').fill('Kai');
    await p.getByTestId('connect').click();
    await expect.poll(() => p.getByTestId('error-text').textContent(), { timeout: WAIT_MS }).toBe('The server refused this identity or token (AUTH_INVALID)');
    expect(await p.getByTestId('sign-in').isVisible()).toBe(true);
  });
});
