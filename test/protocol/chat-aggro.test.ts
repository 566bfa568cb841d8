/**
 * Spec section 4: chat, aggros and votes, over real TLS sockets. Clients are spread over the
 * topology's servers with `t.server(i)`; every "did not happen" is checked behind an
 * event-driven barrier (a later event from the same sender's server, or the sender's own ack).
 */
import { describe, expect, it } from 'vitest';
import type { AggroMessage, AckResult, ChatMessage, UserInfo } from '../../src/protocol/index.js';
import type { AggroRecord } from '../../src/domain/model.js';
import { call, join, user, type Who } from '../helpers/client.js';
import { startTopology, type Topology } from '../helpers/topology.js';

type Member = Awaited<ReturnType<typeof join>>;
type AggroAck = { aggroUID: string; ts: number; expiresAt: number };

/** The ack of a call that must have succeeded, typed. */
function ok<T extends object>(res: AckResult<T>): { ok: true } & T {
  if (!res.ok) throw new Error(`expected ok, got ${res.code} (${res.message})`);
  return res;
}

/** The error code of a call that must have failed (the ack also carries a human message). */
function code(res: AckResult): string {
  if (res.ok) throw new Error(`expected an error, got ${JSON.stringify(res)}`);
  expect(typeof res.message).toBe('string');
  return res.code;
}

function withPhoto(name: string): Who {
  return { ...user(name), photoURL: `https://img.example/${name}.png` };
}

/**
 * Connect `people` (spread over the servers from `firstServer` on), the first creates a room and
 * the others join it; resolves once each joiner has seen its own `joinRoom`, i.e. is in the room.
 */
async function room(
  t: Topology,
  program: string,
  people: number | Who[],
  firstServer = 0,
): Promise<{ roomId: string; members: Member[] }> {
  const whos = typeof people === 'number' ? Array.from({ length: people }, () => user()) : people;
  const members = await Promise.all(whos.map((w, i) => join(t.server(firstServer + i), program, w)));
  const [creator, ...rest] = members;
  const { roomId } = ok(await call<{ roomId: string }>(creator!, 'createRoom', { title: 'room', max: 120 }));
  await Promise.all(
    rest.map(async (m) => {
      const self = m.events.next('joinRoom', (u: UserInfo) => u.userUID === m.who.userUID);
      ok(await call(m, 'joinRoom', { roomId }));
      await self;
    }),
  );
  return { roomId, members };
}

function post(c: Member, roomId: string, type: 'A' | 'AP' = 'A', msg = 'what a goal', extra: object = {}) {
  return call<AggroAck>(c, 'chat', { roomId, msg, type, ...extra });
}

/** Epoch ms at which `c` receives `stopAggro` for `aggroUID`. */
function stopTime(c: Member, aggroUID: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for "stopAggro"')), timeoutMs);
    const on = (id: string) => {
      if (id !== aggroUID) return;
      clearTimeout(timer);
      c.off('stopAggro', on);
      resolve(Date.now());
    };
    c.on('stopAggro', on);
  });
}

/** The `aggroPoint` values a client got for one aggro before its `stopAggro`. */
function pointsBeforeStop(c: Member, aggroUID: string): number[] {
  const stop = c.events.log.findIndex((s) => s.event === 'stopAggro' && s.args[0] === aggroUID);
  expect(stop).toBeGreaterThanOrEqual(0);
  return c.events.log
    .slice(0, stop)
    .filter((s) => s.event === 'aggroPoint' && (s.args[0] as { aggroUID: string }).aggroUID === aggroUID)
    .map((s) => (s.args[0] as { point: number }).point);
}

describe('chat type N', () => {
  it('reaches the other members with the session identity, trimmed and without control characters', async () => {
    const t = await startTopology();
    const P = 'ca-chat-n';
    const alice = withPhoto('alice');
    const {
      roomId,
      members: [a, b, c],
    } = await room(t, P, [alice, user('bob'), user('carol')]);
    const {
      roomId: room2,
      members: [e],
    } = await room(t, P, [user('erin')], 3);
    const d = await join(t.server(4), P, user('lobby'));

    const gotB = b!.events.next('chat');
    const gotC = c!.events.next('chat');
    const res = ok(
      await call<{ id: string; ts: number }>(a!, 'chat', {
        roomId,
        msg: '  \u0007hi\u0001 there\r\n\tx\u001b\u007f  ',
        type: 'N',
        userUID: 'forged-uid',
        displayName: 'Mallory',
        photoURL: 'https://evil.example/m.png',
      }),
    );
    expect(res).toEqual({ ok: true, id: expect.any(String), ts: expect.any(Number) });
    expect(Math.abs(res.ts - Date.now())).toBeLessThan(5000);

    const expected = { displayName: 'alice', msg: 'hi there\n\tx', roomId, type: 'N', userUID: alice.userUID, id: res.id, ts: res.ts };
    for (const got of [gotB, gotC]) {
      const { photoURL, ...rest } = (await got)[0] as ChatMessage;
      expect(rest).toEqual(expected);
      // The spec's chat event has no photoURL; if the server adds one it must be the session's.
      expect([undefined, alice.photoURL]).toContain(photoURL);
    }
    // The sender's ack is written after any broadcast that could have reached the sender.
    expect(a!.events.all('chat')).toEqual([]);

    // A second message gets its own id.
    const second = a!.events.next('chat');
    const res2 = ok(await call<{ id: string; ts: number }>(b!, 'chat', { roomId, msg: 'yo', type: 'N' }));
    expect(((await second)[0] as ChatMessage).id).toBe(res2.id);
    expect(res2.id).not.toBe(res.id);

    // Barrier for the lobby and the other room: alice's server announces her move to room2
    // (joinRoom to room2, count to the lobby) after the chats it broadcast.
    const eSaw = e!.events.next('joinRoom', (u: UserInfo) => u.userUID === alice.userUID);
    const dSaw = d.events.next('count', (u: { roomId: string; count: number }) => u.roomId === room2 && u.count === 2);
    ok(await call(a!, 'joinRoom', { roomId: room2 }));
    await Promise.all([eSaw, dSaw]);
    expect(d.events.all('chat')).toEqual([]);
    expect(e!.events.all('chat')).toEqual([]);
  });

  it('EM001 when the sender is not in roomId (lobby, another room, no such room)', async () => {
    const t = await startTopology();
    const P = 'ca-chat-em001';
    const {
      roomId,
      members: [a, b],
    } = await room(t, P, 2);
    const {
      members: [e],
    } = await room(t, P, 1, 2);
    const d = await join(t.server(3), P, user('lobby'));

    expect(code(await call(d, 'chat', { roomId, msg: 'from the lobby', type: 'N' }))).toBe('EM001');
    expect(code(await call(e!, 'chat', { roomId, msg: 'from room2', type: 'N' }))).toBe('EM001');
    expect(code(await call(e!, 'chat', { roomId, msg: 'aggro from room2', type: 'A' }))).toBe('EM001');
    expect(code(await call(a!, 'chat', { roomId: 'noSuchRoom123', msg: 'hi', type: 'N' }))).toBe('EM001');

    // Barrier: d and e then join the room; their servers broadcast those joins after anything
    // the refused calls could have sent.
    const seen = [a!, b!].map((m) =>
      Promise.all([
        m.events.next('joinRoom', (u: UserInfo) => u.userUID === d.who.userUID),
        m.events.next('joinRoom', (u: UserInfo) => u.userUID === e!.who.userUID),
      ]),
    );
    ok(await call(d, 'joinRoom', { roomId }));
    ok(await call(e!, 'joinRoom', { roomId }));
    await Promise.all(seen);
    for (const m of [a!, b!]) {
      expect(m.events.all('chat')).toEqual([]);
      expect(m.events.all('aggro')).toEqual([]);
    }
  });

  it('EM002 for empty or whitespace messages, messages over CHAT_MAX_LENGTH and unknown types', async () => {
    const t = await startTopology({ CHAT_MAX_LENGTH: '10' });
    const P = 'ca-chat-em002';
    const {
      roomId,
      members: [a, b],
    } = await room(t, P, 2);

    const bad: unknown[] = [
      { roomId, msg: '', type: 'N' },
      { roomId, msg: '    ', type: 'N' },
      { roomId, msg: ' \n\t \r\n ', type: 'N' },
      { roomId, msg: '\u0001\u0002\u007f', type: 'N' },
      { roomId, msg: 'x'.repeat(11), type: 'N' },
      { roomId, msg: '😀'.repeat(11), type: 'N' },
      { roomId, msg: 'x'.repeat(11), type: 'A' },
      { roomId, msg: 'hello', type: 'X' },
      { roomId, msg: 'hello' },
      { roomId, msg: 42, type: 'N' },
    ];
    for (const payload of bad) expect(code(await call(a!, 'chat', payload)), JSON.stringify(payload)).toBe('EM002');

    // At the bound, counted in characters after trimming, messages pass.
    const good = ['x'.repeat(10), `   ${'y'.repeat(10)}   `, '😀'.repeat(10)];
    const got = b!.events.next('chat', (m: ChatMessage) => m.msg === '😀'.repeat(10));
    for (const msg of good) ok(await call(a!, 'chat', { roomId, msg, type: 'N' }));
    await got;
    // Nothing refused was delivered: only the three good ones, in order.
    expect(b!.events.all('chat').map((s) => (s.args[0] as ChatMessage).msg)).toEqual(['x'.repeat(10), 'y'.repeat(10), '😀'.repeat(10)]);
    expect(b!.events.all('aggro')).toEqual([]);
  });

  it('EM002 above the default CHAT_MAX_LENGTH of 300', async () => {
    const t = await startTopology();
    const P = 'ca-chat-em002-default';
    const {
      roomId,
      members: [a, b],
    } = await room(t, P, 2);
    expect(code(await call(a!, 'chat', { roomId, msg: 'z'.repeat(301), type: 'N' }))).toBe('EM002');
    const got = b!.events.next('chat');
    ok(await call(a!, 'chat', { roomId, msg: 'z'.repeat(300), type: 'N' }));
    expect(((await got)[0] as ChatMessage).msg).toBe('z'.repeat(300));
  });
});

describe('aggro', () => {
  it.each(['A', 'AP'] as const)('type %s: the whole room gets `aggro`, identity from the session', async (type) => {
    const t = await startTopology({ AGGRO_TTL_MS: '5000' });
    const P = `ca-aggro-post-${type}`;
    const alice = withPhoto('alice');
    const { roomId, members } = await room(t, P, [alice, user('bob'), user('carol')]);
    const [a] = members;

    const got = members.map((m) => m.events.next('aggro'));
    const res = ok(
      await post(a!, roomId, type, '  big\u0001 play  ', {
        titleBroad: 'News_KBS',
        userUID: 'forged-uid',
        displayName: 'Mallory',
        photoURL: 'https://evil.example/m.png',
      }),
    );
    expect(res).toEqual({ ok: true, aggroUID: expect.any(String), ts: expect.any(Number), expiresAt: expect.any(Number) });
    expect(res.expiresAt - res.ts).toBe(5000);
    expect(Math.abs(res.ts - Date.now())).toBeLessThan(5000);

    const expected: AggroMessage = {
      displayName: 'alice',
      msg: 'big play',
      roomId,
      type,
      userUID: alice.userUID,
      aggroUID: res.aggroUID,
      photoURL: alice.photoURL!,
      point: 0,
      ts: res.ts,
      expiresAt: res.expiresAt,
    };
    for (const g of got) expect((await g)[0]).toEqual(expected);
  });

  it('EA001 while another aggro is live, in the ack and as `aggroErr`', async () => {
    const t = await startTopology({ AGGRO_TTL_MS: '5000' });
    const P = 'ca-aggro-ea001';
    const {
      roomId,
      members: [a, b, c],
    } = await room(t, P, 3);
    const first = ok(await post(a!, roomId));

    const errB = b!.events.next('aggroErr');
    expect(code(await post(b!, roomId, 'A'))).toBe('EA001');
    expect((await errB)[0]).toBe('EA001');
    const errB2 = b!.events.next('aggroErr');
    expect(code(await post(b!, roomId, 'AP'))).toBe('EA001');
    expect((await errB2)[0]).toBe('EA001');
    // The author of the live aggro is refused the same way.
    const errA = a!.events.next('aggroErr');
    expect(code(await post(a!, roomId, 'A'))).toBe('EA001');
    expect((await errA)[0]).toBe('EA001');

    // Barrier: a chat by each refused sender reaches carol after anything their refused posts
    // could have broadcast.
    const chats = Promise.all([
      c!.events.next('chat', (m: ChatMessage) => m.userUID === a!.who.userUID),
      c!.events.next('chat', (m: ChatMessage) => m.userUID === b!.who.userUID),
    ]);
    ok(await call(a!, 'chat', { roomId, msg: 'barrier a', type: 'N' }));
    ok(await call(b!, 'chat', { roomId, msg: 'barrier b', type: 'N' }));
    await chats;
    expect(c!.events.all('aggro').map((s) => (s.args[0] as AggroMessage).aggroUID)).toEqual([first.aggroUID]);
  });

  it('EA002 when the same user posts again within AGGRO_COOLDOWN_MS, even after the first ended', async () => {
    const t = await startTopology({ AGGRO_TTL_MS: '200', AGGRO_COOLDOWN_MS: '5000' });
    const P = 'ca-aggro-ea002';
    const {
      roomId,
      members: [a, b],
    } = await room(t, P, 2);
    const first = ok(await post(a!, roomId));
    await a!.events.some('stopAggro', (id: string) => id === first.aggroUID);

    const err = a!.events.next('aggroErr');
    expect(code(await post(a!, roomId, 'A'))).toBe('EA002');
    expect((await err)[0]).toBe('EA002');
    const err2 = a!.events.next('aggroErr');
    expect(code(await post(a!, roomId, 'AP'))).toBe('EA002');
    expect((await err2)[0]).toBe('EA002');

    // The room is free (another user may post), so the refusal is alice's cooldown.
    const second = ok(await post(b!, roomId));
    await a!.events.some('stopAggro', (id: string) => id === second.aggroUID);
    // The cooldown belongs to the user, not the room.
    const { roomId: room2 } = await room(t, P, 1, 2);
    ok(await call(a!, 'joinRoom', { roomId: room2 }));
    expect(code(await post(a!, room2))).toBe('EA002');
  });

  it('after AGGRO_COOLDOWN_MS the same user may post again', async () => {
    const COOLDOWN = 300;
    const t = await startTopology({ AGGRO_TTL_MS: '100', AGGRO_COOLDOWN_MS: String(COOLDOWN) });
    const P = 'ca-aggro-cooldown-over';
    const {
      roomId,
      members: [a, b],
    } = await room(t, P, 2);
    const first = ok(await post(a!, roomId));
    await a!.events.some('stopAggro', (id: string) => id === first.aggroUID);

    // No event says "your cooldown is over": retry, each attempt waiting for its ack, within a
    // bounded time; every refusal meanwhile must be EA002.
    const deadline = Date.now() + COOLDOWN + 3000;
    let res: AckResult<AggroAck> = await post(a!, roomId, 'AP', 'again');
    while (!res.ok && Date.now() < deadline) {
      expect(res.code).toBe('EA002');
      res = await post(a!, roomId, 'AP', 'again');
    }
    const second = ok(res);
    expect(second.ts - first.ts).toBeGreaterThanOrEqual(COOLDOWN);
    const got = (await b!.events.some('aggro', (m: AggroMessage) => m.aggroUID === second.aggroUID))[0] as AggroMessage;
    expect(got).toMatchObject({ userUID: a!.who.userUID, type: 'AP', msg: 'again', point: 0 });
  });

  it('`stopAggro` reaches the room AGGRO_TTL_MS after the start, and the aggro is recorded as expired', async () => {
    const TTL = 400;
    const t = await startTopology({ AGGRO_TTL_MS: String(TTL) });
    const P = 'ca-aggro-expire';
    const { roomId, members } = await room(t, P, 4);
    const [a, b, c, e] = members;
    const lobby = await join(t.server(4), P, user('lobby'));
    const titleBroad = 'T'.repeat(100);

    const first = ok(await post(a!, roomId, 'A', ' expires soon ', { titleBroad }));
    const stops = members.map((m) => stopTime(m, first.aggroUID));
    let recordedAtStop: AggroRecord | undefined;
    const recordCheck = a!.events.some('stopAggro', (id: string) => id === first.aggroUID).then(() => {
      recordedAtStop = t.records.records.find((r) => r.aggroUID === first.aggroUID);
    });
    expect(ok(await call<{ point: number }>(b!, 'aggroUp', first.aggroUID)).point).toBe(1);
    expect(ok(await call<{ point: number }>(c!, 'aggroUp', first.aggroUID)).point).toBe(2);
    expect(ok(await call<{ point: number }>(e!, 'aggroDown', first.aggroUID)).point).toBe(1);

    const times = await Promise.all(stops);
    await recordCheck;
    for (const at of times) {
      // Not early (20 ms for clock rounding between the server's ts and this process's clock),
      // not much late (1 s covers a loaded machine).
      expect(at - first.ts).toBeGreaterThanOrEqual(TTL - 20);
      expect(at - first.ts).toBeLessThan(TTL + 1000);
    }

    // "A record is written before its end is broadcast."
    expect(recordedAtStop).toBeDefined();
    const rec = await t.records.waitFor((r) => r.aggroUID === first.aggroUID);
    expect(rec).toMatchObject({
      aggroUID: first.aggroUID,
      scheduleUID: P,
      roomId,
      userUID: a!.who.userUID,
      displayName: a!.who.displayName,
      msg: 'expires soon',
      type: 'A',
      titleBroad,
      point: 1,
      up: 2,
      down: 1,
      startedAt: first.ts,
      endReason: 'expired',
    });
    expect(rec.endedAt - rec.startedAt).toBeGreaterThanOrEqual(TTL);
    expect(rec.endedAt).toBeLessThanOrEqual(Math.min(...times));
    // The final total reached the room before stopAggro.
    for (const m of members) expect(pointsBeforeStop(m, first.aggroUID).at(-1)).toBe(1);
    // Not broadcast to the lobby (the lobby's barrier: the room's later count after bob leaves).
    const count = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 3);
    ok(await call(b!, 'leaveRoom', roomId));
    await count;
    expect(lobby.events.all('aggro')).toEqual([]);
    expect(lobby.events.all('stopAggro')).toEqual([]);
  });

  it('a joiner of a room with a live aggro gets `aggro` with the current point', async () => {
    const t = await startTopology({ AGGRO_TTL_MS: '5000' });
    const P = 'ca-aggro-joiner';
    const {
      roomId,
      members: [a, b, c],
    } = await room(t, P, [withPhoto('alice'), user('bob'), user('carol')]);
    const d = await join(t.server(3), P, user('dave'));
    const first = ok(await post(a!, roomId, 'AP', 'late joiners see me'));
    ok(await call(b!, 'aggroUp', first.aggroUID));
    expect(ok(await call<{ point: number }>(c!, 'aggroUp', { aggroUID: first.aggroUID })).point).toBe(2);
    // The lobby did not get the aggro (d's own barrier: its join ack comes after).
    expect(d.events.all('aggro')).toEqual([]);

    ok(await call(d, 'joinRoom', { roomId }));
    const [got] = (await d.events.some('aggro')) as [AggroMessage];
    expect(got).toEqual({
      displayName: 'alice',
      msg: 'late joiners see me',
      roomId,
      type: 'AP',
      userUID: a!.who.userUID,
      aggroUID: first.aggroUID,
      photoURL: a!.who.photoURL,
      point: 2,
      ts: first.ts,
      expiresAt: first.expiresAt,
    });

    // Only the joiner gets it again: barrier, a chat from d reaches the others after.
    const chats = [a!, b!, c!].map((m) => m.events.next('chat', (x: ChatMessage) => x.userUID === d.who.userUID));
    ok(await call(d, 'chat', { roomId, msg: 'hi', type: 'N' }));
    await Promise.all(chats);
    for (const m of [a!, b!, c!]) expect(m.events.all('aggro')).toHaveLength(1);
  });

  it.each(['leaveRoom', 'disconnect'] as const)(
    'the last member leaving (%s) ends the aggro, recorded as room_emptied',
    async (how) => {
      const t = await startTopology({ AGGRO_TTL_MS: '5000' });
      const P = `ca-aggro-emptied-${how}`;
      const {
        roomId,
        members: [a, b],
      } = await room(t, P, 2);
      const lobby = await join(t.server(2), P, user('lobby'));
      const first = ok(await post(a!, roomId, 'A', 'alone soon', { titleBroad: 'Show_MBC' }));
      ok(await call(b!, 'aggroUp', first.aggroUID));
      ok(await call(b!, 'leaveRoom', roomId));
      const deleted = lobby.events.next('deleteRoom', (r: { roomId: string }) => r.roomId === roomId);
      if (how === 'leaveRoom') ok(await call(a!, 'leaveRoom', { roomId }));
      else a!.disconnect();

      const rec = await t.records.waitFor((r) => r.aggroUID === first.aggroUID);
      expect(rec).toMatchObject({
        aggroUID: first.aggroUID,
        scheduleUID: P,
        roomId,
        userUID: a!.who.userUID,
        msg: 'alone soon',
        titleBroad: 'Show_MBC',
        point: 1,
        up: 1,
        down: 0,
        startedAt: first.ts,
        endReason: 'room_emptied',
      });
      expect(rec.endedAt).toBeLessThan(first.expiresAt);
      await deleted;
    },
  );
});

describe('votes', () => {
  it('aggroUp/aggroDown in string and object form; EA004 for a second vote or one on one\'s own; EA003 otherwise', async () => {
    const t = await startTopology({ AGGRO_TTL_MS: '1500' });
    const P = 'ca-votes-rules';
    const {
      roomId,
      members: [a, b, c, e, g],
    } = await room(t, P, 5);
    const {
      roomId: room2,
      members: [f, h],
    } = await room(t, P, 2, 5);
    const d = await join(t.server(7), P, user('lobby'));

    const first = ok(await post(a!, roomId));
    const other = ok(await post(f!, room2));
    const id = first.aggroUID;

    expect(await call(b!, 'aggroUp', id)).toEqual({ ok: true, point: 1 });
    expect(await call(c!, 'aggroDown', { aggroUID: id })).toEqual({ ok: true, point: 0 });
    expect(await call(e!, 'aggroUp', { aggroUID: id })).toEqual({ ok: true, point: 1 });

    // One vote per user, either direction, either form.
    expect(code(await call(b!, 'aggroUp', id))).toBe('EA004');
    expect(code(await call(b!, 'aggroDown', id))).toBe('EA004');
    expect(code(await call(c!, 'aggroUp', { aggroUID: id }))).toBe('EA004');
    // None on one's own.
    expect(code(await call(a!, 'aggroUp', id))).toBe('EA004');
    expect(code(await call(a!, 'aggroDown', { aggroUID: id }))).toBe('EA004');
    // Unknown aggro, or not in the caller's room.
    expect(code(await call(g!, 'aggroUp', 'noSuchAggro123'))).toBe('EA003');
    expect(code(await call(g!, 'aggroDown', { aggroUID: 'noSuchAggro123' }))).toBe('EA003');
    expect(code(await call(g!, 'aggroUp', other.aggroUID))).toBe('EA003');
    expect(code(await call(d, 'aggroUp', id))).toBe('EA003');
    expect(code(await call(d, 'aggroDown', { aggroUID: id }))).toBe('EA003');
    expect(code(await call(f!, 'aggroUp', id))).toBe('EA003');
    expect(code(await call(h!, 'aggroDown', id))).toBe('EA003');

    // Refused votes changed nothing: g (who has not voted) still may, and sees the total.
    expect(await call(g!, 'aggroDown', id)).toEqual({ ok: true, point: 0 });

    // After the end: EA003, even for a user who never voted on it.
    await a!.events.some('stopAggro', (x: string) => x === id);
    const late = await join(t.server(8), P, user('late'));
    ok(await call(late, 'joinRoom', { roomId }));
    expect(code(await call(late, 'aggroUp', id))).toBe('EA003');
    expect(code(await call(g!, 'aggroUp', id))).toBe('EA003');

    const rec = await t.records.waitFor((r) => r.aggroUID === id);
    expect(rec).toMatchObject({ point: 0, up: 2, down: 2, endReason: 'expired' });
  });

  it('vote integrity: 12 users voting up 3 times at once and 5 voting down count 12 up and 5 down', async () => {
    const t = await startTopology({ AGGRO_TTL_MS: '1200' });
    const P = 'ca-votes-integrity';
    const { roomId, members } = await room(t, P, 18);
    const [author, ...voters] = members;
    const ups = voters.slice(0, 12);
    const downs = voters.slice(12);
    expect(downs).toHaveLength(5);

    const first = ok(await post(author!, roomId));
    const id = first.aggroUID;
    const [upAcks, downAcks] = await Promise.all([
      Promise.all(ups.map((m) => Promise.all([call(m, 'aggroUp', id), call(m, 'aggroUp', { aggroUID: id }), call(m, 'aggroUp', id)]))),
      Promise.all(downs.map((m) => call(m, 'aggroDown', id))),
    ]);
    for (const acks of upAcks) {
      expect(acks.filter((r) => r.ok)).toHaveLength(1);
      expect(acks.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.code))).toEqual(['EA004', 'EA004']);
    }
    for (const r of downAcks) expect(r.ok).toBe(true);

    await Promise.all(members.map((m) => m.events.some('stopAggro', (x: string) => x === id)));
    for (const m of members) expect(pointsBeforeStop(m, id).at(-1)).toBe(7);
    const rec = await t.records.waitFor((r) => r.aggroUID === id);
    expect(rec).toMatchObject({ point: 7, up: 12, down: 5, endReason: 'expired' });
  });
});
