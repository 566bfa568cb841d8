/**
 * Spec section 3: the lobby and rooms, end to end over real socket.io clients. Every wait is for
 * an event with a timeout; "did not happen" is checked behind an event-driven barrier (an ack or
 * a later event that must come after it).
 */
import { describe, expect, it } from 'vitest';
import type { RoomSummary, UserInfo } from '../../src/protocol/index.js';
import { call, createOk, join, joinOk, user, type Who } from '../helpers/client.js';
import { released, startServer } from '../helpers/server.js';
import { startTopology, type Topology } from '../helpers/topology.js';

type Joined = Awaited<ReturnType<typeof join>>;
type Ack = Record<string, unknown> & { ok: boolean };

/** The first argument of an awaited event. */
async function arg<T>(p: Promise<unknown[]>): Promise<T> {
  return (await p)[0] as T;
}

async function roomsOf(c: Joined): Promise<RoomSummary[]> {
  const res = (await call(c, 'loadRooms')) as Ack;
  expect(res.ok).toBe(true);
  return res.rooms as RoomSummary[];
}

async function usersOf(c: Joined): Promise<UserInfo[]> {
  const res = (await call(c, 'loadUsers')) as Ack;
  expect(res.ok).toBe(true);
  return res.users as UserInfo[];
}

const SUMMARY_KEYS = new Set(['roomId', 'title', 'max', 'count', 'password']);

/** A room summary shows only the documented fields; `password` only as `true`. */
function expectCleanSummary(r: Record<string, unknown>): void {
  for (const key of Object.keys(r)) expect(SUMMARY_KEYS.has(key), `unexpected field "${key}"`).toBe(true);
  if ('password' in r) expect(r.password).toBe(true);
}

/** `n` clients of one programme connected at once, spread over the topology's servers. */
function many(t: Topology, program: string, n: number, offset = 0): Promise<Joined[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => join(t.server(i + offset), program, user(`m${i}`))));
}

describe('loadRooms', () => {
  it('lists rooms in creation order with roomId, title, max and count: in the ack alone when asked with one, as the event without', async () => {
    const t = await startTopology();
    const p = 'rooms-load-order';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const c = await join(t.server(2), p, user('carol'));
    const viewer = await join(t.server(3), p, user('viewer'));
    expect(viewer.rooms).toEqual([]);

    const r1 = await createOk(a, { title: 'First', max: 5 });
    const r2 = await createOk(b, { title: 'Second', max: 2 });
    const r3 = await createOk(c, { title: 'Third', max: 120 });

    const res = (await call(viewer, 'loadRooms')) as Ack;
    const expected = [
      { roomId: r1, title: 'First', max: 5, count: 1 },
      { roomId: r2, title: 'Second', max: 2, count: 1 },
      { roomId: r3, title: 'Third', max: 120, count: 1 },
    ];
    expect(res).toEqual({ ok: true, rooms: expected });
    // The list is the largest reply: not sent twice (only the one on connect came as an event).
    expect(viewer.events.all('loadRooms')).toHaveLength(1);
    const event = viewer.events.next('loadRooms');
    viewer.emit('loadRooms');
    expect(await arg(event)).toEqual(expected);
    for (const r of expected) expect(r).not.toHaveProperty('password');
  });

  it('marks locked rooms with password: true only, and never sends the password or a hash', async () => {
    const t = await startTopology();
    const p = 'rooms-load-locked';
    const secret = 'hunter2-very-secret';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const viewer = await join(t.server(2), p, user('viewer'));
    const added = viewer.events.next('addRoom');
    const locked = await createOk(a, { title: 'Locked', max: 4, password: secret });
    const addRoom = await arg<Record<string, unknown>>(added);
    expect(addRoom).toEqual({ roomId: locked, title: 'Locked', count: 1, max: 4, password: true });
    const open = await createOk(b, { title: 'Open', max: 4 });

    const rooms = await roomsOf(viewer);
    expect(rooms).toEqual([
      { roomId: locked, title: 'Locked', max: 4, count: 1, password: true },
      { roomId: open, title: 'Open', max: 4, count: 1 },
    ]);
    for (const r of rooms) expectCleanSummary(r as unknown as Record<string, unknown>);
    expect(rooms[1]).not.toHaveProperty('password');

    // Nothing the viewer ever received carries the password or a hash of it.
    const everything = JSON.stringify(viewer.events.log.map((s) => s.args));
    expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/scrypt|hash|salt/i);
  });
});

describe('loadUsers', () => {
  it('lists the members of the caller’s room, the caller included, and [] in the lobby', async () => {
    const t = await startTopology();
    const p = 'rooms-load-users';
    const alice: Who = { ...user('alice'), photoURL: 'https://example.com/alice.png' };
    const a = await join(t.server(0), p, alice);
    const b = await join(t.server(1), p, user('bob'));
    const lobby = await join(t.server(2), p, user('lobby'));

    const lobbyEvent = lobby.events.next('loadUsers');
    expect(await call(lobby, 'loadUsers')).toEqual({ ok: true, users: [] });
    expect(await arg(lobbyEvent)).toEqual([]);

    const roomId = await createOk(a, { title: 'Members', max: 3 });
    expect(await usersOf(a)).toEqual([{ userUID: alice.userUID, displayName: 'alice', photoURL: alice.photoURL }]);
    await joinOk(b, { roomId });

    const event = b.events.next('loadUsers');
    const users = await usersOf(b);
    expect(await arg(event)).toEqual(users);
    expect(users).toHaveLength(2);
    expect(users).toEqual(
      expect.arrayContaining([
        { userUID: alice.userUID, displayName: 'alice', photoURL: alice.photoURL },
        { userUID: b.who.userUID, displayName: 'bob' },
      ]),
    );
    const bob = users.find((u) => u.userUID === b.who.userUID);
    expect(bob).not.toHaveProperty('photoURL');
    expect(await usersOf(lobby)).toEqual([]);
  });
});

describe('createRoom', () => {
  it('answers with the ack and createRoomReq, seats the creator, and tells the rest of the lobby', async () => {
    const t = await startTopology();
    const p = 'rooms-create';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const c = await join(t.server(2), p, user('carol'));

    const reply = a.events.next('createRoomReq');
    const addedB = b.events.next('addRoom');
    const addedC = c.events.next('addRoom');
    const res = (await call(a, 'createRoom', { title: 'Quiz night', max: 8 })) as Ack;
    expect(res).toEqual({ ok: true, roomId: expect.any(String), title: 'Quiz night', ownerUID: a.who.userUID });
    const roomId = res.roomId as string;
    expect(roomId).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await arg(reply)).toEqual({ result: true, roomId, title: 'Quiz night' });
    const summary = { roomId, title: 'Quiz night', count: 1, max: 8 };
    expect(await arg(addedB)).toEqual(summary);
    expect(await arg(addedC)).toEqual(summary);
    // The lobby's addRoom goes out before the creator's ack: had the creator still been in the
    // lobby, it would have arrived by now.
    expect(a.events.all('addRoom')).toEqual([]);

    expect(await usersOf(a)).toEqual([{ userUID: a.who.userUID, displayName: 'alice' }]);
    expect(await roomsOf(b)).toEqual([{ roomId, title: 'Quiz night', max: 8, count: 1 }]);
  });

  it('trims the title everywhere it is shown', async () => {
    const t = await startTopology();
    const p = 'rooms-create-trim';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const reply = a.events.next('createRoomReq');
    const added = b.events.next('addRoom');
    const res = (await call(a, 'createRoom', { title: '   Late show \t ', max: 3 })) as Ack;
    expect(res).toMatchObject({ ok: true, title: 'Late show' });
    expect(await arg(reply)).toEqual({ result: true, roomId: res.roomId, title: 'Late show' });
    expect(await arg(added)).toMatchObject({ roomId: res.roomId, title: 'Late show' });
    expect(await roomsOf(b)).toEqual([{ roomId: res.roomId, title: 'Late show', max: 3, count: 1 }]);
  });

  it('locked room: addRoom carries password: true; password "" makes an open room', async () => {
    const t = await startTopology();
    const p = 'rooms-create-password';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const viewer = await join(t.server(2), p, user('viewer'));
    const joiner = await join(t.server(3), p, user('joiner'));

    let added = viewer.events.next('addRoom');
    const locked = await createOk(a, { title: 'Locked', max: 3, password: 'pw' });
    expect(await arg(added)).toEqual({ roomId: locked, title: 'Locked', count: 1, max: 3, password: true });

    added = viewer.events.next('addRoom');
    const open = await createOk(b, { title: 'Open', max: 3, password: '' });
    const openAdded = await arg<Record<string, unknown>>(added);
    expect(openAdded).toEqual({ roomId: open, title: 'Open', count: 1, max: 3 });
    expect(openAdded).not.toHaveProperty('password');
    expect((await roomsOf(viewer)).find((r) => r.roomId === open)).not.toHaveProperty('password');
    // Open means open: joining without a password works.
    await joinOk(joiner, { roomId: open });
  });

  it('creating while in a room leaves it first: its members get leaveRoom, the lobby count or deleteRoom', async () => {
    const t = await startTopology();
    const p = 'rooms-create-leaves';
    const a = await join(t.server(0), p, user('alice'));
    const b = await join(t.server(1), p, user('bob'));
    const d = await join(t.server(2), p, user('dave'));
    const lobby = await join(t.server(3), p, user('lobby'));

    // alice and bob share room1; the lobby sees its count reach 2 first.
    const room1 = await createOk(a, { title: 'One', max: 5 });
    await joinOk(b, { roomId: room1 });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === room1 && u.count === 2);

    const left = b.events.next('leaveRoom');
    const count = lobby.events.next('count', (u: { roomId: string }) => u.roomId === room1);
    const added = lobby.events.next('addRoom');
    const room2 = await createOk(a, { title: 'Two', max: 5 });
    expect(await arg(left)).toEqual({ userUID: a.who.userUID, displayName: 'alice' });
    expect(await arg(count)).toEqual({ roomId: room1, count: 1 });
    expect(await arg(added)).toEqual({ roomId: room2, title: 'Two', count: 1, max: 5 });
    expect(await usersOf(a)).toEqual([{ userUID: a.who.userUID, displayName: 'alice' }]);
    expect(await usersOf(b)).toEqual([{ userUID: b.who.userUID, displayName: 'bob' }]);

    // dave alone in room3 creates room4: room3 is emptied and deleted.
    const room3 = await createOk(d, { title: 'Three', max: 5 });
    const deleted = lobby.events.next('deleteRoom', (r: { roomId: string }) => r.roomId === room3);
    // Matched by title: on a cluster, room3's addRoom may reach the lobby after dave's ack.
    const added4 = lobby.events.some('addRoom', (r: { title: string }) => r.title === 'Four');
    const room4 = await createOk(d, { title: 'Four', max: 5 });
    expect(await arg(deleted)).toEqual({ roomId: room3 });
    expect(await arg(added4)).toEqual({ roomId: room4, title: 'Four', count: 1, max: 5 });
    expect((await roomsOf(lobby)).map((r) => r.roomId)).toEqual([room1, room2, room4]);
  });

  describe('EC001: invalid room', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['empty title', { title: '', max: 5 }],
      ['whitespace title', { title: '  \t  ', max: 5 }],
      ['41-character title', { title: 'x'.repeat(41), max: 5 }],
      ['missing title', { max: 5 }],
      ['max 1', { title: 'Room', max: 1 }],
      ['max 0', { title: 'Room', max: 0 }],
      ['max above ROOM_MAX_LIMIT (120)', { title: 'Room', max: 121 }],
      ['non-integer max', { title: 'Room', max: 2.5 }],
      ['max as a string', { title: 'Room', max: '5' }],
      ['33-character password', { title: 'Room', max: 5, password: 'p'.repeat(33) }],
      ['another programme’s scheduleUID', { title: 'Room', max: 5, scheduleUID: 'some-other-programme' }],
    ];

    it.each(cases)('%s is refused with EC001 and changes nothing', async (_name, payload) => {
      const t = await startTopology();
      const p = `rooms-ec001-${_name.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '')}`;
      const a = await join(t.server(0), p, user('alice'));
      const lobby = await join(t.server(1), p, user('lobby'));
      const reply = a.events.next('createRoomReq');
      expect(await call(a, 'createRoom', payload)).toEqual({ ok: false, code: 'EC001', message: expect.any(String) });
      expect(await arg(reply)).toEqual({ result: false, err: 'EC001' });
      // The creator is still in the lobby with no room made.
      expect(await usersOf(a)).toEqual([]);
      expect(await roomsOf(a)).toEqual([]);
      // Barrier: a valid room made afterwards is the first and only addRoom the lobby sees.
      const added = lobby.events.next('addRoom');
      const roomId = await createOk(a, { title: 'Valid', max: 5 });
      expect(await arg(added)).toMatchObject({ roomId });
      expect(lobby.events.all('addRoom')).toHaveLength(1);
    });

    it('accepts the bounds: 40-character title, max 2 and 120, 32-character password, own scheduleUID', async () => {
      const t = await startTopology();
      const p = 'rooms-ec001-bounds';
      const makers = await many(t, p, 5);
      const [m0, m1, m2, m3, m4] = makers as [Joined, Joined, Joined, Joined, Joined];
      const title40 = 't'.repeat(40);
      expect(await call(m0, 'createRoom', { title: title40, max: 2 })).toMatchObject({ ok: true, title: title40 });
      await createOk(m1, { title: 'Big', max: 120 });
      await createOk(m2, { title: 'Pw', max: 3, password: 'p'.repeat(32) });
      const mine = m3.events.next('createRoomReq');
      const roomId = await createOk(m3, { title: 'Scheduled', max: 3, scheduleUID: p });
      expect(await arg(mine)).toEqual({ result: true, roomId, title: 'Scheduled' });
      // A 40-character title counted in characters, not UTF-16 units.
      const emoji = '😀'.repeat(40);
      expect(await call(m4, 'createRoom', { title: emoji, max: 2 })).toMatchObject({ ok: true, title: emoji });
      expect((await roomsOf(m0)).map((r) => [r.title, r.max])).toEqual([
        [title40, 2],
        ['Big', 120],
        ['Pw', 3],
        ['Scheduled', 3],
        [emoji, 2],
      ]);
    });

    it('follows ROOM_MAX_LIMIT=10: max 10 is accepted, max 11 is EC001', async () => {
      const t = await startTopology({ ROOM_MAX_LIMIT: '10' });
      const p = 'rooms-ec001-limit10';
      const a = await join(t.server(0), p, user('alice'));
      const b = await join(t.server(1), p, user('bob'));
      const reply = a.events.next('createRoomReq');
      expect(await call(a, 'createRoom', { title: 'Too big', max: 11 })).toMatchObject({ ok: false, code: 'EC001' });
      expect(await arg(reply)).toEqual({ result: false, err: 'EC001' });
      expect(await call(a, 'createRoom', { title: 'Too big', max: 120 })).toMatchObject({ ok: false, code: 'EC001' });
      const roomId = await createOk(b, { title: 'Just right', max: 10 });
      expect(await roomsOf(a)).toEqual([{ roomId, title: 'Just right', max: 10, count: 1 }]);
    });
  });

  it('EC002: with ROOMS_PER_PROGRAM_MAX=2 the third room is refused, other programmes are unaffected', async () => {
    const t = await startTopology({ ROOMS_PER_PROGRAM_MAX: '2' });
    const p = 'rooms-ec002';
    const other = 'rooms-ec002-other';
    const [a, b, c] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const [x, y] = (await many(t, other, 2, 1)) as [Joined, Joined];

    const r1 = await createOk(a, { title: 'One', max: 3 });
    const r2 = await createOk(b, { title: 'Two', max: 3 });
    const reply = c.events.next('createRoomReq');
    expect(await call(c, 'createRoom', { title: 'Three', max: 3 })).toEqual({
      ok: false,
      code: 'EC002',
      message: expect.any(String),
    });
    expect(await arg(reply)).toEqual({ result: false, err: 'EC002' });
    expect(await usersOf(c)).toEqual([]);
    expect((await roomsOf(c)).map((r) => r.roomId)).toEqual([r1, r2]);

    // The limit is per programme.
    const o1 = await createOk(x, { title: 'Other one', max: 3 });
    const o2 = await createOk(y, { title: 'Other two', max: 3 });
    expect((await roomsOf(x)).map((r) => r.roomId)).toEqual([o1, o2]);
  });
});

describe('joinRoom', () => {
  it('answers with the ack and joinRoomReq; the room (joiner included) gets joinRoom; the lobby gets count', async () => {
    const t = await startTopology();
    const p = 'rooms-join';
    const a = await join(t.server(0), p, user('alice'));
    const bobWho: Who = { ...user('bob'), photoURL: 'https://example.com/bob.png' };
    const b = await join(t.server(1), p, bobWho);
    const lobby = await join(t.server(2), p, user('lobby'));
    const roomId = await createOk(a, { title: 'Join me', max: 4 });

    const reply = b.events.next('joinRoomReq');
    const atA = a.events.next('joinRoom');
    const atB = b.events.next('joinRoom');
    const count = lobby.events.next('count', (u: { roomId: string }) => u.roomId === roomId);
    expect(await call(b, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    expect(await arg(reply)).toEqual({ result: true });
    const info = { userUID: bobWho.userUID, displayName: 'bob', photoURL: bobWho.photoURL };
    expect(await arg(atA)).toEqual(info);
    expect(await arg(atB)).toEqual(info);
    expect(await arg(count)).toEqual({ roomId, count: 2 });
    expect((await roomsOf(lobby))[0]).toMatchObject({ roomId, count: 2 });
  });

  it('EJ001 for an unknown room', async () => {
    const t = await startTopology();
    const p = 'rooms-join-ej001';
    const a = await join(t.server(0), p, user('alice'));
    const reply = a.events.next('joinRoomReq');
    expect(await call(a, 'joinRoom', { roomId: 'no-such-room' })).toEqual({ ok: false, code: 'EJ001', message: expect.any(String) });
    expect(await arg(reply)).toEqual({ result: false, err: 'EJ001' });
    expect(await usersOf(a)).toEqual([]);
  });

  it('EJ002 when the room is full', async () => {
    const t = await startTopology();
    const p = 'rooms-join-ej002';
    const [a, b, c] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const roomId = await createOk(a, { title: 'Pair', max: 2 });
    await joinOk(b, { roomId });
    const reply = c.events.next('joinRoomReq');
    expect(await call(c, 'joinRoom', { roomId })).toEqual({ ok: false, code: 'EJ002', message: expect.any(String) });
    expect(await arg(reply)).toEqual({ result: false, err: 'EJ002' });
    expect(await usersOf(c)).toEqual([]);
    expect(await usersOf(a)).toHaveLength(2);
  });

  it('EJ003 for a missing or wrong password; the right one gets in', async () => {
    const t = await startTopology();
    const p = 'rooms-join-ej003';
    const [a, b] = (await many(t, p, 2)) as [Joined, Joined];
    const roomId = await createOk(a, { title: 'Locked', max: 4, password: 'open sesame' });
    for (const payload of [{ roomId }, { roomId, password: 'wrong' }, { roomId, password: '' }, { roomId, password: 'OPEN SESAME' }]) {
      const reply = b.events.next('joinRoomReq');
      expect(await call(b, 'joinRoom', payload)).toEqual({ ok: false, code: 'EJ003', message: expect.any(String) });
      expect(await arg(reply)).toEqual({ result: false, err: 'EJ003' });
    }
    expect(await usersOf(b)).toEqual([]);
    const reply = b.events.next('joinRoomReq');
    const joined = a.events.next('joinRoom');
    await joinOk(b, { roomId, password: 'open sesame' });
    expect(await arg(reply)).toEqual({ result: true });
    expect(await arg(joined)).toMatchObject({ userUID: b.who.userUID });
  });

  it('joining another room leaves the current one (leaveRoom to the old room, count/deleteRoom to the lobby)', async () => {
    const t = await startTopology();
    const p = 'rooms-join-switch';
    const [a, b, c, lobby] = (await many(t, p, 4)) as [Joined, Joined, Joined, Joined];
    const room1 = await createOk(a, { title: 'One', max: 4 });
    const room2 = await createOk(c, { title: 'Two', max: 4 });
    await joinOk(b, { roomId: room1 });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === room1 && u.count === 2);

    const left = a.events.next('leaveRoom');
    const joined = c.events.next('joinRoom');
    const count1 = lobby.events.next('count', (u: { roomId: string }) => u.roomId === room1);
    const count2 = lobby.events.next('count', (u: { roomId: string }) => u.roomId === room2);
    await joinOk(b, { roomId: room2 });
    expect(await arg(left)).toEqual({ userUID: b.who.userUID, displayName: b.who.displayName });
    expect(await arg(joined)).toMatchObject({ userUID: b.who.userUID });
    expect(await arg(count1)).toEqual({ roomId: room1, count: 1 });
    expect(await arg(count2)).toEqual({ roomId: room2, count: 2 });
    expect((await usersOf(a)).map((u) => u.userUID)).toEqual([a.who.userUID]);

    // a, alone in room1, moves to room2: room1 is emptied and deleted.
    const deleted = lobby.events.next('deleteRoom');
    await joinOk(a, { roomId: room2 });
    expect(await arg(deleted)).toEqual({ roomId: room1 });
    expect((await roomsOf(lobby)).map((r) => r.roomId)).toEqual([room2]);
    expect(await usersOf(c)).toHaveLength(3);
  });

  it('re-joining the room one is in succeeds and broadcasts nothing', async () => {
    const t = await startTopology();
    const p = 'rooms-join-again';
    const [a, b, c] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const roomId = await createOk(a, { title: 'Again', max: 4 });
    await joinOk(b, { roomId });
    await a.events.some('joinRoom', (u: UserInfo) => u.userUID === b.who.userUID);

    const reply = b.events.next('joinRoomReq');
    expect(await call(b, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    expect(await arg(reply)).toEqual({ result: true });

    // Barrier: a third party's join is broadcast after the re-join was handled, so a
    // `joinRoom` for bob from the re-join would reach alice (and bob) before carol's.
    const carolAtA = a.events.next('joinRoom', (u: UserInfo) => u.userUID === c.who.userUID);
    const carolAtB = b.events.next('joinRoom', (u: UserInfo) => u.userUID === c.who.userUID);
    await joinOk(c, { roomId });
    await carolAtA;
    await carolAtB;
    expect(a.events.all('joinRoom', (u: UserInfo) => u.userUID === b.who.userUID)).toHaveLength(1);
    expect(b.events.all('joinRoom', (u: UserInfo) => u.userUID === b.who.userUID)).toHaveLength(1);
    expect(a.events.all('leaveRoom')).toEqual([]);
    expect(await usersOf(a)).toHaveLength(3);
  });

  describe('exact capacity under simultaneous joins', () => {
    it.each([
      [5, 20],
      [3, 30],
    ])('max %i with %i joins at once: exactly max - 1 get in beside the creator', async (max, n) => {
      const t = await startTopology();
      const p = `rooms-capacity-${max}-${n}`;
      const creator = await join(t.server(0), p, user('creator'));
      const lobby = await join(t.server(1), p, user('lobby'));
      const roomId = await createOk(creator, { title: 'Tight', max });
      const joiners = await many(t, p, n, 2);

      const results = (await Promise.all(joiners.map((c) => call(c, 'joinRoom', { roomId })))) as Ack[];
      const inside = joiners.filter((_, i) => results[i]!.ok);
      expect(inside).toHaveLength(max - 1);
      for (const r of results.filter((x) => !x.ok)) expect(r).toMatchObject({ code: 'EJ002' });
      for (const [i, c] of joiners.entries()) {
        const expected = results[i]!.ok ? { result: true } : { result: false, err: 'EJ002' };
        expect(await arg(c.events.some('joinRoomReq'))).toEqual(expected);
      }

      const users = await usersOf(creator);
      expect(users).toHaveLength(max);
      expect(users.map((u) => u.userUID).sort()).toEqual([creator.who.userUID, ...inside.map((c) => c.who.userUID)].sort());
      await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === max);
      for (const s of lobby.events.all('count')) expect((s.args[0] as { count: number }).count).toBeLessThanOrEqual(max);
      expect((await roomsOf(lobby))[0]).toMatchObject({ roomId, count: max });
    });
  });
});

describe('leaveRoom', () => {
  it('with a string payload (seed) and with { roomId }: leaveRoom to the room, fresh loadRooms to the leaver, count/deleteRoom to the lobby', async () => {
    const t = await startTopology();
    const p = 'rooms-leave';
    const [a, b, lobby] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const roomId = await createOk(a, { title: 'Leave', max: 4 });
    await joinOk(b, { roomId });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);

    // bob leaves the seed's way, with the bare room id.
    const atA = a.events.next('leaveRoom');
    const fresh = b.events.next('loadRooms');
    const count = lobby.events.next('count', (u: { roomId: string }) => u.roomId === roomId);
    expect(await call(b, 'leaveRoom', roomId)).toMatchObject({ ok: true });
    expect(await arg(atA)).toEqual({ userUID: b.who.userUID, displayName: b.who.displayName });
    expect(await arg(fresh)).toEqual([{ roomId, title: 'Leave', max: 4, count: 1 }]);
    expect(await arg(count)).toEqual({ roomId, count: 1 });
    // The room's leaveRoom went out before bob's ack, and bob was already out of the room.
    expect(b.events.all('leaveRoom')).toEqual([]);
    expect(await usersOf(b)).toEqual([]);
    expect(await usersOf(a)).toEqual([{ userUID: a.who.userUID, displayName: a.who.displayName }]);

    // alice, the last member, leaves with { roomId }: the room is deleted.
    const deletedAtLobby = lobby.events.next('deleteRoom');
    const deletedAtB = b.events.next('deleteRoom');
    // The leaver is back in the lobby before the leave is decided, so it hears the deletion too.
    const deletedAtA = a.events.next('deleteRoom');
    const freshA = a.events.next('loadRooms');
    expect(await call(a, 'leaveRoom', { roomId })).toMatchObject({ ok: true });
    expect(await arg(freshA)).toEqual([]);
    expect(await arg(deletedAtLobby)).toEqual({ roomId });
    expect(await arg(deletedAtB)).toEqual({ roomId });
    expect(await arg(deletedAtA)).toEqual({ roomId });
    // The leaver never hears its own leaveRoom (it only heard bob's, earlier).
    expect(a.events.all('leaveRoom', (u: UserInfo) => u.userUID === a.who.userUID)).toEqual([]);
    expect(a.events.all('leaveRoom')).toHaveLength(1);
    expect(await roomsOf(lobby)).toEqual([]);
    expect(await usersOf(a)).toEqual([]);
  });

  it('EM001 when the caller is not in that room', async () => {
    const t = await startTopology();
    const p = 'rooms-leave-em001';
    const [a, b, lobby] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const room1 = await createOk(a, { title: 'One', max: 4 });
    const room2 = await createOk(b, { title: 'Two', max: 4 });

    // From the lobby, an existing room and an unknown one.
    expect(await call(lobby, 'leaveRoom', room1)).toEqual({ ok: false, code: 'EM001', message: expect.any(String) });
    expect(await call(lobby, 'leaveRoom', { roomId: 'no-such-room' })).toMatchObject({ ok: false, code: 'EM001' });
    // From another room: alice stays where she is, and bob's room is untouched.
    expect(await call(a, 'leaveRoom', room2)).toMatchObject({ ok: false, code: 'EM001' });
    expect((await usersOf(a)).map((u) => u.userUID)).toEqual([a.who.userUID]);
    expect((await usersOf(b)).map((u) => u.userUID)).toEqual([b.who.userUID]);
    expect(b.events.all('leaveRoom')).toEqual([]);
    expect((await roomsOf(lobby)).map((r) => [r.roomId, r.count])).toEqual([
      [room1, 1],
      [room2, 1],
    ]);
  });
});

describe('disconnect', () => {
  it('leaves the room as leaveRoom does: leaveRoom to the room, count then deleteRoom to the lobby', async () => {
    const t = await startTopology();
    const p = 'rooms-disconnect';
    const [a, b, lobby] = (await many(t, p, 3)) as [Joined, Joined, Joined];
    const roomId = await createOk(a, { title: 'Bye', max: 4 });
    await joinOk(b, { roomId });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);

    const left = a.events.next('leaveRoom');
    const count = lobby.events.next('count', (u: { roomId: string }) => u.roomId === roomId);
    b.disconnect();
    expect(await arg(left)).toEqual({ userUID: b.who.userUID, displayName: b.who.displayName });
    expect(await arg(count)).toEqual({ roomId, count: 1 });
    expect(await usersOf(a)).toEqual([{ userUID: a.who.userUID, displayName: a.who.displayName }]);

    const deleted = lobby.events.next('deleteRoom');
    a.disconnect();
    expect(await arg(deleted)).toEqual({ roomId });
    expect(await roomsOf(lobby)).toEqual([]);
  });
});

describe('identity', () => {
  it('comes from the handshake: payload fields cannot change it', async () => {
    const t = await startTopology();
    const p = 'rooms-identity';
    const [a, b] = (await many(t, p, 2)) as [Joined, Joined];
    const forged = { userUID: 'admin', displayName: 'Mallory', photoURL: 'https://evil.example/x.png' };
    const roomId = await createOk(a, { title: 'Who', max: 4, ...forged });

    const joined = a.events.next('joinRoom');
    await joinOk(b, { roomId, ...forged });
    expect(await arg(joined)).toEqual({ userUID: b.who.userUID, displayName: b.who.displayName });
    const users = await usersOf(a);
    expect(users).toHaveLength(2);
    expect(users).toEqual(
      expect.arrayContaining([
        { userUID: a.who.userUID, displayName: a.who.displayName },
        { userUID: b.who.userUID, displayName: b.who.displayName },
      ]),
    );

    const left = a.events.next('leaveRoom');
    expect(await call(b, 'leaveRoom', { roomId, ...forged })).toMatchObject({ ok: true });
    expect(await arg(left)).toEqual({ userUID: b.who.userUID, displayName: b.who.displayName });
  });
});

describe('programme release', () => {
  it('releases the namespace once its last socket is gone and no room is left; the programme can be used again', async () => {
    // Release is per process and checked from inside it: one in-process server.
    const server = await startServer();
    const p = 'rooms-release';
    const a = await join(server, p, user('alice'));
    const b = await join(server, p, user('bob'));
    const roomId = await createOk(a, { title: 'Short-lived', max: 3 });
    await joinOk(b, { roomId });
    expect(server.app.io._nsps.has(`/${p}`)).toBe(true);

    const gone = released(server, p);
    let early = false;
    const onEarly = (name: string) => {
      if (name === p) early = true;
    };
    server.events.on('program-released', onEarly);
    // alice leaves first: bob and the room are still there, so nothing may be released yet.
    const left = b.events.next('leaveRoom');
    a.disconnect();
    await left;
    // Barrier: bob's next ack comes after alice's disconnect was handled.
    expect(await usersOf(b)).toEqual([{ userUID: b.who.userUID, displayName: b.who.displayName }]);
    expect(early).toBe(false);
    server.events.off('program-released', onEarly);

    b.disconnect();
    await gone;
    expect(server.app.io._nsps.has(`/${p}`)).toBe(false);

    const again = await join(server, p, user('carol'));
    expect(again.rooms).toEqual([]);
    expect(await roomsOf(again)).toEqual([]);
    expect(server.app.io._nsps.has(`/${p}`)).toBe(true);
  });
});
