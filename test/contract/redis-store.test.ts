/** The state-store contract against Redis: a private redis-server on a free port; what the
 * store announces is read back from the stream it appends to. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { systemClock } from '../../src/domain/clock.js';
import { LOBBY, roomChannel } from '../../src/transport/channels.js';
import { RedisStore, type RedisCommands } from '../../src/state/redis/redis-store.js';
import { streamAnnouncements } from '../helpers/announcements.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
import { lobbyContract } from './lobby-contract.js';
import { storeContract } from './store-contract.js';

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

storeContract('redis', async () => {
  const client = createClient({ url: redis.url });
  await client.connect();
  const prefix = `contract-${randomBytes(3).toString('hex')}:`;
  // Announcing as production does (`createBackends`): into each programme's stream.
  const announce = { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') };
  const store = new RedisStore(client as unknown as RedisCommands, { prefix, idleTtlMs: 60_000, announce });
  return {
    store,
    clock: systemClock,
    announced: (p) => streamAnnouncements(client, store.streamKey(p), announce, p),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
});

lobbyContract('redis', async (viewSize) => {
  const client = createClient({ url: redis.url });
  await client.connect();
  const prefix = `lobby-${randomBytes(3).toString('hex')}:`;
  const announce = { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') };
  const store = new RedisStore(client as unknown as RedisCommands, { prefix, idleTtlMs: 60_000, announce, viewSize });
  return {
    store,
    clock: systemClock,
    announced: (p) => streamAnnouncements(client, store.streamKey(p), announce, p),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
});

/** The emitter format itself, entry by entry: what the socket.io adapter reads from the stream
 * (the contract above reads it back through `streamAnnouncements`). */
describe('RedisStore with announcements: deleteRoom', () => {
  it("appends the lobby's deleteRoom to the stream, once, and nothing for an unknown room", async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const tag = randomBytes(3).toString('hex');
      const store = new RedisStore(client as unknown as RedisCommands, {
        prefix: `announce-${tag}:`,
        idleTtlMs: 60_000,
        announce: { lobbyChannel: 'lobby', roomChannelPrefix: 'room:' },
      });
      const p = `p${tag}`;
      const stream = store.streamKey(p);
      expect(stream).toBe(`announce-${tag}:{${p}}:stream`);
      const room = { roomId: `r${tag}`, title: 'Studio', max: 5, persistent: true, createdAt: Date.now() };
      expect((await store.createRoom(p, room, null, 10)).ok).toBe(true);
      const before = await client.xLen(stream);
      const out = await store.deleteRoom(p, room.roomId);
      expect(out).toEqual({ members: [] });
      const entries = (await client.xRange(stream, '-', '+')) ?? [];
      expect(entries).toHaveLength(before + 1);
      const last = entries.at(-1)!.message;
      expect(last).toMatchObject({ uid: 'emitter', nsp: `/${p}`, type: '3' });
      expect(JSON.parse(last.data!)).toEqual({
        packet: { type: 2, data: ['deleteRoom', { roomId: room.roomId }], nsp: `/${p}` },
        opts: { rooms: ['lobby'], except: [], flags: {} },
      });
      expect(await store.deleteRoom(p, room.roomId)).toBeNull();
      expect(await client.xLen(stream)).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});
