/**
 * The SDK's lobby calls of spec 3.1 against a real server (LOBBY_VIEW_SIZE=2): listRooms paging,
 * watchRooms keeping rooms outside the view current in `state.rooms`, batched lobby mode
 * (`lobby: 'batched'`) folding `roomCounts` into the state, and quickJoin with its history.
 */
import { describe, expect, it } from 'vitest';
import { OnAirError, waitFor, type RoomSummary } from '@onair/client';
import { sdk, rejection } from '../helpers/sdk.js';
import { user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';

const ENV = { LOBBY_VIEW_SIZE: '2', BATCH_INTERVAL_MS: '60', HISTORY_SIZE: '5' };

describe('SDK lobby calls', () => {
  it('listRooms pages; watchRooms keeps a room outside the view current; quickJoin seats with history', async () => {
    const server = await startServer(ENV);
    const p = 'sdk-lobby';
    const owners = await Promise.all([0, 1, 2].map(() => sdk(server, p)));
    const ids: string[] = [];
    for (const [i, o] of owners.entries()) ids.push((await o.createRoom({ title: `방 ${i}`, max: 5 })).roomId);
    const reader = await sdk(server, p, user('reader'));
    const first = await reader.listRooms({ limit: 2 });
    expect(first.rooms.map((r) => r.title)).toEqual(['방 0', '방 1']);
    const second = await reader.listRooms({ cursor: first.next!, limit: 2 });
    expect(second).toEqual({ rooms: [expect.objectContaining({ roomId: ids[2], title: '방 2' })], next: null });

    // The third room is outside the view (2): watched, its count reaches the state.
    await reader.watchRooms(second.rooms);
    const guest = await sdk(server, p, user('guest'));
    await guest.joinRoom(ids[2]!);
    await waitFor(reader.state, (s) => s.snapshot.rooms.get(ids[2]!)?.count === 2);

    await owners[2]!.chat('환영해요');
    const quick = await sdk(server, p, user('quick'));
    const seated = await quick.quickJoin({ q: '방 2' });
    expect(seated).toMatchObject({ roomId: ids[2], created: false });
    expect(seated.history.map((m) => m.msg)).toEqual(['환영해요']);
    expect(quick.state.snapshot.roomId).toBe(ids[2]);
    const err = await rejection(quick.quickJoin({ q: '없는 방' }));
    expect(err).toBeInstanceOf(OnAirError);
    expect((err as OnAirError).code).toBe('EJ004');
    const made = await quick.quickJoin({ q: '없는 방', create: { title: '없는 방', max: 4 } });
    expect(made).toMatchObject({ title: '없는 방', created: true, history: [] });
  });

  it("lobby: 'batched' folds roomCounts frames into state.rooms", async () => {
    const server = await startServer(ENV);
    const p = 'sdk-batched';
    const watcher = await sdk(server, p, user('watcher'), { lobby: 'batched' });
    const owner = await sdk(server, p);
    const { roomId } = await owner.createRoom({ title: 'batched', max: 5 });
    await waitFor(watcher.state, (s) => s.snapshot.rooms.has(roomId));
    await (await sdk(server, p)).joinRoom(roomId);
    await waitFor(watcher.state, (s) => s.snapshot.rooms.get(roomId)?.count === 2);
    const rooms: RoomSummary[] = await watcher.setLobbyMode('rooms');
    expect(rooms.map((r) => r.roomId)).toEqual([roomId]);
  });
});
