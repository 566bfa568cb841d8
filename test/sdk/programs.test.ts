/**
 * The SDK's app-API side against a real server over TLS: `programsOnAir()` (revalidated with
 * its ETag), the programmes feed kept in `ProgramsState`, and the two record lists; then the
 * feed's state rules on their own.
 */
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { initialPrograms, OnAirApi, OnAirHttpError, programsOnAir, reducePrograms, waitForPrograms, watchPrograms, type ProgramsFeedClient } from '@onair/client';
import type { ProgramOnAir } from '../../src/protocol/index.js';
import { adminCall, ADMIN_TOKEN } from '../helpers/admin.js';
import { user, WAIT_MS } from '../helpers/client.js';
import { sdk } from '../helpers/sdk.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** `fetch` over node:https with the test server's certificate verified (Node's own fetch takes
 * no CA). Only what the SDK uses: a GET with headers. */
function tlsFetch(ca: string | undefined): typeof fetch {
  return ((input: string | URL, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const req = request(String(input), { method: 'GET', headers: (init?.headers ?? {}) as Record<string, string>, ...(ca ? { ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const status = res.statusCode ?? 0;
          resolve(new Response(status === 304 || status === 204 ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      req.on('error', reject);
      req.end();
    })) as typeof fetch;
}

const feeds: ProgramsFeedClient[] = [];
afterEach(() => {
  for (const f of feeds.splice(0)) f.close();
});

async function feedOf(server: TestServer): Promise<ProgramsFeedClient> {
  const f = await watchPrograms({ url: server.url, path: server.config.socketPath, transports: ['websocket'], timeoutMs: WAIT_MS, socketOptions: { reconnection: false, ca: server.ca } });
  feeds.push(f);
  return f;
}

const ENV = { ADMIN_TOKEN, ON_AIR_REFRESH_MS: '100' };

describe('SDK: the app API', () => {
  it('programsOnAir() lists what is on air; OnAirApi revalidates an unchanged list with a 304', async () => {
    const server = await startServer(ENV);
    const now = Date.now();
    expect((await adminCall(server, 'PUT', '/admin/programs/sdk-news', { title: 'News', broadcaster: 'KBS', startAt: now - 1000, endAt: now + 600_000 })).status).toBe(200);
    const fetchTls = tlsFetch(server.ca);
    let statuses: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      const res = await fetchTls(input, init);
      statuses.push(res.status);
      return res;
    };
    const feed = await feedOf(server);
    await waitForPrograms(feed.state, (s) => s.programs.some((p) => p.scheduleUID === 'sdk-news'), WAIT_MS);
    const list = await programsOnAir({ url: server.url, fetch: fetchTls });
    expect(list.programs.find((p) => p.scheduleUID === 'sdk-news')).toMatchObject({ title: 'News', broadcaster: 'KBS', viewers: 0, rooms: 0 });

    const api = new OnAirApi({ url: server.url, fetch: counting });
    const first = await api.programsOnAir();
    const second = await api.programsOnAir();
    expect(statuses).toEqual([200, 304]);
    expect(second).toBe(first);
    statuses = [];

    // A viewer changes the list: the next call gets it whole.
    await sdk(server, 'sdk-news');
    await waitForPrograms(feed.state, (s) => s.programs.find((p) => p.scheduleUID === 'sdk-news')?.viewers === 1, WAIT_MS);
    const third = await api.programsOnAir();
    expect(third.programs.find((p) => p.scheduleUID === 'sdk-news')?.viewers).toBe(1);
    expect(statuses).toEqual([200]);
  });

  it('the feed keeps ProgramsState: programmes added and removed as the schedule moves, viewers as they come', async () => {
    const server = await startServer(ENV);
    const feed = await feedOf(server);
    expect(feed.state.loaded).toBe(true);
    const now = Date.now();
    expect((await adminCall(server, 'PUT', '/admin/programs/sdk-late', { title: 'Late', broadcaster: 'MBC', startAt: now + 3_600_000, endAt: now + 7_200_000 })).status).toBe(200);
    expect((await adminCall(server, 'PUT', '/admin/programs/sdk-live', { title: 'Live', broadcaster: 'MBC', startAt: now - 1000, endAt: now + 600_000 })).status).toBe(200);
    await waitForPrograms(feed.state, (s) => s.programs.some((p) => p.scheduleUID === 'sdk-live'), WAIT_MS);
    await sdk(server, 'sdk-live', user('a'));
    await sdk(server, 'sdk-live', user('b'));
    await waitForPrograms(feed.state, (s) => s.programs.find((p) => p.scheduleUID === 'sdk-live')?.viewers === 2, WAIT_MS);
    expect((await adminCall(server, 'DELETE', '/admin/programs/sdk-live')).status).toBe(204);
    await waitForPrograms(feed.state, (s) => !s.programs.some((p) => p.scheduleUID === 'sdk-live'), WAIT_MS);
    // A fresh connection lists the upcoming one.
    const again = await feedOf(server);
    expect(again.state.upcoming.map((p) => p.scheduleUID)).toContain('sdk-late');
  });

  it("lists a programme's best aggros and the caller's own; my list without an identity is refused", async () => {
    const server = await startServer(ENV, { records: undefined });
    const program = `sdk-rec-${process.pid}`;
    const who = { ...user('author'), photoURL: 'https://img.example/a.png' };
    const c = await sdk(server, program, who);
    await c.createRoom({ title: 'sofa', max: 4 });
    const { aggroUID } = await c.postAggro('best moment');
    await waitForStop(c, aggroUID);
    const api = new OnAirApi({ url: server.url, userUID: who.userUID, fetch: tlsFetch(server.ca) });
    const best = await api.programAggros(program, { limit: 5 });
    expect(best).toEqual({ items: [{ displayName: 'author', photoURL: 'https://img.example/a.png', msg: 'best moment', point: 0, endedAt: expect.any(Number) }], next: null });
    const mine = await api.myAggros();
    expect(mine.items.map((a) => a.aggroUID)).toEqual([aggroUID]);
    const anonymous = new OnAirApi({ url: server.url, fetch: tlsFetch(server.ca) });
    const refused = await anonymous.myAggros().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OnAirHttpError);
    expect(refused).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    await expect(api.programAggros(program, { limit: 500 })).rejects.toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });
});

/** Resolves when the client's state shows the aggro gone (its `stopAggro` came: the record is
 * written before it is sent). */
function waitForStop(c: Awaited<ReturnType<typeof sdk>>, aggroUID: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no stopAggro')), 5000);
    const off = c.on('stopAggro', (id) => {
      if (id !== aggroUID) return;
      clearTimeout(t);
      off();
      resolve();
    });
  });
}

describe('SDK: reducePrograms', () => {
  const p = (id: string, viewers: number, startAt = 0): ProgramOnAir => ({ scheduleUID: id, title: id, broadcaster: 'b', startAt, endAt: 10, viewers, rooms: 0 });

  it('loads, adds, removes and re-sorts by viewers; unchanged counts keep the same snapshot', () => {
    let s = reducePrograms(initialPrograms(), { own: 'connected' });
    s = reducePrograms(s, { event: 'loadPrograms', data: { programs: [p('a', 1), p('b', 5)], upcoming: [{ scheduleUID: 'c', title: 'c', broadcaster: 'b', startAt: 5, endAt: 9 }] } });
    expect(s.programs.map((x) => x.scheduleUID)).toEqual(['b', 'a']);
    s = reducePrograms(s, { event: 'addProgram', data: p('c', 0, 5) });
    expect(s.upcoming).toEqual([]);
    s = reducePrograms(s, { event: 'viewers', data: { a: 9 } });
    expect(s.programs.map((x) => `${x.scheduleUID}:${x.viewers}`)).toEqual(['a:9', 'b:5', 'c:0']);
    expect(reducePrograms(s, { event: 'viewers', data: { a: 9, unknown: 3 } })).toBe(s);
    s = reducePrograms(s, { event: 'removeProgram', data: 'b' });
    expect(s.programs.map((x) => x.scheduleUID)).toEqual(['a', 'c']);
    expect(reducePrograms(s, { event: 'removeProgram', data: 'b' })).toBe(s);
    s = reducePrograms(s, { own: 'disconnected' });
    expect(s).toMatchObject({ connected: false, loaded: false });
  });
});
