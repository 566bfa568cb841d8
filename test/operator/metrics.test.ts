/**
 * Spec section 6, `GET /metrics`: Prometheus's text format without the admin token, counting what
 * real clients over real TLS do. Each server has a registry of its own, so a test reads its own
 * server's figures; still, counters are checked as exact increments between two scrapes around
 * an action, gauges as values once the action is known to be done (an event, an ack, or a poll
 * of the scrape with a deadline for what follows a disconnect). Also `/readyz` with the database.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqliteRecordStore } from '../../src/records/sqlite-store.js';
import type { AckResult, UserInfo } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, client, join, refusal, user } from '../helpers/client.js';
import { httpGet, parseExposition, samples, scrape, scrapeUntil, value, type Exposition } from '../helpers/metrics.js';
import { startServer, testDataDir } from '../helpers/server.js';

const HOUR = 3_600_000;

type Joined = Awaited<ReturnType<typeof join>>;

function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

function ok<T extends object>(res: AckResult<T>): { ok: true } & T {
  if (!res.ok) throw new Error(`expected ok, got ${res.code} (${res.message})`);
  return res;
}

/** How much each named series grew between two scrapes. */
function delta(before: Exposition, after: Exposition, name: string, labels: Record<string, string> = {}): number {
  return value(after, name, labels) - value(before, name, labels);
}

/** `c` sits in the room once it has seen its own `joinRoom`. */
async function enter(c: Joined, roomId: string): Promise<void> {
  const self = c.events.next('joinRoom', (u: UserInfo) => u.userUID === c.who.userUID);
  ok(await call(c, 'joinRoom', { roomId }));
  await self;
}

const FAMILIES: [string, string][] = [
  ['onair_connections', 'gauge'],
  ['onair_connects_total', 'counter'],
  ['onair_rooms', 'gauge'],
  ['onair_live_aggros', 'gauge'],
  ['onair_rooms_created_total', 'counter'],
  ['onair_rooms_deleted_total', 'counter'],
  ['onair_joins_total', 'counter'],
  ['onair_leaves_total', 'counter'],
  ['onair_messages_total', 'counter'],
  ['onair_aggros_total', 'counter'],
  ['onair_aggro_ends_total', 'counter'],
  ['onair_votes_total', 'counter'],
  ['onair_batched_emits_total', 'counter'],
  ['onair_refusals_total', 'counter'],
  ['onair_rate_limited_total', 'counter'],
  ['onair_event_handler_seconds', 'histogram'],
  ['onair_backend_errors_total', 'counter'],
];

describe('GET /metrics', () => {
  it('answers the Prometheus text format without a token, even with the admin API on; every family is described', async () => {
    const server = await startServer({ ADMIN_TOKEN });
    const res = await httpGet(server, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    const e = parseExposition(res.text);
    for (const [name, type] of FAMILIES) {
      expect(e.types.get(name), name).toBe(type);
      expect(e.help.get(name)?.length, name).toBeGreaterThan(0);
    }
    // The process's own figures (prom-client's defaults), under onair_process_ and onair_nodejs_ (docs/admin-api.md).
    const families = [...e.types.keys()];
    const cpu = families.find((n) => /^onair_process_cpu_user_seconds_total$/.test(n));
    expect(cpu && e.types.get(cpu)).toBe('counter');
    const rss = families.find((n) => /^onair_process_resident_memory_bytes$/.test(n));
    expect(rss && value(e, rss)).toBeGreaterThan(0);
    expect(families.some((n) => n.startsWith('onair_nodejs_'))).toBe(true);
    // Present before anything failed: described, with no series yet.
    expect(samples(e, 'onair_backend_errors_total')).toEqual([]);
    // A wrong token changes nothing: /metrics does not look at it.
    const withBadToken = await httpGet(server, '/metrics', { authorization: 'Bearer wrong' });
    expect(withBadToken.status).toBe(200);
  });

  it('two servers in one process keep figures of their own', async () => {
    const [s1, s2] = await Promise.all([startServer(), startServer()]);
    const p = uid('own');
    await join(s1, p);
    expect(value(await scrape(s1), 'onair_connects_total', { program: p })).toBe(1);
    expect(value(await scrape(s2), 'onair_connects_total', { program: p })).toBe(0);
  });

  it('onair_connections and onair_rooms by programme, following connects, rooms and disconnects', async () => {
    const server = await startServer({ AGGRO_TTL_MS: String(HOUR) });
    const p1 = uid('conn-a');
    const p2 = uid('conn-b');
    const [a1, a2, b1] = await Promise.all([join(server, p1), join(server, p1), join(server, p2)]);
    ok(await call(a1, 'createRoom', { title: 'one', max: 5 }));
    const { roomId } = ok(await call<{ roomId: string }>(a2, 'createRoom', { title: 'two', max: 5 }));
    ok(await call(a2, 'chat', { roomId, msg: 'go', type: 'A' }));
    let e = await scrape(server);
    expect(value(e, 'onair_connections', { program: p1 })).toBe(2);
    expect(value(e, 'onair_connections', { program: p2 })).toBe(1);
    expect(value(e, 'onair_connects_total', { program: p1 })).toBe(2);
    expect(value(e, 'onair_rooms', { program: p1 })).toBe(2);
    expect(value(e, 'onair_rooms', { program: p2 })).toBe(0);
    expect(value(e, 'onair_live_aggros', { program: p1 })).toBe(1);
    expect(value(e, 'onair_rooms_created_total', { kind: 'user' })).toBe(2);

    // a2 goes: its room (it was the last member) and its aggro go with it.
    a2.disconnect();
    e = await scrapeUntil(server, (x) => value(x, 'onair_connections', { program: p1 }) === 1 && value(x, 'onair_rooms', { program: p1 }) === 1, 'a2 gone');
    expect(value(e, 'onair_live_aggros', { program: p1 })).toBe(0);
    expect(value(e, 'onair_connects_total', { program: p1 })).toBe(2);

    // b1 goes: p2 is released and its series is dropped.
    const released = new Promise<void>((resolve) => {
      const on = (p: string) => {
        if (p !== p2) return;
        server.events.off('program-released', on);
        resolve();
      };
      server.events.on('program-released', on);
    });
    b1.disconnect();
    await released;
    e = await scrape(server);
    expect(samples(e, 'onair_connections', { program: p2 })).toEqual([]);
    // Any client can name a programme in open mode: no series may outlive its programme here.
    expect(samples(e, 'onair_connects_total', { program: p2 })).toEqual([]);
    expect(samples(e, 'onair_rooms', { program: p2 })).toEqual([]);
    expect(value(e, 'onair_connections', { program: p1 })).toBe(1);
    expect(a1.connected).toBe(true);
  });

  it('joins, leaves, messages, aggros, votes by direction, batched emits by event, room_emptied', async () => {
    const server = await startServer({ AGGRO_TTL_MS: String(HOUR) });
    const p = uid('counts');
    const [watcher, a, b, c, d] = await Promise.all([join(server, p), join(server, p), join(server, p), join(server, p), join(server, p)]);

    // Rooms and joins; every count the lobby gets is one batched emit.
    let before = await scrape(server);
    const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 10 }));
    const counted = (n: number) => watcher.events.some('count', (x: { roomId: string; count: number }) => x.roomId === roomId && x.count === n);
    for (const [m, n] of [[b, 2], [c, 3], [d, 4]] as const) {
      await enter(m, roomId);
      await counted(n);
    }
    let after = await scrape(server);
    expect(delta(before, after, 'onair_joins_total')).toBe(4);
    expect(delta(before, after, 'onair_rooms_created_total', { kind: 'user' })).toBe(1);
    expect(delta(before, after, 'onair_batched_emits_total', { event: 'count' })).toBe(watcher.events.all('count', (x: { roomId: string }) => x.roomId === roomId).length);
    expect(delta(before, after, 'onair_batched_emits_total', { event: 'count' })).toBe(3);

    // Chat messages.
    before = after;
    ok(await call(a, 'chat', { roomId, msg: 'hello', type: 'N' }));
    ok(await call(b, 'chat', { roomId, msg: 'hi', type: 'N' }));
    after = await scrape(server);
    expect(delta(before, after, 'onair_messages_total')).toBe(2);
    expect(delta(before, after, 'onair_aggros_total')).toBe(0);

    // An aggro and its votes, each vote's new point flushed (and waited for) before the next.
    before = after;
    const { aggroUID } = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'goal', type: 'A' }));
    const point = (n: number) => a.events.next('aggroPoint', (x: { aggroUID: string; point: number }) => x.aggroUID === aggroUID && x.point === n);
    for (const [voter, event, n] of [[b, 'aggroUp', 1], [c, 'aggroUp', 2], [d, 'aggroDown', 1]] as const) {
      const seen = point(n);
      ok(await call(voter, event, aggroUID));
      await seen;
    }
    after = await scrape(server);
    expect(delta(before, after, 'onair_aggros_total')).toBe(1);
    expect(delta(before, after, 'onair_votes_total', { direction: 'up' })).toBe(2);
    expect(delta(before, after, 'onair_votes_total', { direction: 'down' })).toBe(1);
    expect(delta(before, after, 'onair_batched_emits_total', { event: 'aggroPoint' })).toBe(3);
    expect(delta(before, after, 'onair_messages_total')).toBe(0);
    expect(value(after, 'onair_live_aggros', { program: p })).toBe(1);

    // Everyone leaves; the last one out ends the aggro (room_emptied; counted before the lobby
    // hears of the room's deletion) and deletes the room.
    before = after;
    for (const m of [b, c, d]) ok(await call(m, 'leaveRoom', roomId));
    expect(value(await scrape(server), 'onair_live_aggros', { program: p })).toBe(1);
    const deleted = watcher.events.next('deleteRoom', (x: { roomId: string }) => x.roomId === roomId);
    ok(await call(a, 'leaveRoom', roomId));
    await deleted;
    after = await scrape(server);
    expect(delta(before, after, 'onair_leaves_total')).toBe(4);
    expect(delta(before, after, 'onair_aggro_ends_total', { reason: 'room_emptied' })).toBe(1);
    expect(delta(before, after, 'onair_aggro_ends_total', { reason: 'expired' })).toBe(0);
    expect(delta(before, after, 'onair_rooms_deleted_total')).toBe(1);
    expect(value(after, 'onair_rooms', { program: p })).toBe(0);
    expect(value(after, 'onair_live_aggros', { program: p })).toBe(0);
  });

  it('a member disconnecting counts as a leave', async () => {
    const server = await startServer();
    const p = uid('drop');
    const [a, b] = await Promise.all([join(server, p), join(server, p)]);
    const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 10 }));
    await enter(b, roomId);
    const before = await scrape(server);
    const left = a.events.next('leaveRoom', (u: UserInfo) => u.userUID === b.who.userUID);
    b.disconnect();
    await left;
    const after = await scrape(server);
    expect(delta(before, after, 'onair_leaves_total')).toBe(1);
    expect(delta(before, after, 'onair_joins_total')).toBe(0);
  });

  it('aggro ends by reason: expired, and removed by an operator', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '300', ADMIN_TOKEN });
    const p = uid('ends');
    const [a, b] = await Promise.all([join(server, p), join(server, p)]);
    const r1 = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'one', max: 5 })).roomId;
    const r2 = ok(await call<{ roomId: string }>(b, 'createRoom', { title: 'two', max: 5 })).roomId;

    let before = await scrape(server);
    const first = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId: r1, msg: 'soon over', type: 'A' })).aggroUID;
    await a.events.some('stopAggro', (id: string) => id === first);
    let after = await scrape(server);
    expect(delta(before, after, 'onair_aggro_ends_total', { reason: 'expired' })).toBe(1);
    expect(delta(before, after, 'onair_aggros_total')).toBe(1);

    before = after;
    const second = ok(await call<{ aggroUID: string }>(b, 'chat', { roomId: r2, msg: 'not for long', type: 'A' })).aggroUID;
    const removed = b.events.next('deleteAggro', (id: string) => id === second);
    expect((await adminCall(server, 'DELETE', `/admin/programs/${p}/aggros/${second}`)).status).toBe(204);
    await removed;
    after = await scrape(server);
    expect(delta(before, after, 'onair_aggro_ends_total', { reason: 'removed' })).toBe(1);
    expect(delta(before, after, 'onair_aggro_ends_total', { reason: 'expired' })).toBe(0);
  });

  it('refusals by code: a handshake (AUTH_REQUIRED, PROGRAM_NOT_ON_AIR) and calls (EJ001, EA004)', async () => {
    const now = Date.now();
    const past = uid('past');
    const p = uid('refusals');
    // A programme that is over, put in the schedule through the admin API.
    const open = await startServer({ ADMIN_TOKEN, AGGRO_TTL_MS: String(HOUR) });
    expect((await adminCall(open, 'PUT', `/admin/programs/${past}`, { title: 'Old', broadcaster: 'TV', startAt: now - 2 * HOUR, endAt: now - HOUR })).status).toBe(200);

    let before = await scrape(open);
    const anonymous = await refusal(client(open, p));
    expect(anonymous.message).toBe('AUTH_REQUIRED');
    const offAir = await refusal(client(open, past, { auth: user() }));
    expect(offAir.message).toBe('PROGRAM_NOT_ON_AIR');
    let after = await scrape(open);
    expect(delta(before, after, 'onair_refusals_total', { code: 'AUTH_REQUIRED' })).toBe(1);
    expect(delta(before, after, 'onair_refusals_total', { code: 'PROGRAM_NOT_ON_AIR' })).toBe(1);
    expect(samples(after, 'onair_connections', { program: p })).toEqual([]);

    const [a, b] = await Promise.all([join(open, p), join(open, p)]);
    before = await scrape(open);
    const res = await call(a, 'joinRoom', { roomId: 'no-such-room' });
    expect(res).toMatchObject({ ok: false, code: 'EJ001' });
    const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 5 }));
    await enter(b, roomId);
    const { aggroUID } = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'mine', type: 'A' }));
    expect(await call(a, 'aggroUp', aggroUID)).toMatchObject({ ok: false, code: 'EA004' });
    after = await scrape(open);
    expect(delta(before, after, 'onair_refusals_total', { code: 'EJ001' })).toBe(1);
    expect(delta(before, after, 'onair_refusals_total', { code: 'EA004' })).toBe(1);
    expect(delta(before, after, 'onair_refusals_total', { code: 'AUTH_REQUIRED' })).toBe(0);
    // A refused call is still a handled event, timed like any other.
    expect(delta(before, after, 'onair_event_handler_seconds_count', { event: 'joinRoom' })).toBe(2);
  });

  it('rate limits by scope: events (EVENT_BURST) and handshakes (HANDSHAKE_BURST)', async () => {
    const events = await startServer({ EVENT_BURST: '3', EVENT_RATE: '1' });
    const p = uid('limited');
    const a = await join(events, p);
    const before = await scrape(events);
    const acks = await Promise.all(Array.from({ length: 8 }, () => call(a, 'loadRooms')));
    const limited = acks.filter((r) => !r.ok && r.code === 'ER001').length;
    expect(limited).toBeGreaterThanOrEqual(4);
    const after = await scrape(events);
    expect(delta(before, after, 'onair_rate_limited_total', { scope: 'event' })).toBe(limited);
    expect(delta(before, after, 'onair_refusals_total', { code: 'ER001' })).toBe(limited);
    expect(delta(before, after, 'onair_rate_limited_total', { scope: 'handshake' })).toBe(0);
    // Packets refused by the limit never reach a handler.
    expect(delta(before, after, 'onair_event_handler_seconds_count', { event: 'loadRooms' })).toBe(8 - limited);

    const handshakes = await startServer({ HANDSHAKE_BURST: '1', HANDSHAKE_RATE: '1' });
    const h0 = await scrape(handshakes);
    await join(handshakes, p);
    // The next handshake from this address comes well within a second: refused.
    let refused = 0;
    for (let i = 0; i < 5 && refused === 0; i++) {
      const c = client(handshakes, p, { auth: user() });
      const outcome = await new Promise<string | null>((resolve) => {
        c.once('connect', () => resolve(null));
        c.once('connect_error', (err) => resolve(err.message));
        c.connect();
      });
      if (outcome === 'RATE_LIMITED') refused += 1;
      c.disconnect();
    }
    expect(refused).toBe(1);
    const h1 = await scrape(handshakes);
    expect(delta(h0, h1, 'onair_rate_limited_total', { scope: 'handshake' })).toBe(1);
    expect(delta(h0, h1, 'onair_refusals_total', { code: 'RATE_LIMITED' })).toBe(1);
  });

  it('onair_event_handler_seconds: a histogram per event whose count grows with calls', async () => {
    const server = await startServer();
    const p = uid('timed');
    const a = await join(server, p);
    const before = await scrape(server);
    for (let i = 0; i < 5; i++) ok(await call(a, 'loadRooms'));
    ok(await call(a, 'loadUsers'));
    const after = await scrape(server);
    expect(delta(before, after, 'onair_event_handler_seconds_count', { event: 'loadRooms' })).toBe(5);
    expect(delta(before, after, 'onair_event_handler_seconds_count', { event: 'loadUsers' })).toBe(1);
    expect(value(after, 'onair_event_handler_seconds_sum', { event: 'loadRooms' })).toBeGreaterThan(0);

    const buckets = samples(after, 'onair_event_handler_seconds_bucket', { event: 'loadRooms' });
    const les = buckets.map((b) => b.labels.le);
    expect(les).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '+Inf']);
    // Cumulative: never decreasing, and the last (+Inf) is the count.
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(value(after, 'onair_event_handler_seconds_count', { event: 'loadRooms' }));
    expect(buckets.at(-1)!.value).toBe(5);
  });

  it('onair_backend_errors_total{backend="database"} counts a failing database; the handshake still goes ahead', async () => {
    const records = new SqliteRecordStore(`${testDataDir()}/metrics-${randomBytes(4).toString('hex')}.db`);
    await records.migrate();
    const server = await startServer({}, { recordStore: records });
    const p = uid('db-down');
    // The programme is active (its persistent rooms read) before the database goes away.
    await join(server, p);
    const before = await scrape(server);
    expect(value(before, 'onair_backend_errors_total', { backend: 'database' })).toBe(0);
    await records.close();
    // The ban check fails: counted, and the user is let in.
    const b = await join(server, p);
    expect(b.connected).toBe(true);
    const after = await scrape(server);
    expect(delta(before, after, 'onair_backend_errors_total', { backend: 'database' })).toBe(1);
    expect(value(after, 'onair_backend_errors_total', { backend: 'state' })).toBe(0);
    // /readyz says so.
    const ready = await httpGet(server, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toEqual({ status: 'unavailable', checks: { state: true, database: false, records: true } });
  });
});

describe('GET /readyz', () => {
  it('reports the database beside the state backend', async () => {
    const server = await startServer();
    const res = await httpGet(server, '/readyz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ready', checks: { state: true, database: true, records: true } });
  });
});
