/** The state-store contract against Redis: a private redis-server on a free port. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
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
