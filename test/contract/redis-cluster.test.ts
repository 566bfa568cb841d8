/** The cluster-port contract against Redis: a private redis-server on a free port, a fresh
 * prefix per test, and a connection of its own for every server handle. */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll } from 'vitest';
import { RedisDeadlineIndex, RedisNodeRegistry, type RedisClusterCommands } from '../../src/state/redis/redis-cluster.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
import { clusterContract } from './cluster-contract.js';

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.remove();
});

clusterContract('redis', async () => {
  const prefix = `cluster-${randomBytes(4).toString('hex')}:`;
  const clients: { close(): Promise<unknown> }[] = [];
  const connection = (): RedisClusterCommands => {
    const client = createClient({ url: redis.url });
    clients.push(client);
    // Commands wait in the offline queue until the connection is up.
    void client.connect();
    return client as unknown as RedisClusterCommands;
  };
  return {
    node: (id) => new RedisNodeRegistry(connection(), prefix, id),
    deadlines: () => new RedisDeadlineIndex(connection(), prefix),
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
    },
  };
});
