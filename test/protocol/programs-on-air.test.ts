/**
 * Spec section 10, the programmes on air: `GET /v1/programs/on-air` and the live feed
 * `/_programs`, with viewers counted on every server. Runs on one server and on the cluster
 * topology (three servers on Redis): viewers connect to different servers, the schedule is put
 * through one server's admin API, the list and the feed are read from others.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminCall, ADMIN_TOKEN } from '../helpers/admin.js';
import { appGet, feedUntil, feedView, openFeed } from '../helpers/app-api.js';
import { call, client, join, user } from '../helpers/client.js';
import { startTopology } from '../helpers/topology.js';
import { waitUntil } from '../helpers/wait.js';

const ENV = { ADMIN_TOKEN, ON_AIR_REFRESH_MS: '100', SCHEDULE_REFRESH_MS: '100' };
const name = (tag: string) => `${tag}-${randomBytes(3).toString('hex')}`;

async function putProgramme(t: Awaited<ReturnType<typeof startTopology>>, scheduleUID: string, startAt: number, endAt: number, title = `Title of ${scheduleUID}`) {
  const r = await adminCall(t.server(0), 'PUT', `/admin/programs/${scheduleUID}`, { title, broadcaster: 'KBS', startAt, endAt });
  expect(r.status).toBe(200);
}

describe('programmes on air (section 10)', () => {
  it('counts viewers on every server, most viewers first, with upcoming soonest first', async () => {
    const t = await startTopology(ENV);
    const now = Date.now();
    const [big, small, later, soon] = [name('big'), name('small'), name('later'), name('soon')];
    await putProgramme(t, big, now - 60_000, now + 600_000);
    await putProgramme(t, small, now - 60_000, now + 600_000);
    await putProgramme(t, later, now + 7_200_000, now + 9_000_000);
    await putProgramme(t, soon, now + 3_600_000, now + 5_000_000);
    const feed = await openFeed(t.server(1));
    await feedUntil(feed, (v) => v.has(big) && v.has(small), 'both programmes are on the feed');

    // Three viewers of `big` spread over the servers, one of `small`; one room in `big`.
    const viewers = await Promise.all([0, 1, 2].map((i) => join(t.server(i), big, user(`v${i}`))));
    await join(t.server(2), small, user('s'));
    expect(await call(viewers[0]!, 'createRoom', { title: 'sofa', max: 4 })).toMatchObject({ ok: true });
    await feedUntil(feed, (v) => v.get(big)?.viewers === 3 && v.get(small)?.viewers === 1, 'the feed counts 3 and 1');

    const other = t.server(2);
    let body: any;
    await waitUntil(
      async () => {
        body = (await appGet(other, '/v1/programs/on-air')).body;
        const mine = body.programs.filter((p: { scheduleUID: string }) => p.scheduleUID === big || p.scheduleUID === small);
        return mine.length === 2 && mine[0].viewers === 3 && mine[0].rooms === 1 && mine[1].viewers === 1;
      },
      5000,
      'the list counts 3 viewers and 1 room in big, 1 viewer in small',
    );
    const mine = body.programs.filter((p: { scheduleUID: string }) => p.scheduleUID === big || p.scheduleUID === small);
    expect(mine.map((p: { scheduleUID: string }) => p.scheduleUID)).toEqual([big, small]);
    expect(Object.keys(mine[0]).sort()).toEqual(['broadcaster', 'endAt', 'rooms', 'scheduleUID', 'startAt', 'title', 'viewers']);
    expect(mine[0]).toMatchObject({ title: `Title of ${big}`, broadcaster: 'KBS', startAt: now - 60_000, endAt: now + 600_000 });
    const ids = body.upcoming.map((p: { scheduleUID: string }) => p.scheduleUID);
    expect(ids.indexOf(soon)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(soon)).toBeLessThan(ids.indexOf(later));
    expect(ids).not.toContain(big);
    // Viewers everywhere were counted by every server's list, whichever one is asked.
    for (const i of [0, 1]) {
      await waitUntil(async () => (await appGet(t.server(i), '/v1/programs/on-air')).body.programs.some((p: any) => p.scheduleUID === big && p.viewers === 3), 5000, `server ${i} counts 3`);
    }

    // A viewer leaving is counted down on the feed.
    viewers[2]!.disconnect();
    await feedUntil(feed, (v) => v.get(big)?.viewers === 2, 'the feed counts 2');
  });

  it('feeds addProgram as a programme starts and removeProgram as it ends, or is removed', async () => {
    const t = await startTopology(ENV);
    const now = Date.now();
    const [short, removed] = [name('short'), name('removed')];
    await putProgramme(t, short, now + 1500, now + 3500);
    await putProgramme(t, removed, now - 1000, now + 600_000);
    const feed = await openFeed(t.server(t.size - 1));
    await feedUntil(feed, (v) => v.has(removed), 'the on-air programme is listed');
    expect(feedView(feed).has(short)).toBe(false);

    const [added] = (await feed.events.some('addProgram', (p: { scheduleUID: string }) => p.scheduleUID === short, 6000)) as [Record<string, unknown>];
    expect(added).toEqual({ scheduleUID: short, title: `Title of ${short}`, broadcaster: 'KBS', startAt: now + 1500, endAt: now + 3500, viewers: 0, rooms: 0 });
    await feed.events.some('removeProgram', (id: string) => id === short, 6000);

    expect((await adminCall(t.server(0), 'DELETE', `/admin/programs/${removed}`)).status).toBe(204);
    await feed.events.some('removeProgram', (id: string) => id === removed, 6000);
    // Each change once, in order.
    expect(feed.events.all('addProgram', (p: { scheduleUID: string }) => p.scheduleUID === short)).toHaveLength(1);
    expect(feed.events.all('removeProgram', (id: string) => id === short)).toHaveLength(1);
  });

  it('batches viewers at most once per BATCH_INTERVAL_MS, carrying only counts that changed', async () => {
    const t = await startTopology(ENV);
    const now = Date.now();
    const p = name('burst');
    await putProgramme(t, p, now - 1000, now + 600_000);
    const feed = await openFeed(t.server(0));
    await feedUntil(feed, (v) => v.has(p), 'listed');
    await Promise.all(Array.from({ length: 6 }, (_, i) => join(t.server(i), p, user(`b${i}`))));
    await feedUntil(feed, (v) => v.get(p)?.viewers === 6, 'six viewers');
    const times = feed.events.all('viewers').map((s) => s.at);
    const interval = Number(t.server(0).config.batchIntervalMs);
    // A little slack for timers firing early relative to the client's clock.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(interval - 15);
    for (const s of feed.events.all('viewers')) for (const n of Object.values(s.args[0] as Record<string, number>)) expect(typeof n).toBe('number');
  });

  it('answers ETag and a short Cache-Control, and 304 to If-None-Match', async () => {
    const t = await startTopology(ENV);
    const first = await appGet(t.server(0), '/v1/programs/on-air');
    expect(first.status).toBe(200);
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const again = await appGet(t.server(0), '/v1/programs/on-air', { 'if-none-match': first.headers.etag! });
    // The list may have moved on between the two (another test's viewers): then it is a 200.
    if (again.headers.etag === first.headers.etag) {
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
    } else expect(again.status).toBe(200);
    const stale = await appGet(t.server(0), '/v1/programs/on-air', { 'if-none-match': '"not-the-tag"' });
    expect(stale.status).toBe(200);
  });

  it('reserves /_programs: no programme can be named with a leading underscore', async () => {
    const t = await startTopology(ENV);
    expect((await adminCall(t.server(0), 'PUT', '/admin/programs/_programs', { title: 'x', broadcaster: 'y', startAt: 1, endAt: 2 })).body).toMatchObject({ code: 'BAD_REQUEST' });
    const c = client(t.server(0), '_other', { auth: user() });
    const refused = new Promise<Error>((resolve) => c.once('connect_error', resolve));
    c.connect();
    expect((await refused).message).toBe('Invalid namespace');
    // The feed takes no events: a call is answered EV001 and the socket stays.
    const feed = await openFeed(t.server(0));
    expect(await (feed as unknown as { timeout(ms: number): { emitWithAck(event: string): Promise<unknown> } }).timeout(3000).emitWithAck('loadRooms')).toMatchObject({ ok: false, code: 'EV001' });
    expect(feed.connected).toBe(true);
  });
});
