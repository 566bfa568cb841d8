/**
 * Sessions that survive a blip (spec 7.1), with lines broken for real: clients reach the server
 * through a TCP relay in this process (test/helpers/relay.ts) that cuts lines (both sides
 * destroyed) or silences them (nothing forwarded, nothing closed), then lets the client's own
 * reconnection through. Short grace and heartbeats come from the configuration. Runs on one
 * server and on three (the protocol suite's two projects); the members who stay are on other
 * servers than the one who blips.
 */
import { randomBytes } from 'node:crypto';
import { io as seedIo, type Socket as SeedSocket } from 'socket.io-client-v3';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { closeOpened, heardJoins, reconnected, remember, say, since, viaRelay, type Blipper } from '../helpers/blip.js';
import { call, createOk, join, joinOk, Recorder, user, WAIT_MS, type Client, type Who } from '../helpers/client.js';
import { closeRelays, Relay } from '../helpers/relay.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTopology } from '../helpers/topology.js';
import { waitUntil } from '../helpers/wait.js';

const GRACE_MS = 1500;
const ENV = {
  SOCKET_PATH: '/jg',
  RECONNECT_GRACE_MS: String(GRACE_MS),
  PING_INTERVAL_MS: '300',
  PING_TIMEOUT_MS: '300',
  HISTORY_SIZE: '50',
  AGGRO_TTL_MS: '20000',
  AGGRO_COOLDOWN_MS: '0',
  ADMIN_TOKEN,
  KICK_COOLDOWN_MS: '5000',
  SCHEDULE_REFRESH_MS: '100',
};

const program = (name: string) => `${name}-${randomBytes(3).toString('hex')}`;

afterEach(async () => {
  closeOpened();
  await closeRelays();
});

/** `a` chats `sync` and `b` receives it: everything `a`'s room sent before has reached `b`. */
async function synced(a: Client, b: { events: Recorder }, roomId: string): Promise<void> {
  const tag = `sync-${randomBytes(3).toString('hex')}`;
  const got = b.events.some('chat', (m: { msg: string }) => m.msg === tag);
  await say(a, roomId, tag);
  await got;
}

const texts = (c: { events: Recorder }, mark: number) => since(c, mark, 'chat').map((s) => (s.args[0] as { msg: string }).msg).filter((m) => !m.startsWith('sync-'));

describe('a session survives a blip', () => {
  it('a cut line: back within the grace, recovered, the missed messages once each, in order, and the room saw nothing', async () => {
    const t = await startTopology(ENV);
    const P = program('cut');
    const a = await join(t.server(0), P, user('a'));
    const lobby = await join(t.server(2), P, user('lobby'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'blip', max: 10 });
    await joinOk(b, { roomId });
    await say(a, roomId, 'before');
    await b.events.some('chat', (m: { msg: string }) => m.msg === 'before');
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);
    const markA = a.events.log.length;
    const markL = lobby.events.log.length;
    const markB = b.events.log.length;

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    for (const m of ['m1', 'm2', 'm3']) await say(a, roomId, m);
    const back = reconnected(b);
    relay.down = false;
    await back;
    expect(b.recovered).toBe(true);
    await synced(a, b, roomId);

    expect(texts(b, markB)).toEqual(['m1', 'm2', 'm3']);
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
    expect(since(lobby, markL, 'count')).toEqual([]);
    // The seat is b's: its own messages still reach the room.
    const heard = a.events.next('chat', (m: { msg: string }) => m.msg === 'from b');
    await say(b, roomId, 'from b');
    await heard;
  });

  it('a silent line (nothing closed): noticed by the heartbeat, recovered on a new line', async () => {
    const t = await startTopology(ENV);
    const P = program('silent');
    const a = await join(t.server(0), P, user('a'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'silence', max: 10 });
    await joinOk(b, { roomId });
    await heardJoins(a, b);
    const markA = a.events.log.length;
    const markB = b.events.log.length;

    const back = reconnected(b, 5000);
    relay.silence();
    await say(a, roomId, 'into the void');
    await back;
    expect(b.recovered).toBe(true);
    await synced(a, b, roomId);
    expect(texts(b, markB)).toEqual(['into the void']);
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('no return: the room hears leaveRoom once the grace is over, not before; a return after it is a fresh session', async () => {
    const t = await startTopology(ENV);
    const P = program('gone');
    const a = await join(t.server(0), P, user('a'));
    const lobby = await join(t.server(2), P, user('lobby'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'gone', max: 10 });
    await joinOk(b, { roomId });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);
    const markL = lobby.events.log.length;

    relay.down = true;
    relay.cut();
    const cutAt = performance.now();
    const [left] = (await a.events.next('leaveRoom', () => true, GRACE_MS + 4000)) as [{ userUID: string }];
    const leftAfter = performance.now() - cutAt;
    expect(left.userUID).toBe(b.who.userUID);
    expect(leftAfter).toBeGreaterThanOrEqual(GRACE_MS - 100);
    await lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 1);
    expect(since(lobby, markL, 'count').filter((s) => (s.args[0] as { roomId: string }).roomId === roomId)).toHaveLength(1);
    expect(a.events.all('leaveRoom')).toHaveLength(1);

    // Back after the grace: the lobby as any new session, and the seat is gone.
    const markB = b.events.log.length;
    const back = reconnected(b);
    relay.down = false;
    await back;
    await b.events.some('loadRooms', () => true);
    expect(b.recovered).toBe(false);
    expect(since(b, markB, 'session')).toEqual([]);
    expect(await call(b, 'chat', { roomId, type: 'N', msg: 'late' })).toMatchObject({ ok: false, code: 'EM001' });
  });

  it('the seed client (socket.io-client 3.1): loadRooms, session, the missed chat, then the live aggro with its point', async () => {
    const t = await startTopology(ENV);
    const P = program('seed');
    const a = await join(t.server(0), P, user('a'));
    const c = await join(t.server(2), P, user('c'));
    const relay = await Relay.start(t.server(1));
    const who = user('seed');
    const seed = seedIo(`${relay.url(t.server(1))}/${P}`, {
      path: '/jg',
      transports: ['websocket'],
      query: { userUID: who.userUID, displayName: who.displayName, photoURL: 'undefined' },
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      randomizationFactor: 0,
      ...(t.server(1).ca ? { ca: t.server(1).ca } : {}),
    }) as SeedSocket;
    remember(seed);
    const log = new Recorder(seed as never);
    await log.some('loadRooms');
    const roomId = await createOk(a, { title: 'seed room', max: 10 });
    await joinOk(c, { roomId });
    (seed as unknown as { emit(e: string, p: unknown): void }).emit('joinRoom', { roomId });
    await log.some('joinRoomReq');
    await say(a, roomId, 'before');
    await log.some('chat', (m: { msg: string }) => m.msg === 'before');
    const aggro = (await call<{ aggroUID: string }>(a, 'chat', { roomId, type: 'A', msg: 'pinned' })) as { aggroUID: string };
    await log.some('aggro');
    const markA = a.events.log.length;

    relay.down = true;
    relay.cut();
    await log.some('disconnect');
    for (const m of ['s1', 's2']) await say(a, roomId, m);
    expect(await call(c, 'aggroUp', aggro.aggroUID)).toMatchObject({ ok: true, point: 1 });
    // The vote's batch goes out before the return: the catch-up's aggro carries it, and no live
    // aggroPoint can fall among the catch-up (every server delivers in the stream's order).
    await a.events.some('aggroPoint', (u: { point: number }) => u.point === 1);
    const mark = log.log.length;
    relay.down = false;
    await log.next('aggro', () => true, 5000);

    // A message from the second before the blip may come again (the server cannot know it
    // arrived); everything sent meanwhile comes once, in order, before the aggro.
    const seen = log.log.slice(mark);
    const catchUp = seen.filter((s) => s.event === 'chat').map((s) => (s.args[0] as { msg: string }).msg);
    expect(catchUp.filter((m) => m !== 'before')).toEqual(['s1', 's2']);
    const after = seen.map((s) => s.event).filter((e) => e !== 'connect');
    expect(after.slice(0, 2 + catchUp.length + 1)).toEqual(['loadRooms', 'session', ...catchUp.map(() => 'chat'), 'aggro']);
    expect(seen.find((s) => s.event === 'session')!.args[0]).toEqual({ resumed: true, roomId });
    expect(seen.find((s) => s.event === 'aggro')!.args[0]).toMatchObject({ aggroUID: aggro.aggroUID, point: 1 });
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
    // A joinRoom for the room it is in: success, nothing broadcast.
    (seed as unknown as { emit(e: string, p: unknown): void }).emit('joinRoom', { roomId });
    await log.next('joinRoomReq', (r: { result: boolean }) => r.result === true);
    await synced(a, { events: log }, roomId);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('a network switch: a second connection while the first is open takes the seat over at once, silently', async () => {
    const t = await startTopology(ENV);
    const P = program('switch');
    const a = await join(t.server(0), P, user('a'));
    const old = await join(t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'switch', max: 10 });
    await joinOk(old, { roomId });
    await heardJoins(a, old);
    const markA = a.events.log.length;

    const told = old.events.next('system');
    const fresh = join(t.server(2), P, old.who);
    const sessionSeen = fresh.then((n) => n.events.some('session'));
    const now = await fresh;
    expect((await told)[0]).toMatchObject({ code: 'DUPLICATE_SESSION' });
    expect((await sessionSeen)[0]).toEqual({ resumed: true, roomId });
    const heard = a.events.next('chat', (m: { msg: string }) => m.msg === 'new phone');
    await say(now, roomId, 'new phone');
    await heard;
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('a full room: the seat of a member who blips is still theirs, and a joiner meanwhile gets EJ002', async () => {
    const t = await startTopology(ENV);
    const P = program('full');
    const a = await join(t.server(0), P, user('a'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'two seats', max: 2 });
    await joinOk(b, { roomId });

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    const c = await join(t.server(2), P, user('c'));
    expect(await call(c, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'EJ002' });
    const back = reconnected(b);
    relay.down = false;
    await back;
    await synced(a, b, roomId);
    expect(await call(c, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'EJ002' });
  });

  it("a live aggro whose author blips stays live, and its author's seat with it", async () => {
    const t = await startTopology(ENV);
    const P = program('aggro');
    const a = await join(t.server(0), P, user('a'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'aggro', max: 10 });
    await joinOk(b, { roomId });
    const posted = (await call<{ aggroUID: string }>(b, 'chat', { roomId, type: 'A', msg: 'mine' })) as { aggroUID: string };
    expect(posted).toMatchObject({ ok: true });
    const markA = a.events.log.length;

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    expect(await call(a, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: true, point: 1 });
    const back = reconnected(b);
    relay.down = false;
    await back;
    await synced(a, b, roomId);
    expect(since(a, markA, 'stopAggro')).toEqual([]);
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    // Still live: a second vote is refused as a repeat, not as a missing aggro.
    expect(await call(a, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: false, code: 'EA004' });
  });

  it('a kick during the grace ends the held session at once: the room hears leaveRoom, the return is refused', async () => {
    const t = await startTopology(ENV);
    const P = program('kick');
    const a = await join(t.server(0), P, user('a'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(a, { title: 'kick', max: 10 });
    await joinOk(b, { roomId });
    await heardJoins(a, b);

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    const cutAt = performance.now();
    const left = a.events.next('leaveRoom');
    expect((await adminCall(t.server(2), 'POST', `/admin/programs/${P}/kick`, { userUID: b.who.userUID })).status).toBe(204);
    await left;
    expect(performance.now() - cutAt).toBeLessThan(GRACE_MS);
    // Refused at its handshake, or (recovered by socket.io, whose middleware it skips) told
    // `KICKED` at once and disconnected; either way it is not back in the room.
    const refused = new Promise<string | undefined>((resolve) => {
      b.once('connect_error', (err: Error & { data?: { code: string } }) => resolve(err.data?.code ?? `connect_error: ${err.message}`));
      b.on('system', (n: { code: string }) => resolve(n.code));
    });
    const markA = a.events.log.length;
    relay.down = false;
    expect(await refused).toBe('KICKED');
    await say(a, roomId, 'without b');
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('the programme ending during the grace ends the held session: no resume', async () => {
    // A long grace: "ended well before the grace would have" keeps its margin on a loaded machine
    // (the schedule's refresh, then three servers' clean-up, took more than 1.5 s once).
    const grace = 6000;
    const t = await startTopology({ ...ENV, RECONNECT_GRACE_MS: String(grace) });
    const P = program('ends');
    const hour = 3_600_000;
    const on = { title: 'Ends', broadcaster: 'TV', startAt: new Date(Date.now() - hour).toISOString(), endAt: new Date(Date.now() + hour).toISOString() };
    expect((await adminCall(t.server(0), 'PUT', `/admin/programs/${P}`, on)).status).toBe(200);
    const a = await join(t.server(0), P, user('a'));
    const relay = await Relay.start(t.server(1));
    const b = await viaRelay(relay, t.server(1), P, user('b'));
    const roomId = await createOk(b, { title: 'ends', max: 10 });
    await joinOk(a, { roomId });

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    const cutAt = performance.now();
    const ended = a.events.next('system', (n: { code: string }) => n.code === 'PROGRAM_ENDED');
    const off = { ...on, endAt: new Date(Date.now() - 1000).toISOString() };
    expect((await adminCall(t.server(2), 'PUT', `/admin/programs/${P}`, off)).status).toBe(200);
    await ended;
    // Nothing of it is held any more, well before the grace would have run out.
    await waitUntil(
      async () => {
        const live = (await adminCall(t.server(2), 'GET', `/admin/programs/${P}/live`)).body as { connections: number; rooms: unknown[] };
        return live.connections === 0 && live.rooms.length === 0;
      },
      grace,
      'the held session ended with its programme',
    );
    expect(performance.now() - cutAt).toBeLessThan(grace);
    const refused = new Promise<string | undefined>((resolve) => {
      b.once('connect_error', (err: Error & { data?: { code: string } }) => resolve(err.data?.code ?? `connect_error: ${err.message}`));
      // A replay may first bring the room's `OWNER` notice (b's seat went when the programme
      // ended, and with it the room's owner): the refusal is the notice that ends the session.
      b.on('system', (n: { code: string }) => n.code !== 'OWNER' && resolve(n.code ?? JSON.stringify(n)));
    });
    relay.down = false;
    expect(['PROGRAM_NOT_ON_AIR', 'PROGRAM_ENDED']).toContain(await refused);
  });
});

describe('RECONNECT_GRACE_MS=0', () => {
  it('leaves at once, as before the grace', async () => {
    const server = await startServer({ ...ENV, RECONNECT_GRACE_MS: '0' });
    const P = program('off');
    const a = await join(server, P, user('a'));
    const relay = await Relay.start(server);
    const b = await viaRelay(relay, server, P, user('b'));
    const roomId = await createOk(a, { title: 'off', max: 10 });
    await joinOk(b, { roomId });
    relay.down = true;
    const cutAt = performance.now();
    relay.cut();
    const [left] = (await a.events.next('leaveRoom')) as [{ userUID: string }];
    expect(left.userUID).toBe(b.who.userUID);
    expect(performance.now() - cutAt).toBeLessThan(GRACE_MS);
    const back = reconnected(b);
    relay.down = false;
    await back;
    expect(b.recovered).toBeFalsy();
    expect(since(b, 0, 'session')).toEqual([]);
  });
});
