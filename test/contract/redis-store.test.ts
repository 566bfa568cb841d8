/** The state-store contract against Redis: a private redis-server on a free port. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { systemClock } from '../../src/domain/clock.js';
import { RedisStore, type RedisCommands } from '../../src/state/redis/redis-store.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
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
  const store = new RedisStore(client as unknown as RedisCommands, {
    prefix: `contract-${randomBytes(3).toString('hex')}:`,
    idleTtlMs: 60_000,
  });
  return {
    store,
    clock: systemClock,
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
});

/** What only an announcing store does: `deleteRoom` delivers the lobby's `deleteRoom` through the
 * adapter's stream, inside the decision (the contract above runs without announcements). */
describe('RedisStore with announcements: deleteRoom', () => {
  it("appends the lobby's deleteRoom to the stream, once, and nothing for an unknown room", async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const tag = randomBytes(3).toString('hex');
      const stream = `announce-${tag}:stream`;
      const store = new RedisStore(client as unknown as RedisCommands, {
        prefix: `announce-${tag}:`,
        idleTtlMs: 60_000,
        announce: { stream, lobbyChannel: 'lobby', roomChannelPrefix: 'room:' },
      });
      const p = `p${tag}`;
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
