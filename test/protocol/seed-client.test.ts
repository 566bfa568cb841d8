/**
 * A client written for the seed keeps working: socket.io path `/jg`, websocket only, identity in
 * the handshake query, no acknowledgements, only the seed's reply events.
 */
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import type { AggroMessage, RoomSummary, UserInfo } from '../../src/protocol/index.js';
import { client, refusal, user, WAIT_MS, type Client, type Recorder, type Who } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { startTopology } from '../helpers/topology.js';

const P = 'seedShow';
const TTL_MS = 1200;

type SeedClient = Client & { events: Recorder; who: Who & { photoURL: string }; rooms: RoomSummary[] };

/** Connect the way the seed's mobile client does, and wait for the lobby's `loadRooms`. */
async function seedClient(server: TestServer, name: string): Promise<SeedClient> {
  const who = { ...user(name), photoURL: `https://img.example.com/${name}.png` };
  const c = client(server, P, {
    path: '/jg',
    transports: ['websocket'],
    query: { userUID: who.userUID, displayName: who.displayName, photoURL: who.photoURL },
  }) as SeedClient;
  c.who = who;
  const loaded = c.events.next('loadRooms');
  c.connect();
  [c.rooms] = (await loaded) as [RoomSummary[]];
  return c;
}

/** The seed's client emits without acknowledgements, and sometimes with fields the server ignores. */
function send(c: Client, event: string, ...args: unknown[]): void {
  (c as unknown as { emit(event: string, ...args: unknown[]): void }).emit(event, ...args);
}

/** A plain HTTPS GET to the test server, verifying its certificate. */
function httpsGet(server: TestServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${server.url}${path}`, { ...(server.ca ? { ca: server.ca } : {}), timeout: WAIT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

const info = (c: SeedClient): UserInfo => ({ userUID: c.who.userUID, displayName: c.who.displayName, photoURL: c.who.photoURL });

describe('seed-era client', () => {
  it('does the whole flow with path /jg, websocket only, query identity and no acks', async () => {
    const t = await startTopology({ SOCKET_PATH: '/jg', TRANSPORTS: 'websocket', AGGRO_TTL_MS: String(TTL_MS) });
    const lobby = await seedClient(t.server(0), 'lobby');
    expect(lobby.rooms).toEqual([]);
    const a = await seedClient(t.server(1), 'alice');
    const b = await seedClient(t.server(2), 'bob');

    // createRoom -> createRoomReq to the creator, addRoom to the lobby.
    const created = a.events.next('createRoomReq');
    const added = lobby.events.next('addRoom');
    send(a, 'createRoom', { scheduleUID: P, title: 'Seed room', max: 5 });
    const [reply] = (await created) as [{ result: boolean; roomId: string; title: string }];
    expect(reply).toEqual({ result: true, roomId: expect.any(String), title: 'Seed room' });
    const roomId = reply.roomId;
    expect((await added)[0]).toEqual({ roomId, title: 'Seed room', count: 1, max: 5 });

    // joinRoom -> joinRoomReq to the joiner, joinRoom to the room (joiner included), count to the lobby.
    const joinedReply = b.events.next('joinRoomReq');
    const aSeesJoin = a.events.next('joinRoom');
    const bSeesJoin = b.events.next('joinRoom');
    const count2 = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);
    send(b, 'joinRoom', { roomId });
    expect((await joinedReply)[0]).toEqual({ result: true });
    expect((await aSeesJoin)[0]).toEqual(info(b));
    expect((await bSeesJoin)[0]).toEqual(info(b));
    expect((await count2)[0]).toEqual({ roomId, count: 2 });

    // loadUsers -> loadUsers event with the room's members.
    const users = b.events.next('loadUsers');
    send(b, 'loadUsers');
    const [list] = (await users) as [UserInfo[]];
    expect([...list].sort((x, y) => x.userUID.localeCompare(y.userUID))).toEqual([info(a), info(b)].sort((x, y) => x.userUID.localeCompare(y.userUID)));

    // chat N -> the other member gets it, with the session's identity (payload identity ignored).
    const bChat = b.events.next('chat');
    send(a, 'chat', { roomId, msg: 'hello', type: 'N', userUID: 'spoofed', displayName: 'Spoofed' });
    expect((await bChat)[0]).toEqual({
      displayName: 'alice',
      msg: 'hello',
      roomId,
      type: 'N',
      userUID: a.who.userUID,
      photoURL: a.who.photoURL,
      id: expect.any(String),
      ts: expect.any(Number),
    });

    // chat A with titleBroad -> aggro to both.
    const aAggro = a.events.next('aggro');
    const bAggro = b.events.next('aggro');
    send(a, 'chat', { roomId, msg: 'What a goal!', type: 'A', titleBroad: 'Evening News_KBS' });
    const [aggro] = (await bAggro) as [AggroMessage];
    expect(aggro).toEqual({
      displayName: 'alice',
      msg: 'What a goal!',
      roomId,
      type: 'A',
      userUID: a.who.userUID,
      aggroUID: expect.any(String),
      photoURL: a.who.photoURL,
      point: 0,
      ts: expect.any(Number),
      expiresAt: expect.any(Number),
    });
    expect((await aAggro)[0]).toEqual(aggro);
    expect(aggro.expiresAt - aggro.ts).toBe(TTL_MS);
    const aggroAt = b.events.all('aggro')[0]!.at;

    // aggroUp(aggroUID string) -> aggroPoint to the room.
    const aPoint = a.events.next('aggroPoint');
    const bPoint = b.events.next('aggroPoint');
    send(b, 'aggroUp', aggro.aggroUID);
    expect((await aPoint)[0]).toEqual({ aggroUID: aggro.aggroUID, point: 1 });
    expect((await bPoint)[0]).toEqual({ aggroUID: aggro.aggroUID, point: 1 });

    // A second aggro while one is live -> aggroErr EA001 (bob is not cooling down).
    const err = b.events.next('aggroErr');
    send(b, 'chat', { roomId, msg: 'me too', type: 'A', titleBroad: 'Evening News_KBS' });
    expect((await err)[0]).toBe('EA001');

    // stopAggro after the TTL, to both, and the aggro is recorded.
    const aStop = a.events.some('stopAggro');
    const bStop = b.events.some('stopAggro');
    expect((await bStop)[0]).toBe(aggro.aggroUID);
    expect((await aStop)[0]).toBe(aggro.aggroUID);
    // Timer precision and delivery jitter aside, it ended when its TTL was up, not before.
    expect(b.events.all('stopAggro')[0]!.at - aggroAt).toBeGreaterThanOrEqual(TTL_MS - 50);
    const record = await t.records.waitFor((r) => r.aggroUID === aggro.aggroUID);
    expect(record).toMatchObject({ roomId, userUID: a.who.userUID, msg: 'What a goal!', point: 1, titleBroad: 'Evening News_KBS', endReason: 'expired' });
    // Exactly one aggro was started; the refused one left nothing behind.
    expect(a.events.all('aggro')).toHaveLength(1);
    expect(b.events.all('aggro')).toHaveLength(1);
    // The sender never gets its own normal chat back.
    expect(a.events.all('chat')).toEqual([]);

    // joinRoom with a wrong password -> joinRoomReq { result: false, err: 'EJ003' }.
    const d = await seedClient(t.server(0), 'dave');
    const lockedReply = d.events.next('createRoomReq');
    const lockedAdded = lobby.events.next('addRoom');
    send(d, 'createRoom', { scheduleUID: P, title: 'Locked', max: 3, password: 'open-sesame' });
    const [locked] = (await lockedReply) as [{ result: true; roomId: string; title: string }];
    expect(locked).toMatchObject({ result: true, title: 'Locked' });
    expect((await lockedAdded)[0]).toEqual({ roomId: locked.roomId, title: 'Locked', count: 1, max: 3, password: true });
    const refused = lobby.events.next('joinRoomReq');
    send(lobby, 'joinRoom', { roomId: locked.roomId, password: 'sesame' });
    expect((await refused)[0]).toEqual({ result: false, err: 'EJ003' });

    // leaveRoom(roomId string) -> leaveRoom to the room, a fresh loadRooms to the leaver, count to the lobby.
    const aSeesLeave = a.events.next('leaveRoom');
    const bRooms = b.events.next('loadRooms');
    const count1 = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 1);
    send(b, 'leaveRoom', roomId);
    expect((await aSeesLeave)[0]).toEqual({ userUID: b.who.userUID, displayName: 'bob' });
    expect((await bRooms)[0]).toEqual([
      { roomId, title: 'Seed room', max: 5, count: 1 },
      { roomId: locked.roomId, title: 'Locked', max: 3, count: 1, password: true },
    ]);
    expect((await count1)[0]).toEqual({ roomId, count: 1 });
    // The lobby's refused join left it in the lobby: it heard the count.

    // The last member leaving -> deleteRoom in the lobby (the earlier leaver, now in the lobby, too).
    const deleted = lobby.events.next('deleteRoom');
    const bDeleted = b.events.next('deleteRoom');
    const aRooms = a.events.next('loadRooms');
    send(a, 'leaveRoom', roomId);
    expect((await deleted)[0]).toEqual({ roomId });
    expect((await bDeleted)[0]).toEqual({ roomId });
    expect((await aRooms)[0]).toEqual([{ roomId: locked.roomId, title: 'Locked', max: 3, count: 1, password: true }]);

    // disconnect -> leaveRoom to the room.
    const bJoined = b.events.next('joinRoomReq');
    const count2Locked = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === locked.roomId && u.count === 2);
    send(b, 'joinRoom', { roomId: locked.roomId, password: 'open-sesame' });
    expect((await bJoined)[0]).toEqual({ result: true });
    // Counts are batched: wait for this one, or 2 -> 1 within one interval would rightly send none.
    await count2Locked;
    const bSeesDisconnect = b.events.next('leaveRoom');
    const count1Locked = lobby.events.next('count', (u: { roomId: string; count: number }) => u.roomId === locked.roomId && u.count === 1);
    d.disconnect();
    expect((await bSeesDisconnect)[0]).toEqual({ userUID: d.who.userUID, displayName: 'dave' });
    expect((await count1Locked)[0]).toEqual({ roomId: locked.roomId, count: 1 });

    // Nothing in the flow needed an ack, and nobody was thrown out.
    for (const c of [lobby, a, b]) expect(c.events.all('disconnect')).toEqual([]);
  });

  it('refuses polling when TRANSPORTS=websocket', async () => {
    const t = await startTopology({ SOCKET_PATH: '/jg', TRANSPORTS: 'websocket' });
    const who = user('poller');
    const polling = client(t.server(0), P, { path: '/jg', transports: ['polling'], query: { ...who } });
    const err = await refusal(polling);
    expect(err).toBeInstanceOf(Error);
    expect(polling.connected).toBe(false);
    // On the wire: engine.io's own refusal of the transport, and the server carries on.
    const raw = await httpsGet(t.server(0), '/jg/?EIO=4&transport=polling');
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toMatchObject({ message: 'Transport unknown' });
    expect((await httpsGet(t.server(0), '/healthz')).status).toBe(200);
    // The same identity over websocket is accepted, so the refusal was about the transport.
    const ws = client(t.server(0), P, { path: '/jg', transports: ['websocket'], query: { ...who } });
    const loaded = ws.events.next('loadRooms');
    ws.connect();
    expect((await loaded)[0]).toEqual([]);
  });

  it('accepts both polling and websocket with the default configuration', async () => {
    const t = await startTopology();
    expect(t.server(0).config.socketPath).toBe('/socket.io');
    for (const transport of ['polling', 'websocket'] as const) {
      const who = user(transport);
      const c = client(t.server(0), P, { transports: [transport], query: { ...who } });
      const loaded = c.events.next('loadRooms');
      c.connect();
      expect((await loaded)[0]).toEqual(expect.any(Array));
      expect(c.connected).toBe(true);
      expect(c.io.engine.transport.name).toBe(transport);
    }
  });
});
