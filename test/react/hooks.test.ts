/**
 * @onair/react with real React: react-dom renders the hooks in headless Chromium (Debian's
 * chromium through playwright-core), the hooks' client talks to a real server over WSS, and
 * Node-side SDK clients make the changes the page must show. What is asserted is what a render
 * put on the page.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, defaultClientConditions, type Rollup } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OnAirClient, waitFor } from '@onair/client';
import { user, WAIT_MS, type Who } from '../helpers/client.js';
import { sdk } from '../helpers/sdk.js';
import { startServer, type TestServer } from '../helpers/server.js';

const P = 'prog-react';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let bundle: string;
let browser: Browser;
let server: TestServer;

beforeAll(async () => {
  const out = (await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions: ['@onair/source', ...defaultClientConditions] },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      write: false,
      minify: false,
      lib: { entry: 'test/react/harness.ts', formats: ['iife'], name: 'Harness', fileName: 'harness' },
    },
  })) as Rollup.RollupOutput[] | Rollup.RollupOutput;
  bundle = (Array.isArray(out) ? out[0]! : out).output[0].code;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--ignore-certificate-errors', '--no-sandbox'] });
}, 60_000);

// A server per test (the helper closes it after each): the page has no origin of the server's,
// and an aggro lives long enough to watch it count down.
beforeEach(async () => {
  server = await startServer({ CORS_ORIGINS: '*', AGGRO_TTL_MS: '4000' });
});

afterAll(async () => {
  await browser?.close();
});

interface Seen {
  session: { status: string; connected: boolean; recovered: boolean; resumed: boolean; error: string | null; connections: number };
  featured: string[];
  search: { rooms: string[]; hasMore: boolean; loading: boolean } | null;
  room: { roomId: string | null; title: string | null; members: string[]; messages: string[]; hasOlder: boolean };
  aggro: { msg: string; point: number; secondsLeft: number; mine: boolean } | null;
  vote: { pending: boolean; error: string | null; text: string | null };
}

async function seen(page: Page): Promise<Seen> {
  return JSON.parse((await page.textContent('#out')) ?? 'null') as Seen;
}

/** Waits until the page's last render satisfies `check` (an expect inside it). */
async function rendered(page: Page, check: (s: Seen) => void): Promise<void> {
  await expect.poll(async () => {
    const s = await seen(page);
    try {
      check(s);
      return true;
    } catch {
      return s;
    }
  }, { timeout: WAIT_MS, interval: 50 }).toBe(true);
}

async function openPage(who: Who | string, program = P): Promise<Page> {
  const page = await browser.newPage({ ignoreHTTPSErrors: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent('<div id="root"></div>');
  await page.addScriptTag({ content: bundle });
  await page.evaluate(
    (opts) => window.startHarness(opts),
    { url: server.url, program, identity: typeof who === 'string' ? user(who) : who, path: server.config.socketPath },
  );
  page.on('close', () => expect(errors).toEqual([]));
  return page;
}

describe('@onair/react for React Native', () => {
  it('uses no DOM: it imports only react and @onair/client, and names no browser global', () => {
    const dir = fileURLToPath(new URL('../../packages/react/src/', import.meta.url));
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of source.matchAll(/from\s+['"]([^'"]+)['"]/g)) expect(spec, file).toMatch(/^(react|@onair\/client|\.\/[a-z-]+\.js)$/);
      expect(source, file).not.toMatch(/\b(document|window|navigator|localStorage|HTMLElement)\b/);
    }
  });
});

describe('@onair/react in a real React tree', () => {
  it('session: connecting, then connected; pause and resume from the app', async () => {
    const page = await openPage('session', `${P}-session`);
    await rendered(page, (s) => expect(s.session).toMatchObject({ status: 'connected', connected: true, recovered: false, resumed: false, connections: 1 }));
    expect(await page.evaluate(() => window.harness.statuses)).toEqual(['connecting', 'connected']);
    await page.evaluate(() => window.harness.client.pause());
    await rendered(page, (s) => expect(s.session).toMatchObject({ status: 'paused', connected: false }));
    await page.evaluate(() => window.harness.client.resume());
    await rendered(page, (s) => expect(s.session).toMatchObject({ status: 'connected', connected: true, connections: 2 }));
    await page.close();
  });

  it('lobby: the featured view live, search with pages', async () => {
    const program = `${P}-lobby`;
    const page = await openPage('lobby', program);
    const a = await sdk(server, program, user('a'));
    const { roomId } = await a.createRoom({ title: 'Alpha 1', max: 10 });
    await rendered(page, (s) => expect(s.featured).toEqual(['Alpha 1:1']));
    const b = await sdk(server, program, user('b'));
    await b.joinRoom(roomId);
    await rendered(page, (s) => expect(s.featured).toEqual(['Alpha 1:2']));
    for (const title of ['Alpha 2', 'Alpha 3', 'Beta']) await (await sdk(server, program, user())).createRoom({ title, max: 10 });
    await rendered(page, (s) => expect(s.featured).toHaveLength(4));

    await page.evaluate(() => window.harness.search('alpha', 2));
    await rendered(page, (s) => expect(s.search).toMatchObject({ hasMore: true, loading: false }));
    const first = (await seen(page)).search!.rooms;
    expect(first).toHaveLength(2);
    await page.evaluate(() => window.harness.loadMore());
    await rendered(page, (s) => expect(s.search).toMatchObject({ hasMore: false, loading: false }));
    expect([...(await seen(page)).search!.rooms].sort()).toEqual(['Alpha 1', 'Alpha 2', 'Alpha 3']);
    expect((await seen(page)).search!.rooms.slice(0, 2)).toEqual(first);

    // A new query starts again from its first page.
    await page.evaluate(() => window.harness.search('beta', 2));
    await rendered(page, (s) => expect(s.search).toEqual({ rooms: ['Beta'], hasMore: false, loading: false }));
    await page.close();
  });

  it('room: members, history then live chat, older pages; the aggro with its countdown and typed vote errors', async () => {
    const program = `${P}-room`;
    const host = await sdk(server, program, user('host'));
    const { roomId } = await host.createRoom({ title: 'Election night', max: 10 });
    await host.chat('before you came');
    const page = await openPage('viewer', program);
    await page.evaluate((id) => window.harness.client.joinRoom(id), roomId);
    await rendered(page, (s) =>
      expect(s.room).toEqual({ roomId, title: 'Election night', members: ['host', 'viewer'], messages: ['host: before you came'], hasOlder: true }),
    );
    await host.chat('hello viewer');
    await rendered(page, (s) => expect(s.room.messages).toEqual(['host: before you came', 'host: hello viewer']));
    // The join brought the whole history; the page before it is empty, so there is nothing older.
    await page.evaluate(() => window.harness.loadOlder());
    await rendered(page, (s) => expect(s.room).toMatchObject({ hasOlder: false, messages: ['host: before you came', 'host: hello viewer'] }));

    await host.postAggro('what a result');
    await rendered(page, (s) => expect(s.aggro).toMatchObject({ msg: 'what a result', point: 0, mine: false }));
    const startedAt = (await seen(page)).aggro!.secondsLeft;
    expect(startedAt).toBeGreaterThanOrEqual(2);
    // The countdown moves by itself (re-rendered by the hook's timer, not by any event).
    await rendered(page, (s) => expect(s.aggro!.secondsLeft).toBeLessThan(startedAt));

    await page.evaluate(() => window.harness.vote('up'));
    await rendered(page, (s) => expect(s.aggro?.point).toBe(1));
    await waitFor(host.state, (s) => s.aggro?.point === 1, WAIT_MS);
    await page.evaluate(() => window.harness.vote('up'));
    await rendered(page, (s) => expect(s.vote).toEqual({ pending: false, error: 'EA004', text: 'already voted on this aggro, or it is your own' }));

    // The server ends it; the page lets it go.
    await rendered(page, (s) => expect(s.aggro).toBeNull());
    await page.close();
  });

  it('a session replaced by another device shows as stopped', async () => {
    const program = `${P}-dup`;
    const who = user('dup');
    const page = await openPage(who, program);
    // The same user from another device: this page's socket is replaced (DUPLICATE_SESSION).
    const other = new OnAirClient({ url: server.url, program, identity: who, path: server.config.socketPath, timeoutMs: WAIT_MS, socketOptions: { reconnection: false, ...(server.ca ? { ca: server.ca } : {}) } });
    await other.open();
    await rendered(page, (s) => expect(s.session).toMatchObject({ status: 'stopped', connected: false }));
    other.close();
    await page.close();
  });
});
