/**
 * The SDK's state following what other clients do, over a real server: the lobby's rooms and
 * counts, a room's members, chat, the live aggro with its batched points, and the server's
 * `system` notices. Every wait is `waitFor` on the state, with a timeout.
 */
import { describe, expect, it } from 'vitest';
import { waitFor, type OnAirClient, type OnAirState } from '@onair/client';
import { user, WAIT_MS } from '../helpers/client.js';
import { sdk } from '../helpers/sdk.js';
import { startServer } from '../helpers/server.js';

const PROGRAM = 'prog-sdk-state';

const until = (c: OnAirClient, predicate: (s: OnAirState) => boolean) => waitFor(c.state, predicate, WAIT_MS);
const uids = (c: OnAirClient) => c.state.members.map((u) => u.userUID);
const uid = (c: OnAirClient) => c.state.me!.userUID;

describe('the lobby', () => {
  it('follows addRoom, count and deleteRoom made by others', async () => {
    const server = await startServer();
    const watcher = await sdk(server, PROGRAM);
    const a = await sdk(server, PROGRAM);
    const b = await sdk(server, PROGRAM);

    const { roomId } = await a.createRoom({ title: 'watched', max: 10, password: 'pw' });
    await until(watcher, (s) => s.rooms.has(roomId));
    expect(watcher.state.rooms.get(roomId)).toEqual({ roomId, title: 'watched', max: 10, count: 1, password: true });

    await b.joinRoom(roomId, 'pw');
    await until(watcher, (s) => s.rooms.get(roomId)?.count === 2);

    await b.leaveRoom();
    await until(watcher, (s) => s.rooms.get(roomId)?.count === 1);

    await a.leaveRoom();
    await until(watcher, (s) => !s.rooms.has(roomId));
    // The leavers' fresh lists agree.
    expect(a.state.rooms.has(roomId)).toBe(false);
  });

  it('keeps rooms in creation order', async () => {
    const server = await startServer();
    const watcher = await sdk(server, PROGRAM);
    const ids: string[] = [];
    for (const title of ['one', 'two', 'three']) {
      const c = await sdk(server, PROGRAM);
      ids.push((await c.createRoom({ title, max: 5 })).roomId);
    }
    await until(watcher, (s) => s.rooms.size === 3);
    expect([...watcher.state.rooms.keys()]).toEqual(ids);
    const late = await sdk(server, PROGRAM);
    expect([...late.state.rooms.keys()]).toEqual(ids);
  });
});

describe('a room', () => {
  it('follows members joining and leaving, by call or by disconnecting', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM);
    const b = await sdk(server, PROGRAM);
    const c = await sdk(server, PROGRAM);
    const { roomId } = await a.createRoom({ title: 'members', max: 10 });

    await b.joinRoom(roomId);
    await until(a, (s) => s.members.length === 2);
    expect(uids(a)).toEqual([uid(a), uid(b)]);

    await c.joinRoom(roomId);
    await until(a, (s) => s.members.length === 3);
    await until(b, (s) => s.members.length === 3);
    expect(uids(b)).toEqual([uid(a), uid(b), uid(c)]);

    await b.leaveRoom();
    await until(a, (s) => !s.members.some((u) => u.userUID === uid(b)));
    expect(uids(a)).toEqual([uid(a), uid(c)]);

    const cUID = uid(c);
    c.close();
    await until(a, (s) => s.members.length === 1);
    expect(uids(a)).toEqual([uid(a)]);
    expect(uids(a)).not.toContain(cUID);
  });

  it('moving to another room leaves the old one behind', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '5000' });
    const a = await sdk(server, PROGRAM);
    const b = await sdk(server, PROGRAM);
    const first = await a.createRoom({ title: 'first', max: 5 });
    await b.joinRoom(first.roomId);
    await a.chat('in the first room');
    await a.postAggro('first aggro');
    await until(b, (s) => s.messages.length === 1 && s.aggro !== null);

    const second = await b.createRoom({ title: 'second', max: 5 });
    expect(b.state.roomId).toBe(second.roomId);
    expect(b.state.messages).toEqual([]);
    expect(b.state.aggro).toBeNull();
    expect(uids(b)).toEqual([uid(b)]);
    await until(a, (s) => s.members.length === 1);
  });

  it('keeps the chat of others and its own, in order', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM, user('ana'));
    const b = await sdk(server, PROGRAM, user('ben'));
    const { roomId } = await a.createRoom({ title: 'chat', max: 5 });
    await b.joinRoom(roomId);

    await a.chat('hi ben');
    await until(b, (s) => s.messages.length === 1);
    await b.chat('hi ana');
    await until(a, (s) => s.messages.length === 2);

    const seen = (c: OnAirClient) => c.state.messages.map((m) => `${m.displayName}: ${m.msg}`);
    expect(seen(a)).toEqual(['ana: hi ben', 'ben: hi ana']);
    expect(seen(b)).toEqual(seen(a));
    expect(b.state.messages).toEqual(a.state.messages);
  });
});

describe('the live aggro', () => {
  it('follows aggro, batched aggroPoint and stopAggro', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '1500', BATCH_INTERVAL_MS: '60' });
    const a = await sdk(server, PROGRAM);
    const voters = await Promise.all([1, 2, 3].map(() => sdk(server, PROGRAM)));
    const { roomId } = await a.createRoom({ title: 'aggro', max: 10 });
    for (const v of voters) await v.joinRoom(roomId);

    const { aggroUID, expiresAt } = await a.postAggro('what a goal');
    for (const v of voters) await until(v, (s) => s.aggro?.aggroUID === aggroUID);
    expect(voters[0]!.state.aggro).toMatchObject({ aggroUID, roomId, userUID: uid(a), point: 0, expiresAt });

    // The author learns the votes of others only from the batched aggroPoint; what it held
    // last before stopAggro is the final total.
    const points: number[] = [];
    a.state.subscribe((s) => {
      if (s.aggro) points.push(s.aggro.point);
    });
    await Promise.all([voters[0]!.vote(aggroUID, 'up'), voters[1]!.vote(aggroUID, 'up'), voters[2]!.vote(aggroUID, 'down')]);
    await until(a, (s) => s.aggro === null);
    expect(points.length).toBeGreaterThan(0);
    expect(points.at(-1)).toBe(1);
    for (const v of voters) await until(v, (s) => s.aggro === null);
  });

  it('a joiner gets the live aggro with its current point', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '5000' });
    const a = await sdk(server, PROGRAM);
    const b = await sdk(server, PROGRAM);
    const { roomId } = await a.createRoom({ title: 'late', max: 10 });
    await b.joinRoom(roomId);
    const { aggroUID } = await a.postAggro('already live');
    await until(b, (s) => s.aggro !== null);
    await b.vote(aggroUID, 'up');

    const late = await sdk(server, PROGRAM);
    await late.joinRoom(roomId);
    // The `aggro` came before the join's ack; the state kept it.
    expect(late.state.aggro).toMatchObject({ aggroUID, point: 1 });
  });

  it('the last member leaving ends the aggro for the state too', async () => {
    const server = await startServer({ AGGRO_TTL_MS: '5000' });
    const a = await sdk(server, PROGRAM);
    await a.createRoom({ title: 'alone', max: 2 });
    await a.postAggro('only me');
    expect(a.state.aggro).not.toBeNull();
    await a.leaveRoom();
    expect(a.state.aggro).toBeNull();
    expect(a.state.roomId).toBeNull();
  });
});

describe('system notices', () => {
  it('DUPLICATE_SESSION: kept in lastSystem, then out of the room and disconnected', async () => {
    const server = await startServer();
    const who = user('twice');
    const first = await sdk(server, PROGRAM, who);
    await first.createRoom({ title: 'mine', max: 3 });
    await sdk(server, PROGRAM, who);
    await until(first, (s) => !s.connected);
    expect(first.state.lastSystem).toEqual({ code: 'DUPLICATE_SESSION', message: expect.any(String) });
    expect(first.state.roomId).toBeNull();
    expect(first.state.members).toEqual([]);
  });

  it('SERVER_SHUTDOWN is kept before the disconnect', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM);
    await server.close();
    await until(a, (s) => !s.connected);
    expect(a.state.lastSystem).toMatchObject({ code: 'SERVER_SHUTDOWN' });
  });
});

describe('subscribe', () => {
  it('calls the listener after each change with the state, until unsubscribed', async () => {
    const server = await startServer();
    const a = await sdk(server, PROGRAM);
    const rooms: number[] = [];
    const off = a.state.subscribe((s) => rooms.push(s.rooms.size));
    const snapshot = a.state.snapshot;
    await a.createRoom({ title: 'one', max: 3 });
    expect(rooms.length).toBeGreaterThan(0);
    expect(rooms.at(-1)).toBe(1);
    expect(a.state.snapshot).not.toBe(snapshot);
    off();
    const calls = rooms.length;
    await a.leaveRoom();
    expect(rooms.length).toBe(calls);
  });
});
