/**
 * Sessions that survive a blip (spec 7.1) where only a cluster can show it: the return through
 * another server (socket.io's recovery from the Redis stream, events the Lua scripts appended
 * included), and the server that held a session killed with SIGKILL, before or during the
 * grace. Clients reach the servers through a TCP relay (test/helpers/relay.ts) that a test
 * points at another server, as a balancer would send a reconnection elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeOpened, heardJoins, reconnected, say, since, viaRelay, type Blipper } from '../helpers/blip.js';
import { call, createOk, join, joinOk, user, WAIT_MS, type Recorder } from '../helpers/client.js';
import { privateCluster, type Cluster } from '../helpers/cluster.js';
import { OnAirClient, waitFor } from '@onair/client';
import { track } from '../helpers/sdk.js';
import { closeRelays, Relay } from '../helpers/relay.js';
import type { TestServer } from '../helpers/server.js';

const GRACE_MS = 1500;
const NODE_TIMEOUT_MS = 1000;
const ENV = {
  RECONNECT_GRACE_MS: String(GRACE_MS),
  PING_INTERVAL_MS: '300',
  PING_TIMEOUT_MS: '300',
  NODE_TIMEOUT_MS: String(NODE_TIMEOUT_MS),
  HISTORY_SIZE: '50',
  AGGRO_TTL_MS: '30000',
  AGGRO_COOLDOWN_MS: '0',
  BATCH_INTERVAL_MS: '60',
};

const own: Cluster[] = [];
afterEach(async () => {
  closeOpened();
  await closeRelays();
  await Promise.all(own.splice(0).map((c) => c.close()));
});

async function cluster(extra: Record<string, string> = {}): Promise<Cluster> {
  const c = await privateCluster({ ...ENV, ...extra });
  own.push(c);
  return c;
}

describe('blips across servers', () => {
  it('back through another server: recovered from the stream, chat and the scripts’ aggroPoint once each, in order', async () => {
    const c = await cluster();
    const [n0, n1, n2] = c.nodes as unknown as [TestServer, TestServer, TestServer];
    const P = 'acrossShow';
    const a = await join(n2, P, user('a'));
    const voter = await join(n2, P, user('voter'));
    const relay = await Relay.start(n0);
    const b = await viaRelay(relay, n0, P, user('b'));
    const roomId = await createOk(a, { title: 'across', max: 10 });
    await joinOk(b, { roomId });
    await joinOk(voter, { roomId });
    const posted = (await call<{ aggroUID: string }>(a, 'chat', { roomId, type: 'A', msg: 'vote' })) as { aggroUID: string };
    await b.events.some('aggro');
    const markA = a.events.log.length;
    const markB = b.events.log.length;

    relay.down = true;
    relay.cut();
    await b.events.some('disconnect');
    await say(a, roomId, 'x1');
    expect(await call(voter, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: true, point: 1 });
    // The point goes out of its window through the stream (a Lua script appends it).
    await a.events.some('aggroPoint', (u: { point: number }) => u.point === 1);
    await say(a, roomId, 'x2');
    relay.retarget(n1);
    const back = reconnected(b);
    relay.down = false;
    await back;
    expect(b.recovered).toBe(true);
    const tag = 'sync-across';
    const got = b.events.some('chat', (m: { msg: string }) => m.msg === tag);
    await say(a, roomId, tag);
    await got;

    const missed = b.events.log.slice(markB).filter((s) => s.event === 'chat' || s.event === 'aggroPoint');
    expect(missed.map((s) => (s.event === 'chat' ? (s.args[0] as { msg: string }).msg : `point ${(s.args[0] as { point: number }).point}`))).toEqual([
      'x1',
      'point 1',
      'x2',
      tag,
    ]);
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
    // Its seat answers on the new server.
    const heard = a.events.next('chat', (m: { msg: string }) => m.msg === 'from n1');
    await say(b, roomId, 'from n1');
    await heard;
  });

  it('cut while two servers chat steadily: every member back through another server gets each message exactly once, in the order the others saw', async () => {
    const c = await cluster({ EVENT_RATE: '1000' });
    const [n0, n1, n2] = c.nodes as unknown as [TestServer, TestServer, TestServer];
    const P = 'steadyShow';
    // One writer shares the cut members' server: its broadcasts are the ones a server used to
    // hand its own sockets ahead of the stream's order.
    const near = await join(n0, P, user('near'));
    const far = await join(n1, P, user('far'));
    const watcher = await join(n2, P, user('watcher'));
    const roomId = await createOk(near, { title: 'steady', max: 20 });
    await joinOk(far, { roomId });
    await joinOk(watcher, { roomId });
    const relays: Relay[] = [];
    const members: Blipper[] = [];
    for (const [i, home] of [n0, n0, n1, n1].entries()) {
      const relay = await Relay.start(home);
      const m = await viaRelay(relay, home, P, user(`m${i}`));
      await joinOk(m, { roomId });
      relays.push(relay);
      members.push(m);
    }
    const marks = members.map((m) => m.events.log.length);
    const markW = watcher.events.log.length;
    const N = 60;
    // 120 chats and four recoveries on two shared cores: waits get room for a loaded machine.
    const LONG = 15_000;
    const writing = Promise.all(
      [near, far].map(async (w, k) => {
        for (let i = 0; i < N; i++) {
          const msg = `${k === 0 ? 'near' : 'far'}-${i}`;
          expect(await w.timeout(LONG).emitWithAck('chat', { roomId, type: 'N', msg })).toMatchObject({ ok: true });
        }
      }),
    );
    writing.catch(() => {}); // awaited below; a failure before that must not go unhandled
    // Cut every member at once while both keep writing, then send each back to the other server.
    await watcher.events.some('chat', (m: { msg: string }) => m.msg === 'near-15', LONG);
    for (const r of relays) {
      r.down = true;
      r.cut();
    }
    await Promise.all(members.map((m) => m.events.some('disconnect', () => true, LONG)));
    await watcher.events.some('chat', (m: { msg: string }) => m.msg === 'near-35', LONG);
    const back = members.map((m) => reconnected(m, LONG));
    for (const [i, r] of relays.entries()) {
      r.retarget(i < 2 ? n1 : n0);
      r.down = false;
    }
    await Promise.all(back);
    await writing;
    const last = (c: { events: Recorder }) =>
      Promise.all(['near', 'far'].map((w) => c.events.some('chat', (m: { msg: string }) => m.msg === `${w}-${N - 1}`, LONG)));
    await last(watcher);
    const msgs = (c: { events: Recorder }, mark: number) =>
      c.events.log.slice(mark).filter((s) => s.event === 'chat').map((s) => (s.args[0] as { msg: string }).msg);
    const seen = msgs(watcher, markW);
    expect(seen).toHaveLength(2 * N);
    for (const [i, m] of members.entries()) {
      await last(m);
      expect(m.recovered, `member ${i} recovered`).toBe(true);
      expect(msgs(m, marks[i]!), `member ${i}`).toEqual(seen);
    }
    expect(since(watcher, markW, 'leaveRoom')).toEqual([]);
    expect(since(watcher, markW, 'joinRoom')).toEqual([]);
  });

  it('a rolling restart (SIGTERM): the SDK waits its retryAfterMs, resumes on another server, and the room hears nothing', async () => {
    const c = await cluster({ SHUTDOWN_SPREAD_MS: '800' });
    const [n0, n1, n2] = c.nodes as unknown as [TestServer, TestServer, TestServer];
    const P = 'restartShow';
    const a = await join(n2, P, user('a'));
    const relay = await Relay.start(n0);
    const whoB = user('b');
    const b = track(
      new OnAirClient({
        url: relay.url(n0),
        program: P,
        path: n0.config.socketPath,
        transports: ['websocket'],
        timeoutMs: WAIT_MS,
        identity: whoB,
        socketOptions: { ...(n0.ca ? { ca: n0.ca } : {}), reconnectionDelay: 50, reconnectionDelayMax: 100 },
      }),
    );
    await b.open();
    const roomId = await createOk(a, { title: 'restart', max: 10 });
    await b.joinRoom(roomId);
    await heardJoins(a, { who: whoB });
    const markA = a.events.log.length;

    relay.retarget(n1);
    const away = waitFor(b.state, (s) => !s.connected, 5000);
    const closing = c.nodes[0]!.close();
    await away;
    expect(b.state.lastSystem).toMatchObject({ code: 'SERVER_SHUTDOWN', retryAfterMs: expect.any(Number) });
    expect(b.state.roomId).toBe(roomId);
    await say(a, roomId, 'during the restart');
    await waitFor(b.state, (s) => s.connected && s.resumed && s.roomId === roomId && s.messages.some((m) => m.msg === 'during the restart'), 8000);
    await closing;
    const heard = a.events.next('chat', (m: { msg: string }) => m.msg === 'back');
    await b.chat('back');
    await heard;
    expect(since(a, markA, 'leaveRoom')).toEqual([]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('the server holding a live session killed: its client resumes on a survivor, silently; one that does not return leaves after the grace', async () => {
    const c = await cluster();
    const [n0, n1, n2] = c.nodes as unknown as [TestServer, TestServer, TestServer];
    const P = 'killedShow';
    const a = await join(n2, P, user('a'));
    const relayB = await Relay.start(n0);
    const relayC = await Relay.start(n0);
    const b = await viaRelay(relayB, n0, P, user('b'));
    const gone = await viaRelay(relayC, n0, P, user('gone'));
    const roomId = await createOk(a, { title: 'killed', max: 10 });
    await joinOk(b, { roomId });
    await joinOk(gone, { roomId });
    await heardJoins(a, b, gone);
    await say(a, roomId, 'before');
    const markA = a.events.log.length;

    relayB.retarget(n1);
    relayC.down = true;
    const back = reconnected(b, 5000);
    const killedAt = performance.now();
    await c.nodes[0]!.kill();
    await back;
    const [state] = (await b.events.some('session', () => true, 5000)) as [{ resumed: boolean; roomId: string }];
    expect(state).toEqual({ resumed: true, roomId });
    const heard = a.events.next('chat', (m: { msg: string }) => m.msg === 'survived');
    await say(b, roomId, 'survived');
    await heard;

    // The one who stays away: held from when a survivor noticed the death, then let go, once.
    const [left] = (await a.events.next('leaveRoom', () => true, NODE_TIMEOUT_MS + GRACE_MS + 5000)) as [{ userUID: string }];
    expect(left.userUID).toBe(gone.who.userUID);
    expect(performance.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS);
    const sync = b.events.some('chat', (m: { msg: string }) => m.msg === 'after');
    await say(a, roomId, 'after');
    await sync;
    expect(since(a, markA, 'leaveRoom').map((s) => (s.args[0] as { userUID: string }).userUID)).toEqual([gone.who.userUID]);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });

  it('the server holding a session in its grace killed: the return through a survivor resumes it; the grace of one who stays away is ended by a survivor', async () => {
    const c = await cluster();
    const [n0, n1, n2] = c.nodes as unknown as [TestServer, TestServer, TestServer];
    const P = 'heldShow';
    const a = await join(n2, P, user('a'));
    const relayB = await Relay.start(n0);
    const relayC = await Relay.start(n0);
    const b = await viaRelay(relayB, n0, P, user('b'));
    const gone = await viaRelay(relayC, n0, P, user('gone'));
    const roomId = await createOk(a, { title: 'held', max: 10 });
    await joinOk(b, { roomId });
    await joinOk(gone, { roomId });
    await heardJoins(a, b, gone);
    const markA = a.events.log.length;

    for (const r of [relayB, relayC]) {
      r.down = true;
      r.cut();
    }
    await Promise.all([b.events.some('disconnect'), gone.events.some('disconnect')]);
    await say(a, roomId, 'while away');
    const cutAt = performance.now();
    // n0 held both sessions (its own timers would end them), and dies now.
    await c.nodes[0]!.kill();
    relayB.retarget(n1);
    const back = reconnected(b);
    relayB.down = false;
    await back;
    const got = b.events.some('chat', (m: { msg: string }) => m.msg === 'while away');
    await got;

    const [left] = (await a.events.next('leaveRoom', () => true, GRACE_MS + 5000)) as [{ userUID: string }];
    expect(left.userUID).toBe(gone.who.userUID);
    expect(performance.now() - cutAt).toBeGreaterThanOrEqual(GRACE_MS - 200);
    const sync = b.events.some('chat', (m: { msg: string }) => m.msg === 'after');
    await say(a, roomId, 'after');
    await sync;
    expect(b.events.all('chat', (m: { msg: string }) => m.msg === 'while away')).toHaveLength(1);
    expect(since(a, markA, 'leaveRoom')).toHaveLength(1);
    expect(since(a, markA, 'joinRoom')).toEqual([]);
  });
});
