/**
 * Persistent rooms on Redis (issue 12): 20,000 made through the admin API of one server on a
 * private redis-server, the time per room for each 2,000, then how long the first and second
 * viewers of a server that has not served the programme wait for their `loadRooms` (the server
 * restores the programme's rooms first). Run: `npm run build && node --import tsx
 * bench/tools/room-creation.ts` (BENCH_ONAIR_ROOT=<a built checkout> for another version).
 */
import { createBenchEnv } from '../lib/env.js';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { startOnair, startRedis } from '../lib/servers.js';
import { makeRooms, TOKEN } from '../scenarios/lobby.js';

const bench = await createBenchEnv(false, process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? []);
const redis = await startRedis();
const env = { ADMIN_TOKEN: TOKEN, ROOMS_PER_PROGRAM_MAX: '20000', REDIS_URL: redis.url, REDIS_PREFIX: 'rooms:' };
const maker = await startOnair(bench, 'maker', env, bench.serverExecArgv);
for (let made = 0; made < 20_000; ) {
  const t0 = performance.now();
  const out = await makeRooms(maker.url, bench.cert, 'p1', 2000, 64, 600_000);
  made += out.ids.length;
  console.log(`rooms ${made}: ${((performance.now() - t0) / 2000).toFixed(3)} ms/room${out.failed ? ` (${out.failed} failed: ${out.firstError})` : ''}`);
  if (out.ids.length === 0) break;
}
const late = await startOnair(bench, 'late', env);
for (const who of ['first', 'second']) {
  const t0 = performance.now();
  const sock = await connectOnair(late.url, bench.cert, 'p1', devAuth(`viewer-${who}`), 60_000);
  console.log(`${who} viewer on a fresh server: loadRooms after ${(performance.now() - t0).toFixed(0)} ms`);
  sock.close();
}
await Promise.all([late.stop(), maker.stop()]);
await redis.remove();
bench.cleanup();
