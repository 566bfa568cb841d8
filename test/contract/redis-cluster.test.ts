/** The cluster-port contract against Redis: a private redis-server on a free port, a fresh
 * prefix per test, and a connection of its own for every server handle. */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggroRecord } from '../../src/domain/model.js';
import { RedisOutbox, type RedisOutboxCommands } from '../../src/records/redis-outbox.js';
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

/** The records outbox moved into the service slot (`<prefix>{_service}:records:outbox`); what a
 * server of an earlier version left under the untagged name is drained too, on one Redis. */
describe('RedisOutbox after the move into the service slot', () => {
  it('drains records left under the untagged name, and removes them from there', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const prefix = `rec-${randomBytes(3).toString('hex')}:`;
      const record: AggroRecord = {
        aggroUID: 'old-1', scheduleUID: 'p1', roomId: 'r1', userUID: 'u1', displayName: 'U', msg: 'm', type: 'A',
        point: 1, up: 1, down: 0, startedAt: 1, endedAt: 2, endReason: 'expired',
      };
      await client.hSet(`${prefix}records:outbox`, record.aggroUID, JSON.stringify(record));
      const outbox = new RedisOutbox(client as unknown as RedisOutboxCommands, prefix);
      await outbox.put({ ...record, aggroUID: 'new-1' });
      expect(await outbox.size()).toBe(2);
      expect((await outbox.pending(10)).map((r) => r.aggroUID).sort()).toEqual(['new-1', 'old-1']);
      await outbox.remove(['new-1', 'old-1']);
      expect(await outbox.size()).toBe(0);
      expect(await client.exists(`${prefix}records:outbox`)).toBe(0);
    } finally {
      await client.close();
    }
  });
});
