/**
 * Three onair servers on one private redis-server against one: the fan-out ladder with the room's
 * 120 members spread over the three servers (40 each), so every message crosses Redis. A single
 * server on the same Redis is measured too, to separate the cost of shared state from the cost
 * of cross-server delivery. Then the same three servers on a private Redis Cluster (3 masters, a
 * replica each, `REDIS_CLUSTER_NODES`), side by side in the same run, with each master's CPU.
 * Each step's server CPU includes the redis-server processes, so that it reads as the service's
 * CPU per delivery beside one server in memory. The machine's shared Redis is never touched.
 */
import { randomBytes } from 'node:crypto';
import { track } from '../lib/cleanup.js';
import type { BenchEnv } from '../lib/env.js';
import { redisCpuOver, startBenchRedisCluster, startOnair, startRedis, type ServerProcess } from '../lib/servers.js';
import { fanoutAgainst, plan, type FanoutResult } from './fanout.js';

/** A ladder with the Redis CPU over it: percent of one core per Redis (per master on a cluster),
 * averaged over the whole ladder (its steps double the rate, so the last steps weigh most). */
export type FanoutOnRedis = FanoutResult & { redisCpu: number[] };

export interface ClusterResult {
  redisVersion: string;
  oneServerOnRedis: FanoutResult;
  threeServersOnRedis: FanoutOnRedis;
  threeServersOnRedisCluster?: FanoutOnRedis;
}

async function onRedis(bench: BenchEnv, backend: Record<string, string>, n: number, cpuOf: string[], name: string, log: (s: string) => void): Promise<FanoutOnRedis> {
  const env = { ...backend, REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}:` };
  const servers: ServerProcess[] = [];
  try {
    // One first, then the rest side by side (as the test cluster does).
    servers.push(await startOnair(bench, `onair-${name}-${n}-0`, env, bench.serverExecArgv));
    servers.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => startOnair(bench, `onair-${name}-${n}-${i + 1}`, env, bench.serverExecArgv)))));
    const p = plan(bench, 9);
    // Each step's "server" CPU sums the onair processes and the redis-server(s): what a delivery
    // costs the service, to set beside one server in memory (issue 17 point 3).
    const redisPids = await Promise.all(cpuOf.map(redisPid));
    const { result, cpu } = await redisCpuOver(cpuOf, () =>
      fanoutAgainst(bench, `onair-${name}-x${n}`, 'onair', servers.map((s) => s.url), [...servers.map((s) => s.pid), ...redisPids], { ...p, measureMs: bench.quick ? p.measureMs : 5000, budgetMs: bench.quick ? p.budgetMs : 80_000 }, log),
    );
    log(`  redis CPU over the ladder (% of a core${cpuOf.length > 1 ? ', per master' : ''}): ${cpu.join(', ')}`);
    return { ...result, redisCpu: cpu };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function redisPid(url: string): Promise<number> {
  const { createClient } = await import('redis');
  const c = createClient({ url });
  await c.connect();
  try {
    return Number(/process_id:(\d+)/.exec(await c.info('server'))?.[1]);
  } finally {
    await c.close();
  }
}

export async function cluster(bench: BenchEnv, log: (s: string) => void): Promise<ClusterResult> {
  const redis = await startRedis();
  const untrack = track(() => redis.remove());
  let out: ClusterResult;
  try {
    const { createClient } = await import('redis');
    const c = createClient({ url: redis.url });
    await c.connect();
    const info = await c.info('server');
    await c.close();
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    log(`  private redis-server ${redisVersion} on port ${redis.port}`);
    log('  one server on Redis:');
    const { redisCpu: _cpu, ...one } = await onRedis(bench, { REDIS_URL: redis.url }, 1, [redis.url], 'redis', log);
    log('  three servers on Redis:');
    const three = await onRedis(bench, { REDIS_URL: redis.url }, 3, [redis.url], 'redis', log);
    out = { redisVersion, oneServerOnRedis: one, threeServersOnRedis: three };
  } finally {
    untrack();
    await redis.remove();
  }
  if (process.env.BENCH_REDIS_CLUSTER === '0') return out;
  const rc = await startBenchRedisCluster();
  try {
    const masters = (await rc.shards()).map((s) => s.master.url);
    log(`  three servers on a Redis Cluster (masters ${masters.map((u) => new URL(u).port).join(', ')}):`);
    out.threeServersOnRedisCluster = await onRedis(bench, { REDIS_CLUSTER_NODES: rc.urls.join(',') }, 3, masters, 'rcluster', log);
  } finally {
    rc.untrack();
    await rc.remove();
  }
  return out;
}
