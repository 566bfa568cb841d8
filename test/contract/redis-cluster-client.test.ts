/**
 * The store contracts again, against a Redis Cluster (3 masters, a replica each) through
 * node-redis' cluster client, as `REDIS_CLUSTER_NODES` runs them: every script and multi-key
 * command must touch one hash slot (CROSSSLOT otherwise), a programme's keys in its own slot,
 * the service-wide ones in `{_service}`'s (src/state/redis/keys.ts).
 */
import { randomBytes } from 'node:crypto';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisDeadlineIndex, RedisNodeRegistry, type RedisClusterCommands } from '../../src/state/redis/redis-cluster.js';
import { RedisModeration } from '../../src/state/redis/redis-moderation.js';
import { RedisOutbox, type RedisOutboxCommands } from '../../src/records/redis-outbox.js';
import { programmeKey, serviceKey } from '../../src/state/redis/keys.js';
import type { AggroRecord } from '../../src/domain/model.js';
import { END_REASONS } from '../../src/records/record-store.js';
import { startRedisCluster, type PrivateRedisCluster } from '../helpers/redis-cluster.js';
import { systemClock } from '../../src/domain/clock.js';
import { LOBBY, roomChannel } from '../../src/transport/channels.js';
import { RedisStore, type RedisCommands } from '../../src/state/redis/redis-store.js';
import { streamAnnouncements } from '../helpers/announcements.js';
import { clusterContract } from './cluster-contract.js';
import { lobbyContract } from './lobby-contract.js';
import { storeContract } from './store-contract.js';
import { moderationStoreContract } from './moderation-store-contract.js';

let rc: PrivateRedisCluster;
beforeAll(async () => {
  rc = await startRedisCluster();
});
afterAll(async () => {
  await rc?.remove();
});

async function clusterClient() {
  const client = createCluster({ rootNodes: rc.urls.map((url) => ({ url })) });
  await client.connect();
  return client;
}

/** A store on the cluster client, announcing as production does: into each programme's stream,
 * in the programme's slot. */
async function storeOnCluster(name: string, viewSize?: number) {
  const client = await clusterClient();
  const prefix = `${name}-${randomBytes(3).toString('hex')}:`;
  const announce = { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') };
  const store = new RedisStore(client as unknown as RedisCommands, { prefix, idleTtlMs: 60_000, announce, ...(viewSize ? { viewSize } : {}) });
  return {
    store,
    clock: systemClock,
    announced: (p: string) => streamAnnouncements(client as never, store.streamKey(p), announce, p),
    close: async () => {
      await client.close();
    },
  };
}

storeContract('redis cluster', () => storeOnCluster('contract'));

lobbyContract('redis cluster', (viewSize) => storeOnCluster('lobby', viewSize));

clusterContract('redis cluster', async () => {
  const prefix = `cluster-${randomBytes(4).toString('hex')}:`;
  const clients: { close(): Promise<unknown> }[] = [];
  // One connection per server handle, as each server has its own; all made before the test.
  const made = await Promise.all(Array.from({ length: 4 }, () => clusterClient()));
  clients.push(...made);
  let next = 0;
  const connection = (): RedisClusterCommands => {
    const c = made[next % made.length]!;
    next += 1;
    return c as unknown as RedisClusterCommands;
  };
  return {
    node: (id) => new RedisNodeRegistry(connection(), prefix, id),
    deadlines: () => new RedisDeadlineIndex(connection(), prefix),
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
    },
  };
});

moderationStoreContract('redis cluster', async () => {
  const client = await clusterClient();
  const prefix = `mod-${randomBytes(3).toString('hex')}:`;
  const store = new RedisModeration(client as never, { prefix, ttlMs: 60_000 });
  return {
    store,
    seat: async (p, socketId, roomId) => void (await client.hSet(programmeKey(prefix, p, 'seats'), socketId, roomId)),
    close: async () => {
      await client.close();
    },
  };
});

describe('service-wide keys on a Redis Cluster', () => {
  it('share one slot, which no programme can have', async () => {
    const slots = new Set(
      await Promise.all(['nodes', 'node:abc:sockets', 'orphans', 'orphans:abc', 'deadlines', 'programs', 'records:outbox'].map((w) => rc.keySlot(serviceKey('onair:', w)))),
    );
    expect(slots.size).toBe(1);
  });

  it('the records outbox works on the cluster client', async () => {
    const client = await clusterClient();
    try {
      const outbox = new RedisOutbox(client as unknown as RedisOutboxCommands, `rec-${randomBytes(3).toString('hex')}:`, { legacy: false });
      const record: AggroRecord = {
        aggroUID: 'a1', scheduleUID: 'p1', roomId: 'r1', userUID: 'u1', displayName: 'U', msg: 'm', type: 'A',
        point: 3, up: 3, down: 0, startedAt: 1, endedAt: 2, endReason: END_REASONS[0]!,
      };
      await outbox.put(record);
      expect(await outbox.size()).toBe(1);
      expect((await outbox.pending(10)).map((r) => r.aggroUID)).toEqual(['a1']);
      await outbox.remove(['a1']);
      expect(await outbox.size()).toBe(0);
    } finally {
      await client.close();
    }
  });
});
