/**
 * The protocol suite runs against a topology, chosen by `ONAIR_TOPOLOGY`:
 * - `single` (default): one in-process server with in-memory state;
 * - `cluster`: three server processes sharing a private redis-server (see `cluster.ts`);
 * - `rediscluster`: the same three servers on a private Redis Cluster, 3 masters with a replica
 *   each (`redis-cluster.ts`), through `REDIS_CLUSTER_NODES`.
 * Tests address servers by index (`server(i)` wraps around), so the same test spreads its
 * clients over however many servers the topology has.
 */
import type { AppDeps } from '../../src/server/compose.js';
import { sharedCluster, sharedRedisClusterServers } from './cluster.js';
import { MemoryRecordSink, startServer, type TestServer } from './server.js';

export interface Topology {
  readonly name: 'single' | 'cluster' | 'rediscluster';
  readonly size: number;
  server(i?: number): TestServer;
  /** Finished aggros recorded by any server. */
  readonly records: MemoryRecordSink;
}

export const TOPOLOGY: Topology['name'] =
  process.env.ONAIR_TOPOLOGY === 'cluster' ? 'cluster' : process.env.ONAIR_TOPOLOGY === 'rediscluster' ? 'rediscluster' : 'single';

export async function startTopology(env: Record<string, string> = {}, deps: Partial<AppDeps> = {}): Promise<Topology> {
  if (TOPOLOGY === 'rediscluster') {
    const c = await sharedRedisClusterServers(env);
    return { name: 'rediscluster', size: c.nodes.length, server: (i = 0) => c.nodes[i % c.nodes.length]!, records: c.records };
  }
  if (TOPOLOGY === 'cluster') {
    const c = await sharedCluster(env);
    return { name: 'cluster', size: c.nodes.length, server: (i = 0) => c.nodes[i % c.nodes.length]!, records: c.records };
  }
  const records = new MemoryRecordSink();
  const server = await startServer(env, { records, ...deps });
  return { name: 'single', size: 1, server: () => server, records };
}
