/** The moderation-store contract against memory and a private Redis. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createClient } from 'redis';
import { MemoryModeration } from '../../src/state/memory/memory-moderation.js';
import { RedisModeration } from '../../src/state/redis/redis-moderation.js';
import { programmeKey } from '../../src/state/redis/keys.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
import { moderationStoreContract } from './moderation-store-contract.js';

moderationStoreContract('memory', async () => {
  const seats = new Map<string, string>();
  return {
    store: new MemoryModeration((p, socketId) => seats.get(`${p} ${socketId}`) ?? null),
    seat: async (p, socketId, roomId) => void seats.set(`${p} ${socketId}`, roomId),
    close: async () => {},
  };
});

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

moderationStoreContract('redis', async () => {
  const client = createClient({ url: redis.url });
  await client.connect();
  const prefix = `mod-${randomBytes(3).toString('hex')}:`;
  const store = new RedisModeration(client as never, { prefix, ttlMs: 60_000 });
  return {
    store,
    seat: async (p, socketId, roomId) => void (await client.hSet(programmeKey(prefix, p, 'seats'), socketId, roomId)),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
});
