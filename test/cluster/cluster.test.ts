/**
 * What only a cluster can show: several server processes on one private redis-server, servers
 * dying, and Redis going away. The protocol suite proves the rules hold across servers; these
 * cases prove the cluster heals. Runs in the `cluster` project only.
 */
import { get as httpsGet } from 'node:https';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AckResult, AggroMessage, RoomSummary } from '../../src/protocol/index.js';
import { call, join, user, type Client, type Recorder } from '../helpers/client.js';
import { privateCluster, sharedCluster, type Cluster } from '../helpers/cluster.js';
import type { TestServer } from '../helpers/server.js';
import { scrape, scrapeUntil, value, type Exposition } from '../helpers/metrics.js';
import { waitUntil } from '../helpers/wait.js';

type Joined = Client & { events: Recorder; who: { userUID: string; displayName: string } };

const own: Cluster[] = [];
afterEach(async () => {
  await Promise.all(own.splice(0).map((c) => c.close()));
});

function ok<T extends object>(r: AckResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as T;
}

function readyz(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`${server.url}/readyz`, { ca: server.ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

async function roomWith(owner: Joined, others: Joined[], max = 10): Promise<string> {
  const { roomId } = ok(await call<{ roomId: string }>(owner, 'createRoom', { title: 'Shared', max }));
  for (const o of others) ok(await call(o, 'joinRoom', { roomId }));
  return roomId;
}

/** Two servers on a private Redis of their own, a member on each, and a room made on the first. */
async function twoServersAndARoom(p: string, env: Record<string, string>, redisOptions: { persistent?: boolean } = {}) {
  const c = await privateCluster(env, 2, redisOptions);
  own.push(c);
  const [n0, n1] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  const a = await join(n0, p, user('a'));
  const b = await join(n1, p, user('b'));
  const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'Before', max: 3 }));
  return { c, n0, n1, a, b, roomId };
}

function bothReady(n0: TestServer, n1: TestServer): Promise<void> {
  return waitUntil(async () => (await readyz(n0).catch(() => 0)) === 200 && (await readyz(n1).catch(() => 0)) === 200, 10_000, 'both servers are ready again');
}

describe('many servers', () => {
  it('a server skips, unparsed, the stream entries for a room where it has no socket, and delivers them once it has one', async () => {
    const c = await sharedCluster();
    const [n0, n1] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-skip';
    const a = await join(n0, p, user('skip-a'));
    const b = await join(n0, p, user('skip-b'));
    const elsewhere = await join(n1, p, user('skip-w'));
    const roomId = await roomWith(a, [b]);
    const skipped = (e: Exposition) => value(e, 'onair_stream_entries_total', { outcome: 'skipped' });
    const delivered = (e: Exposition) => value(e, 'onair_stream_entries_total', { outcome: 'delivered' });
    const [before0, before1] = await Promise.all([scrape(n0), scrape(n1)]);
    const chats = 5;
    const last = b.events.next('chat', (m: { msg: string }) => m.msg === `only on n0 ${chats}`);
    for (let i = 1; i <= chats; i++) ok(await call(a, 'chat', { roomId, type: 'N', msg: `only on n0 ${i}` }));
    await last;
    // n1 reads every entry of the programme's stream: the chats are skipped there, delivered on n0.
    await scrapeUntil(n1, (e) => skipped(e) - skipped(before1) >= chats, `${chats} entries skipped on n1`);
    expect(delivered(await scrape(n0)) - delivered(before0)).toBeGreaterThanOrEqual(chats);
    expect(elsewhere.events.all('chat')).toEqual([]);
    // With a member there, n1 delivers the room's entries again.
    ok(await call(elsewhere, 'joinRoom', { roomId }));
    const got = elsewhere.events.next('chat', (m: { msg: string }) => m.msg === 'now on n1 too');
    ok(await call(a, 'chat', { roomId, type: 'N', msg: 'now on n1 too' }));
    await got;
  });

  it('members on three servers share one room: joins, chat and loadUsers cross servers', async () => {
    const c = await sharedCluster();
    const p = 'cl-share';
    const members = await Promise.all(c.nodes.map((n, i) => join(n, p, user(`m${i}`))));
    const roomId = await roomWith(members[0]!, members.slice(1));
    const got = members.slice(1).map((m) => m.events.next('chat'));
    ok(await call(members[0]!, 'chat', { roomId, type: 'N', msg: 'across' }));
    for (const g of got) expect(((await g)[0] as { msg: string }).msg).toBe('across');
    const users = ok(await call<{ users: { userUID: string }[] }>(members[2]!, 'loadUsers')).users;
    expect(users.map((u) => u.userUID).sort()).toEqual(members.map((m) => m.who.userUID).sort());
  });

  it('exactly max admitted when joins arrive at once on different servers', async () => {
    const c = await sharedCluster();
    const p = 'cl-capacity';
    const owner = await join(c.nodes[0]!, p, user('owner'));
    const { roomId } = ok(await call<{ roomId: string }>(owner, 'createRoom', { title: 'Tight', max: 4 }));
    const joiners = await Promise.all(Array.from({ length: 24 }, (_, i) => join(c.nodes[i % 3]!, p, user(`j${i}`))));
    const results = await Promise.all(joiners.map((j) => call(j, 'joinRoom', { roomId })));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'EJ002')).toBe(true);
    const users = ok(await call<{ users: unknown[] }>(owner, 'loadUsers')).users;
    expect(users).toHaveLength(4);
  });

  it('lobby sockets on every server see at most one count per room per interval, ending on the final value', async () => {
    const interval = 150;
    const c = await sharedCluster({ BATCH_INTERVAL_MS: String(interval) });
    const p = 'cl-count';
    const watchers = await Promise.all(c.nodes.map((n, i) => join(n, p, user(`w${i}`))));
    const owner = await join(c.nodes[0]!, p, user('owner'));
    const { roomId } = ok(await call<{ roomId: string }>(owner, 'createRoom', { title: 'Busy', max: 40 }));
    const joiners = await Promise.all(Array.from({ length: 18 }, (_, i) => join(c.nodes[i % 3]!, p, user(`j${i}`))));
    await Promise.all(joiners.map((j) => call(j, 'joinRoom', { roomId })));
    for (const w of watchers) {
      await w.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 19);
      const seen = w.events.all('count', (u: { roomId: string }) => u.roomId === roomId);
      // 20 ms: each message crosses a server's event loop, Redis and TLS; jitter can narrow a gap.
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(interval - 20);
      expect((seen.at(-1)!.args[0] as { count: number }).count).toBe(19);
    }
  });

  it('room members on every server see at most one aggroPoint per interval; one vote per user counts', async () => {
    const interval = 150;
    const c = await sharedCluster({ BATCH_INTERVAL_MS: String(interval), AGGRO_TTL_MS: '1500' });
    const p = 'cl-votes';
    const members = await Promise.all(Array.from({ length: 12 }, (_, i) => join(c.nodes[i % 3]!, p, user(`v${i}`))));
    const roomId = await roomWith(members[0]!, members.slice(1), 20);
    const stops = members.map((m) => m.events.next('stopAggro', () => true, 5000));
    const { aggroUID } = ok(await call<{ aggroUID: string }>(members[0]!, 'chat', { roomId, type: 'A', msg: 'vote!' }));
    // Every voter votes twice at once, from its own server: only the first counts.
    const votes = await Promise.all(members.slice(1).flatMap((m) => [call(m, 'aggroUp', aggroUID), call(m, 'aggroUp', aggroUID)]));
    expect(votes.filter((v) => v.ok)).toHaveLength(11);
    await Promise.all(stops);
    for (const m of members) {
      const points = m.events.all('aggroPoint', (u: { aggroUID: string }) => u.aggroUID === aggroUID);
      expect((points.at(-1)!.args[0] as { point: number }).point).toBe(11);
      for (let i = 1; i < points.length; i++) expect(points[i]!.at - points[i - 1]!.at).toBeGreaterThanOrEqual(interval - 20);
    }
    const rec = await c.records.waitFor((r) => r.aggroUID === aggroUID);
    expect(rec).toMatchObject({ point: 11, up: 11, down: 0, endReason: 'expired' });
    expect(c.records.records.filter((r) => r.aggroUID === aggroUID)).toHaveLength(1);
  });

  it('no server ever delivers a count after deleteRoom, nor before addRoom, under cross-server races', async () => {
    const c = await sharedCluster({ BATCH_INTERVAL_MS: '0' });
    const p = 'cl-order';
    const watchers = await Promise.all(c.nodes.map((n, i) => join(n, p, user(`w${i}`))));
    const rooms = 12;
    // Each room: an owner on one server and two joiners on the others, who all leave at once
    // right after joining, so counts (decided on one server) race deletions (on another).
    await Promise.all(
      Array.from({ length: rooms }, async (_, r) => {
        const owner = await join(c.nodes[r % 3]!, p, user(`o${r}`));
        const j1 = await join(c.nodes[(r + 1) % 3]!, p, user(`a${r}`));
        const j2 = await join(c.nodes[(r + 2) % 3]!, p, user(`b${r}`));
        const { roomId } = ok(await call<{ roomId: string }>(owner, 'createRoom', { title: `R${r}`, max: 5 }));
        await Promise.all([call(j1, 'joinRoom', { roomId }), call(j2, 'joinRoom', { roomId })]);
        await Promise.all([owner, j1, j2].map((m) => call(m, 'leaveRoom', roomId)));
      }),
    );
    for (const w of watchers) {
      // A room made on another server reaches this watcher through the stream, which may still
      // be on its way when the last leave is answered: wait for it, then count exactly.
      await expect.poll(() => w.events.all('addRoom').length, { timeout: 5000 }).toBeGreaterThanOrEqual(rooms);
      const added = w.events.all('addRoom').map((e) => (e.args[0] as RoomSummary).roomId);
      expect(added).toHaveLength(rooms);
      for (const roomId of added) {
        await w.events.some('deleteRoom', (d: { roomId: string }) => d.roomId === roomId);
        const log = w.events.log.filter((e) => (e.args[0] as { roomId?: string } | undefined)?.roomId === roomId);
        const kinds = log.map((e) => e.event);
        expect(kinds[0], kinds.join(',')).toBe('addRoom');
        expect(kinds.at(-1), kinds.join(',')).toBe('deleteRoom');
        expect(kinds.filter((k) => k === 'deleteRoom')).toHaveLength(1);
      }
    }
  });

  it('a second session of the same user on another server replaces the first', async () => {
    const c = await sharedCluster();
    const p = 'cl-dup';
    const who = user('twice');
    const first = await join(c.nodes[0]!, p, who);
    const friend = await join(c.nodes[2]!, p, user('friend'));
    await roomWith(first, [friend]);
    const notice = first.events.next('system');
    const left = friend.events.next('leaveRoom');
    const second = await join(c.nodes[1]!, p, who);
    expect((await notice)[0]).toMatchObject({ code: 'DUPLICATE_SESSION' });
    await first.events.some('disconnect');
    expect((await left)[0]).toEqual({ userUID: who.userUID, displayName: who.displayName });
    expect(second.connected).toBe(true);
    expect(ok(await call<{ rooms: RoomSummary[] }>(second, 'loadRooms')).rooms[0]?.count).toBe(1);
  });

  it('keys live under the prefix, in the programme hash tag, and expire when the programme is idle', async () => {
    const c = await sharedCluster({ STATE_IDLE_TTL_MS: '60000' });
    const p = 'cl-keys';
    const a = await join(c.nodes[0]!, p, user('a'));
    const b = await join(c.nodes[1]!, p, user('b'));
    const roomId = await roomWith(a, [b]);
    ok(await call(a, 'chat', { roomId, type: 'A', msg: 'keys' }));
    const redis = createClient({ url: c.redis.url });
    await redis.connect();
    try {
      const keys = await redis.keys(`${c.prefix}{${p}}:*`);
      expect(keys.length).toBeGreaterThan(5);
      for (const k of keys) {
        const ttl = await redis.pTTL(k);
        if (ttl === -2) continue; // a batching window that closed since KEYS listed it
        expect(ttl, k).toBeGreaterThan(0);
        expect(ttl, k).toBeLessThanOrEqual(60_000);
      }
      // Every key in this Redis (shared by this file's clusters, each with its own
      // `t<hex>:` prefix) lives under a prefix.
      const all = await redis.keys('*');
      expect(all.filter((k) => !/^t[0-9a-f]{8}:/.test(k))).toEqual([]);
      // The programme's broadcasts are a stream of its own, in its hash tag (and so expiring with
      // it, above); ordered events are appended by the decisions themselves, as socket.io's
      // emitter does.
      const stream = `${c.prefix}{${p}}:stream`;
      expect(keys).toContain(stream);
      const entries = await redis.xRange(stream, '-', '+');
      const fromState = (entries ?? []).filter((e) => e.message.uid === 'emitter' && e.message.nsp === `/${p}`);
      expect(fromState.some((e) => (e.message.data ?? '').includes('"addRoom"'))).toBe(true);
      // The servers' own broadcasts (the chat) are in it too, in the same format.
      expect((entries ?? []).some((e) => e.message.uid !== 'emitter' && (e.message.data ?? '').includes('"keys"'))).toBe(true);
    } finally {
      await redis.close();
    }
  });
});

describe('failures', () => {
  it('one server shutting down tells only its own sockets; the others see them leave and keep their aggro', async () => {
    const c = await privateCluster({ AGGRO_TTL_MS: '60000' });
    own.push(c);
    const [leaving, s1, s2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-rolling';
    const goner = await join(leaving, p, user('goner'));
    const a = await join(s1, p, user('a'));
    const b = await join(s2, p, user('b'));
    const roomId = await roomWith(a, [b, goner]);
    const { aggroUID } = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId, type: 'A', msg: 'stay' }));
    const notice = goner.events.next('system');
    const left = b.events.next('leaveRoom');
    await leaving.close();
    expect((await notice)[0]).toMatchObject({ code: 'SERVER_SHUTDOWN' });
    expect((await left)[0]).toEqual({ userUID: goner.who.userUID, displayName: 'goner' });
    // Barrier: a vote after the shutdown is answered, and the aggro is still live.
    expect(ok(await call<{ point: number }>(b, 'aggroUp', aggroUID)).point).toBe(1);
    for (const x of [a, b]) {
      expect(x.connected).toBe(true);
      expect(x.events.all('system')).toEqual([]);
      expect(x.events.all('stopAggro')).toEqual([]);
    }
    expect(c.records.records.filter((r) => r.aggroUID === aggroUID)).toEqual([]);
  });

  it('a server killed with SIGKILL is cleaned up by one survivor within NODE_TIMEOUT_MS', async () => {
    const timeout = 1200;
    const c = await privateCluster({ NODE_TIMEOUT_MS: String(timeout), AGGRO_TTL_MS: '60000' });
    own.push(c);
    const [doomed, s1, s2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-kill';
    const lobby = await join(s2, p, user('lobby'));
    // A room shared with survivors, and a room held only by the doomed server's sockets.
    const victim = await join(doomed, p, user('victim'));
    const survivor = await join(s1, p, user('survivor'));
    const shared = await roomWith(victim, [survivor]);
    const loner = await join(doomed, p, user('loner'));
    const { roomId: lonely } = ok(await call<{ roomId: string }>(loner, 'createRoom', { title: 'Alone', max: 3 }));
    const { aggroUID } = ok(await call<{ aggroUID: string }>(loner, 'chat', { roomId: lonely, type: 'A', msg: 'mine' }));

    const left = survivor.events.next('leaveRoom', () => true, timeout * 4);
    const deleted = lobby.events.some('deleteRoom', (r: { roomId: string }) => r.roomId === lonely, timeout * 4);
    const count = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === shared && u.count === 1, timeout * 4);
    const killedAt = Date.now();
    await doomed.kill();

    expect((await left)[0]).toEqual({ userUID: victim.who.userUID, displayName: 'victim' });
    await deleted;
    await count;
    // Noticed within NODE_TIMEOUT_MS, plus one sweep tick and delivery.
    expect(Date.now() - killedAt).toBeLessThan(timeout + 1500);
    const rec = await c.records.waitFor((r) => r.aggroUID === aggroUID);
    expect(rec.endReason).toBe('room_emptied');
    // Exactly one survivor did it.
    expect(survivor.events.all('leaveRoom')).toHaveLength(1);
    expect(c.records.records.filter((r) => r.aggroUID === aggroUID)).toHaveLength(1);
  });

  it("an aggro ends on time when the server that started it has died", async () => {
    const ttl = 1000;
    const c = await privateCluster({ AGGRO_TTL_MS: String(ttl), NODE_TIMEOUT_MS: '60000' });
    own.push(c);
    const [starter, s1, s2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-orphan';
    const author = await join(starter, p, user('author'));
    const a = await join(s1, p, user('a'));
    const b = await join(s2, p, user('b'));
    const roomId = await roomWith(author, [a, b]);
    const started = a.events.next('aggro');
    const { aggroUID } = ok(await call<{ aggroUID: string }>(author, 'chat', { roomId, type: 'A', msg: 'orphan' }));
    const aggro = (await started)[0] as AggroMessage;
    const stopA = a.events.next('stopAggro', (id: string) => id === aggroUID, ttl + 5000);
    const stopB = b.events.next('stopAggro', (id: string) => id === aggroUID, ttl + 5000);
    await starter.kill();
    await Promise.all([stopA, stopB]);
    // Not before its time; late by at most the sweep's grace and a tick.
    expect(Date.now()).toBeGreaterThanOrEqual(aggro.expiresAt - 20);
    expect(Date.now() - aggro.expiresAt).toBeLessThan(2000);
    const rec = await c.records.waitFor((r) => r.aggroUID === aggroUID);
    expect(rec.endReason).toBe('expired');
    expect(b.events.all('stopAggro')).toHaveLength(1);
  });

  it('a batching window whose server died is flushed by another: the last total still arrives', async () => {
    const interval = 800;
    const c = await privateCluster({ BATCH_INTERVAL_MS: String(interval), AGGRO_TTL_MS: '60000', NODE_TIMEOUT_MS: '60000' });
    own.push(c);
    const [doomed, s1, s2] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-window';
    const author = await join(s1, p, user('author'));
    const voter = await join(doomed, p, user('voter'));
    const watcher = await join(s2, p, user('watcher'));
    const roomId = await roomWith(author, [voter, watcher]);
    const { aggroUID } = ok(await call<{ aggroUID: string }>(author, 'chat', { roomId, type: 'A', msg: 'window' }));
    const point = watcher.events.next('aggroPoint', (u: { aggroUID: string }) => u.aggroUID === aggroUID, interval * 6);
    // The vote opens the window on the doomed server, which dies before it can flush it.
    expect(ok(await call<{ point: number }>(voter, 'aggroUp', aggroUID)).point).toBe(1);
    await doomed.kill();
    expect((await point)[0]).toEqual({ aggroUID, point: 1 });
  });

  it('Redis going away: clients stay connected, calls answer ES001, /readyz is 503, service resumes by itself', async () => {
    // Redis with an append-only file, as production runs it: the outage loses nothing.
    const { c, n0, n1, a, b, roomId } = await twoServersAndARoom('cl-outage', {}, { persistent: true });
    expect(await readyz(n0)).toBe(200);

    await c.redis.stop(true);
    await waitUntil(async () => (await readyz(n0).catch(() => 0)) === 503, 5000, '/readyz answers 503');
    expect(await readyz(n1)).toBe(503);
    expect(await call(b, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'ES001' });
    expect(await call(b, 'loadRooms')).toMatchObject({ ok: false, code: 'ES001' });
    expect(await call(a, 'chat', { roomId, type: 'N', msg: 'anyone?' })).toMatchObject({ ok: false, code: 'ES001' });
    expect(a.connected && b.connected).toBe(true);

    await c.redis.restart();
    await bothReady(n0, n1);
    const joined = a.events.some('joinRoom', (u: { userUID: string }) => u.userUID === b.who.userUID, 10_000);
    await waitUntil(() => call(b, 'joinRoom', { roomId }).then((r) => r.ok, () => false), 10_000, 'joinRoom succeeds');
    await joined;
    const chat = b.events.next('chat');
    ok(await call(a, 'chat', { roomId, type: 'N', msg: 'back' }));
    expect(((await chat)[0] as { msg: string }).msg).toBe('back');
    expect(a.events.all('disconnect')).toEqual([]);
    expect(b.events.all('disconnect')).toEqual([]);
  });

  it('Redis that stops answering with its connections open (SIGSTOP): calls answer ES001 within REDIS_SILENCE_MS, /readyz is 503, service resumes on SIGCONT', async () => {
    const silenceMs = 400;
    const { c, n0, n1, a, b, roomId } = await twoServersAndARoom('cl-silent', { REDIS_SILENCE_MS: String(silenceMs) });
    c.redis.pause();
    try {
      // Written commands that Redis never answers: without the watch these acks never come.
      const asked = Date.now();
      expect(await call(b, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'ES001' });
      // One probe interval and one unanswered PING, with room for a loaded machine.
      expect(Date.now() - asked).toBeLessThan(silenceMs * 1.5 + 2000);
      expect(await call(a, 'chat', { roomId, type: 'N', msg: 'anyone?' })).toMatchObject({ ok: false, code: 'ES001' });
      await waitUntil(async () => (await readyz(n0).catch(() => 0)) === 503 && (await readyz(n1).catch(() => 0)) === 503, 5000, '/readyz answers 503 on both');
      expect(a.connected && b.connected).toBe(true);
    } finally {
      c.redis.resume();
    }
    await bothReady(n0, n1);
    await waitUntil(() => call(b, 'joinRoom', { roomId }).then((r) => r.ok, () => false), 10_000, 'joinRoom succeeds');
    const chat = b.events.next('chat', (m: { msg: string }) => m.msg === 'back', 10_000);
    await waitUntil(() => call(a, 'chat', { roomId, type: 'N', msg: 'back' }).then((r) => r.ok, () => false), 10_000, 'chat succeeds');
    await chat;
    expect(a.events.all('disconnect')).toEqual([]);
    expect(b.events.all('disconnect')).toEqual([]);
  });

  it('Redis coming back empty: servers reconnect their sockets so clients reload the new state', async () => {
    const c = await privateCluster({}, 2);
    own.push(c);
    const [n0, n1] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const p = 'cl-lost';
    const a = await join(n0, p, user('a'));
    const b = await join(n1, p, user('b'));
    await roomWith(a, [b]);
    const gone = [a, b].map((x) => x.events.some('disconnect', () => true, 10_000));
    await c.redis.stop(true);
    await c.redis.restart();
    // The rooms are gone with the data; the servers notice they are unknown to the new Redis
    // and disconnect their sockets, which (with socket.io's reconnection) come back to a fresh lobby.
    await Promise.all(gone);
    await waitUntil(async () => (await readyz(n0).catch(() => 0)) === 200, 10_000, 'the server is ready again');
    const again = await join(n0, p, user('again'));
    expect(again.rooms).toEqual([]);
  });
});
