/**
 * What servers cost doing nothing (issue 17, point 3): the fixed CPU under every figure of
 * "CPU per delivery", which weighs most at low rates. One onair server in memory, one on a
 * private Redis and three on it, no client connected, CPU of each onair process and of the
 * redis-server over a window after a warm-up, in percent of one core.
 *
 *   npm run build && node --import tsx bench/tools/idle-cpu.ts [windowSeconds]
 *
 * Extra server env as BENCH_SERVER_ENV (as for the bench), e.g. "BATCH_INTERVAL_MS=1000".
 */
import { randomBytes } from 'node:crypto';
import { stopAll } from '../lib/cleanup.js';
import { createBenchEnv } from '../lib/env.js';
import { redisCpuOver, startOnair, startRedis, type ServerProcess } from '../lib/servers.js';
import { sample, sleep } from '../lib/stats.js';

const windowS = Number(process.argv[2] ?? 20);
const bench = await createBenchEnv(false);

async function idle(label: string, servers: ServerProcess[], redisUrls: string[]): Promise<void> {
  await sleep(3000);
  await sample(servers.map((s) => s.pid));
  const { result, cpu } = await redisCpuOver(redisUrls, async () => {
    await sleep(windowS * 1000);
    return Promise.all(servers.map((s) => sample([s.pid])));
  });
  const each = result.map((u) => u.cpu);
  const redis = cpu.reduce((a, b) => a + b, 0);
  const total = each.reduce((a, b) => a + b, 0) + redis;
  console.log(`${label}: onair ${each.map((c) => `${c}%`).join(' + ')}${redisUrls.length ? `, redis-server ${redis}%` : ''}; total ${total}% of a core (over ${windowS} s)`);
}

try {
  const one = await startOnair(bench, 'idle-memory');
  await idle('1 server in memory', [one], []);
  await one.stop();

  const redis = await startRedis();
  try {
    for (const n of [1, 3]) {
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: `idle${randomBytes(3).toString('hex')}:` };
      const servers = await Promise.all(Array.from({ length: n }, (_, i) => startOnair(bench, `idle-redis-${n}-${i}`, env)));
      await idle(`${n} server${n > 1 ? 's' : ''} on Redis`, servers, [redis.url]);
      await Promise.all(servers.map((s) => s.stop()));
    }
  } finally {
    await redis.stop();
  }
} finally {
  await stopAll();
  bench.cleanup();
}
process.exit(0);
