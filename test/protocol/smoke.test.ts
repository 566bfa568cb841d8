import { describe, expect, it } from 'vitest';
import { call, join, user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';

describe('smoke', () => {
  it('connects over TLS, creates a room and another user joins it', async () => {
    const server = await startServer();
    const a = await join(server, 'prog1', user('alice'));
    expect(a.rooms).toEqual([]);
    const b = await join(server, 'prog1', user('bob'));
    const added = b.events.next('addRoom');
    const res = await call(a, 'createRoom', { title: 'Room', max: 3 });
    expect(res).toMatchObject({ ok: true, title: 'Room' });
    const [room] = (await added) as [{ roomId: string; count: number }];
    expect(room.count).toBe(1);
    const joined = a.events.next('joinRoom');
    expect(await call(b, 'joinRoom', { roomId: room.roomId })).toEqual({ ok: true, roomId: room.roomId, history: [], ownerUID: a.who.userUID });
    expect((await joined)[0]).toMatchObject({ userUID: b.who.userUID });
  });
});
