/**
 * Three onair servers on one private redis-server against one: the fan-out ladder with the room's
 * 120 members spread over the three servers (40 each), so every message crosses Redis. A single
 * server on the same Redis is measured too, to separate the cost of shared state from the cost
 * of cross-server delivery. The machine's shared Redis is never touched.
 */
import { randomBytes } from 'node:crypto';
import { track } from '../lib/cleanup.js';
import type { BenchEnv } from '../lib/env.js';
import { startOnair, startRedis, type ServerProcess } from '../lib/servers.js';
import { fanoutAgainst, plan, type FanoutResult } from './fanout.js';

export interface ClusterResult {
  redisVersion: string;
  oneServerOnRedis: FanoutResult;
  threeServersOnRedis: FanoutResult;
}

async function onRedis(bench: BenchEnv, redisUrl: string, n: number, log: (s: string) => void): Promise<FanoutResult> {
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}:` };
  const servers: ServerProcess[] = [];
  try {
    // One first, then the rest side by side (as the test cluster does).
    servers.push(await startOnair(bench, `onair-redis-${n}-0`, env, bench.serverExecArgv));
    servers.push(...(await Promise.all(Array.from({ length: n - 1 }, (_, i) => startOnair(bench, `onair-redis-${n}-${i + 1}`, env, bench.serverExecArgv)))));
    const p = plan(bench, 9);
    return await fanoutAgainst(bench, `onair-redis-x${n}`, 'onair', servers.map((s) => s.url), servers.map((s) => s.pid), { ...p, measureMs: bench.quick ? p.measureMs : 5000, budgetMs: bench.quick ? p.budgetMs : 80_000 }, log);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export async function cluster(bench: BenchEnv, log: (s: string) => void): Promise<ClusterResult> {
  const redis = await startRedis();
  const untrack = track(() => redis.remove());
  try {
    const { createClient } = await import('redis');
    const c = createClient({ url: redis.url });
    await c.connect();
    const info = await c.info('server');
    await c.close();
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    log(`  private redis-server ${redisVersion} on port ${redis.port}`);
    log('  one server on Redis:');
    const one = await onRedis(bench, redis.url, 1, log);
    log('  three servers on Redis:');
    const three = await onRedis(bench, redis.url, 3, log);
    return { redisVersion, oneServerOnRedis: one, threeServersOnRedis: three };
  } finally {
    untrack();
    await redis.remove();
  }
}
