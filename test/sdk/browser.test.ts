/**
 * The SDK in a browser: bundled by Vite for browsers (no Node built-ins may get in), loaded into
 * headless Chromium, talking to a real server over WSS while a Node client answers.
 */
import { chromium, type Browser } from 'playwright-core';
import { build, type Rollup } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@onair/client';
import { WAIT_MS, user } from '../helpers/client.js';
import { sdk } from '../helpers/sdk.js';
import { startServer } from '../helpers/server.js';

const PROGRAM = 'prog-sdk-browser';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let bundle: string;
let browser: Browser;

beforeAll(async () => {
  const out = (await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      lib: { entry: 'packages/client/src/index.ts', formats: ['iife'], name: 'OnAir', fileName: 'onair-client' },
    },
  })) as Rollup.RollupOutput[] | Rollup.RollupOutput;
  const chunk = (Array.isArray(out) ? out[0]! : out).output[0];
  bundle = chunk.code;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--ignore-certificate-errors', '--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
});

describe('in a browser', () => {
  it('bundles without Node modules', () => {
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle).not.toMatch(/require\(["'](node:|fs|net|tls|https?|crypto)["']\)/);
    expect(bundle).not.toMatch(/from ["']node:/);
  });

  it('connects, creates a room, chats and follows another client', async () => {
    // The test page has no origin of the server's own; the server lets any origin in.
    const server = await startServer({ CORS_ORIGINS: '*' });
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    try {
      await page.addScriptTag({ content: bundle });
      const who = user('browser');
      const created = await page.evaluate(
        async ({ url, program, identity, path }) => {
          const { connect } = (window as unknown as { OnAir: typeof import('@onair/client') }).OnAir;
          const client = await connect({ url, program, identity, path, transports: ['websocket'] });
          (window as unknown as { client: unknown }).client = client;
          const room = await client.createRoom({ title: 'from a browser', max: 5 });
          return { room, rooms: [...client.state.rooms.keys()], members: client.state.members };
        },
        { url: server.url, program: PROGRAM, identity: who, path: server.config.socketPath },
      );
      expect(created.rooms).toEqual([created.room.roomId]);
      expect(created.members).toEqual([who]);

      const node = await sdk(server, PROGRAM, user('node'));
      await node.joinRoom(created.room.roomId);
      await node.chat('hello browser');
      const heard = await page.evaluate(async () => {
        const client = (window as unknown as { client: import('@onair/client').OnAirClient }).client;
        const { waitFor } = (window as unknown as { OnAir: typeof import('@onair/client') }).OnAir;
        await waitFor(client.state, (s) => s.messages.length === 1, 3000);
        await client.chat('hello node');
        return { messages: client.state.messages.map((m) => m.msg), members: client.state.members.length };
      });
      expect(heard).toEqual({ messages: ['hello browser', 'hello node'], members: 2 });
      await waitFor(node.state, (s) => s.messages.length === 2, WAIT_MS);
      expect(node.state.messages.map((m) => `${m.displayName}: ${m.msg}`)).toEqual(['node: hello browser', 'browser: hello node']);
    } finally {
      await page.close();
    }
  });
});
