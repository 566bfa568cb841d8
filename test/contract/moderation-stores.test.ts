/** The moderation-store contract against memory and a private Redis. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createClient } from 'redis';
import { MemoryModeration } from '../../src/state/memory/memory-moderation.js';
import { RedisModeration } from '../../src/state/redis/redis-moderation.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
import { moderationStoreContract } from './moderation-store-contract.js';

moderationStoreContract('memory', async () => ({ store: new MemoryModeration(), close: async () => {} }));

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
  const store = new RedisModeration(client as never, { prefix: `mod-${randomBytes(3).toString('hex')}:`, ttlMs: 60_000 });
  return {
    store,
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
});
