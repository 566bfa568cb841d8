/**
 * The SDK against a real server: connecting and its refusals, every call resolving with its
 * result, and refused calls rejecting with the protocol's code.
 */
import { createServer, type Server, type Socket as NetSocket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { OnAirConnectError, OnAirError, waitFor, type ChatMessage, type OnAirClient } from '@onair/client';
import { user, WAIT_MS } from '../helpers/client.js';
import { sdk, sdkConnect, sdkOptions, rejection } from '../helpers/sdk.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PROGRAM = 'prog-sdk';

async function refusedWith(p: Promise<unknown>, code: string): Promise<OnAirError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(OnAirError);
  expect((err as OnAirError).code).toBe(code);
  expect((err as OnAirError).message.length).toBeGreaterThan(0);
  return err as OnAirError;
}

async function connectRefusedWith(p: Promise<unknown>, code: string): Promise<OnAirConnectError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(OnAirConnectError);
  expect((err as OnAirConnectError).code).toBe(code);
  return err as OnAirConnectError;
}

/** A creator in a new room and a second member who has joined it. */
async function pair(server: TestServer, room: { title: string; max: number; password?: string } = { title: 'pair', max: 10 }) {
  const a = await sdk(server, PROGRAM);
  const b = await sdk(server, PROGRAM);
  const { roomId } = await a.createRoom(room);
  await b.joinRoom(roomId, room.password);
  return { a, b, roomId };
}

describe('connect', () => {
  it('resolves once connected with the lobby already in state.rooms', async () => {
    const server = await startServer();
    const first = await sdk(server, PROGRAM);
    const { roomId } = await first.createRoom({ title: 'before you came', max: 5 });

    const c = await sdkConnect(sdkOptions(server, PROGRAM, { identity: user('mina') }));
    expect(c.state.connected).toBe(true);
    expect(c.socket.connected).toBe(true);
    expect(c.program).toBe(PROGRAM);
    expect([...c.state.rooms.values()]).toEqual([{ roomId, title: 'before you came', max: 5, count: 1 }]);
    expect(c.state.roomId).toBeNull();
    expect(c.state.me).toMatchObject({ displayName: 'mina' });
  });

  it('rejects a handshake without identity with AUTH_REQUIRED', async () => {
    const server = await startServer();
    const err = await connectRefusedWith(sdkConnect(sdkOptions(server, PROGRAM)), 'AUTH_REQUIRED');
    expect(err.message.length).toBeGreaterThan(0);
  });

  it('rejects an identity the server refuses with AUTH_INVALID', async () => {
    const server = await startServer();
    await connectRefusedWith(sdkConnect(sdkOptions(server, PROGRAM, { identity: { userUID: 'has space', displayName: 'x' } })), 'AUTH_INVALID');
  });

  it('rejects a namespace the server refuses with UNKNOWN, keeping the cause', async () => {
    const server = await startServer();
    const err = await connectRefusedWith(sdkConnect(sdkOptions(server, 'not a programme!', { identity: user() })), 'UNKNOWN');
    expect((err.cause as Error).message).toBe('Invalid namespace');
  });

  it('rejects with TIMEOUT when the server never answers', async () => {
    // A TCP server that accepts and stays silent: the TLS handshake never completes.
    const held: NetSocket[] = [];
    const silent: Server = createServer((s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = performance.now();
      await connectRefusedWith(
        sdkConnect({ url: `https://127.0.0.1:${port}`, program: PROGRAM, identity: user(), transports: ['websocket'], timeoutMs: 300 }),
        'TIMEOUT',
      );
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('JWT mode', () => {
    const SECRET = 'sdk-test-secret-that-is-long-enough!!';
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

    it('connects with a token, knowing its identity from the claims', async () => {
      const server = await startServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
      const token = await sign({ sub: 'jwt-user-1', name: 'Ünal', picture: 'https://img.example/u.png' });
      const c = await sdkConnect(sdkOptions(server, PROGRAM, { token }));
      expect(c.state.me).toEqual({ userUID: 'jwt-user-1', displayName: 'Ünal', photoURL: 'https://img.example/u.png' });
      await c.createRoom({ title: 'jwt room', max: 3 });
      expect(c.state.members).toEqual([{ userUID: 'jwt-user-1', displayName: 'Ünal', photoURL: 'https://img.example/u.png' }]);
    });

    it('rejects a token signed with another secret with AUTH_INVALID', async () => {
      const server = await startServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
      const token = await new SignJWT({ sub: 'u' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('another-secret-that-is-long-enough!!'));
      await connectRefusedWith(sdkConnect(sdkOptions(server, PROGRAM, { token })), 'AUTH_INVALID');
    });
  });
});

describe('calls', () => {
  it('loadRooms and loadUsers resolve with the lists', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM, user('ana'));
    expect(await a.loadRooms()).toEqual([]);
    expect(await a.loadUsers()).toEqual([]);
    const { roomId } = await a.createRoom({ title: 'lists', max: 4 });
    expect(await a.loadUsers()).toEqual([{ userUID: a.state.me!.userUID, displayName: 'ana' }]);
    const b = await sdk(server, PROGRAM);
    expect(await b.loadRooms()).toEqual([{ roomId, title: 'lists', max: 4, count: 1 }]);
  });

  it('createRoom enters the new room, with its creator as the only member', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM, user('ana'));
    const created = await a.createRoom({ title: '  Election night ', max: 50, password: 'pw' });
    expect(created).toEqual({ roomId: expect.any(String), title: 'Election night' });
    expect(a.state.roomId).toBe(created.roomId);
    expect(a.state.rooms.get(created.roomId)).toEqual({ roomId: created.roomId, title: 'Election night', max: 50, count: 1, password: true });
    expect(a.state.members).toEqual([{ userUID: a.state.me!.userUID, displayName: 'ana' }]);
  });

  it('joinRoom resolves with the members loaded, password rooms included', async () => {
    const server = await startServer();
    const { a, b, roomId } = await pair(server, { title: 'locked', max: 3, password: 'secret' });
    expect(b.state.roomId).toBe(roomId);
    expect(b.state.members.map((u) => u.userUID)).toEqual([a.state.me!.userUID, b.state.me!.userUID]);
  });

  it('joining the room one is in resolves and changes nothing', async () => {
    const server = await startServer();
    const { b, roomId } = await pair(server);
    const before = b.state.snapshot;
    expect(await b.joinRoom(roomId)).toEqual({ roomId, history: [] });
    expect(b.state.members).toEqual(before.members);
    expect(b.state.roomId).toBe(roomId);
  });

  it("joinRoom brings the room's history into state.messages; history() pages back", async () => {
    const server = await startServer({ HISTORY_SIZE: '6' });
    const { a, b, roomId } = await pair(server);
    const texts = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
    for (const t of texts) {
      await a.chat(t);
      await waitFor(b.state, (st) => st.messages.some((m) => m.msg === t));
    }
    const c = await sdk(server, PROGRAM);
    const joined = await c.joinRoom(roomId);
    expect(joined.history.map((m) => m.msg)).toEqual(texts.slice(2));
    expect(c.state.messages).toEqual(joined.history);
    const older = await c.history({ before: joined.history[3]!.id, limit: 2 });
    expect(older.map((m) => m.msg)).toEqual(['four', 'five']);
    expect(await c.history({ before: joined.history[0]!.id })).toEqual([]);
    // The page is the caller's to show: the state keeps what the join brought.
    expect(c.state.messages).toEqual(joined.history);
  });

  it('leaveRoom returns to the lobby with a fresh room list', async () => {
    const server = await startServer();
    const { b, roomId } = await pair(server);
    await b.leaveRoom();
    expect(b.state.roomId).toBeNull();
    expect(b.state.members).toEqual([]);
    // The list came with the leave: the room is there with its creator alone.
    expect(b.state.rooms.get(roomId)).toMatchObject({ count: 1 });
  });

  it('chat resolves with the id and time, and keeps the own message', async () => {
    const server = await startServer();
    const { a, b, roomId } = await pair(server);
    const heard = new Promise<ChatMessage>((resolve) => b.on('chat', resolve));
    const sent = await a.chat('  hello\u0007 there ');
    expect(sent).toEqual({ id: expect.any(String), ts: expect.any(Number) });
    const got = await heard;
    const own = a.state.messages.at(-1);
    // What the sender keeps is what the others got.
    expect(own).toEqual(got);
    expect(own).toMatchObject({ id: sent.id, ts: sent.ts, msg: 'hello there', roomId, type: 'N', userUID: a.state.me!.userUID });
  });

  it('postAggro and vote resolve; the vote carries the new total', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '5000' });
    const { a, b, roomId } = await pair(server);
    const aggro = await a.postAggro('what a goal', { titleBroad: 'News_NHK' });
    expect(aggro).toEqual({ aggroUID: expect.any(String), ts: expect.any(Number), expiresAt: aggro.ts + 5000 });
    // The sender hears its own aggro.
    expect(a.state.aggro).toMatchObject({ aggroUID: aggro.aggroUID, roomId, msg: 'what a goal', type: 'A', point: 0 });
    await waitFor(b.state, (s) => s.aggro?.aggroUID === aggro.aggroUID, WAIT_MS);
    expect(await b.vote(aggro.aggroUID, 'down')).toEqual({ point: -1 });
    expect(b.state.aggro?.point).toBe(-1);
  });

  it('postAggro can post the seed\'s AP type', async () => {
    const server = await startServer();
    const { a } = await pair(server);
    await a.postAggro('poll', { type: 'AP' });
    expect(a.state.aggro).toMatchObject({ type: 'AP', msg: 'poll' });
  });

  it('on() delivers a server event until its off() is called', async () => {
    const server = await startServer();
    const { a, b } = await pair(server);
    const seen: string[] = [];
    const off = b.on('chat', (m) => seen.push(m.msg));
    const first = new Promise<void>((resolve) => b.socket.once('chat', () => resolve()));
    await a.chat('one');
    await first;
    off();
    // A second listener tells when the next message is in; the first one must not have heard it.
    const second = new Promise<void>((resolve) => b.socket.once('chat', () => resolve()));
    await a.chat('two');
    await second;
    expect(seen).toEqual(['one']);
    expect(b.state.messages.map((m) => m.msg)).toEqual(['one', 'two']);
  });
});

describe('refused calls reject with the documented code', () => {
  let server: TestServer;

  it('EJ001: no such room', async () => {
    server = await startServer();
    const a = await sdk(server, PROGRAM);
    await refusedWith(a.joinRoom('no-such-room'), 'EJ001');
    expect(a.state.roomId).toBeNull();
  });

  it('EJ002: room is full', async () => {
    server = await startServer();
    const { roomId } = await pair(server, { title: 'two seats', max: 2 });
    const c = await sdk(server, PROGRAM);
    await refusedWith(c.joinRoom(roomId), 'EJ002');
    expect(c.state.roomId).toBeNull();
  });

  it('EJ003: wrong password, and none given', async () => {
    server = await startServer();
    const a = await sdk(server, PROGRAM);
    const { roomId } = await a.createRoom({ title: 'locked', max: 5, password: 'right' });
    const b = await sdk(server, PROGRAM);
    await refusedWith(b.joinRoom(roomId, 'wrong'), 'EJ003');
    await refusedWith(b.joinRoom(roomId), 'EJ003');
  });

  it('EC001: invalid room', async () => {
    server = await startServer();
    const a = await sdk(server, PROGRAM);
    await refusedWith(a.createRoom({ title: '   ', max: 5 }), 'EC001');
    await refusedWith(a.createRoom({ title: 'ok', max: 1 }), 'EC001');
    expect(a.state.roomId).toBeNull();
  });

  it('EM001 outside a room, without asking the server', async () => {
    server = await startServer();
    const a = await sdk(server, PROGRAM);
    const sent: string[] = [];
    a.socket.onAnyOutgoing((event: string) => sent.push(event));
    await refusedWith(a.chat('hello?'), 'EM001');
    await refusedWith(a.postAggro('hello?'), 'EM001');
    await refusedWith(a.leaveRoom(), 'EM001');
    // The listener sees every packet the SDK emits, so it proves the server was not asked.
    expect(sent).toEqual([]);
  });

  it('EM002: empty message', async () => {
    server = await startServer();
    const { a } = await pair(server);
    await refusedWith(a.chat(' \n '), 'EM002');
    expect(a.state.messages).toEqual([]);
  });

  it('EA001: another aggro is live', async () => {
    server = await startServer({ AGGRO_TTL_MS: '5000' });
    const { a, b } = await pair(server);
    await a.postAggro('first');
    await refusedWith(b.postAggro('second'), 'EA001');
  });

  it('EA002: posting again within the cooldown', async () => {
    server = await startServer({ AGGRO_TTL_MS: '300', AGGRO_COOLDOWN_MS: '10000' });
    const { a } = await pair(server);
    const { aggroUID } = await a.postAggro('first');
    await waitFor(a.state, (s) => s.aggro === null, WAIT_MS);
    expect(a.state.aggro).toBeNull();
    expect(aggroUID).toEqual(expect.any(String));
    await refusedWith(a.postAggro('again'), 'EA002');
  });

  it('EA003: no such live aggro; EV001: malformed aggro id', async () => {
    server = await startServer();
    const { b } = await pair(server);
    await refusedWith(b.vote('no-such-aggro', 'up'), 'EA003');
    await refusedWith(b.vote('not an id!', 'up'), 'EV001');
  });

  it('EA004: voting twice, or on one\'s own aggro', async () => {
    server = await startServer({ AGGRO_TTL_MS: '5000' });
    const { a, b } = await pair(server);
    const { aggroUID } = await a.postAggro('vote on me');
    await refusedWith(a.vote(aggroUID, 'up'), 'EA004');
    expect(await b.vote(aggroUID, 'up')).toEqual({ point: 1 });
    await refusedWith(b.vote(aggroUID, 'down'), 'EA004');
  });
});

describe('without a connection', () => {
  it('a call after close() rejects with DISCONNECTED at once', async () => {
    const server = await startServer();
    const a: OnAirClient = await sdk(server, PROGRAM);
    a.close();
    expect(a.state.connected).toBe(false);
    await connectRefusedWith(a.loadRooms(), 'DISCONNECTED');
  });

  it('a call in flight when the connection drops rejects with DISCONNECTED', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM);
    const gone = new Promise<void>((resolve) => a.socket.once('disconnect', () => resolve()));
    // Sent and then cut off before an answer: the client drops its own transport.
    const pending = a.loadRooms();
    a.socket.io.engine.close();
    await gone;
    await connectRefusedWith(pending, 'DISCONNECTED');
  });
});
