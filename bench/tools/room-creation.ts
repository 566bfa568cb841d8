/**
 * Persistent rooms on Redis (issue 12): 20,000 made through the admin API of one server on a
 * private redis-server, the time per room for each 2,000, then how long the first and second
 * viewers of a server that has not served the programme wait for their `loadRooms` (the server
 * restores the programme's rooms first). Run: `npm run build && node --import tsx
 * bench/tools/room-creation.ts` (BENCH_ONAIR_ROOT=<a built checkout> for another version).
 */
import { Agent, request } from 'node:https';
import { createBenchEnv } from '../lib/env.js';
import { startOnair, startRedis } from '../lib/servers.js';
import { connectOnair, devAuth } from '../lib/onair-client.js';
const bench = await createBenchEnv(false, process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? []);
const redis = await startRedis();
const env = { ADMIN_TOKEN: 'tok', ROOMS_PER_PROGRAM_MAX: '20000', REDIS_URL: redis.url, REDIS_PREFIX: 'x:' };
const servers = [await startOnair(bench, 'maker', env, bench.serverExecArgv)];
const u = new URL(servers[0]!.url);
const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: bench.cert });
const one = (i: number) => new Promise<void>((resolve) => {
  const data = JSON.stringify({ title: `방 ${i} room`, max: 120 });
  const req = request({ agent, host: u.hostname, port: u.port, path: `/admin/programs/p1/rooms`, method: 'POST', servername: 'localhost', headers: { authorization: 'Bearer tok', 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => { res.resume(); res.on('end', () => { if (res.statusCode !== 201) console.log('HTTP', res.statusCode); resolve(); }); });
  req.on('error', (e) => { console.log(String(e)); resolve(); });
  req.end(data);
});
let next = 0;
for (let b = 0; b < 10; b++) {
  const t0 = performance.now(); const stop = (b + 1) * 2000;
  await Promise.all(Array.from({ length: 64 }, async () => { while (next < stop) await one(next++); }));
  console.log(`rooms ${stop}: ${((performance.now() - t0) / 2000).toFixed(3)} ms/room`);
}
agent.destroy();
const late = await startOnair(bench, 'late', env);
for (const who of ['first', 'second']) {
  const t0 = performance.now();
  const sock = await connectOnair(late.url, bench.cert, 'p1', devAuth('viewer-' + who), 60_000);
  console.log(`${who} viewer on a fresh server: loadRooms after ${(performance.now() - t0).toFixed(0)} ms`);
  sock.close();
}
await late.stop();
await Promise.all(servers.map((s) => s.stop())); await redis.remove(); bench.cleanup();
