/**
 * How a server's read load grows with the number of streams it reads (issue 16 point 2). Every
 * programme is a stream of its own (`src/state/redis/streams-adapter.ts`), so a server reads as
 * many streams as it serves programmes, each with its own blocking `XREAD`. One onair server on a
 * private redis-server, with one idle client in each of N programmes (so it reads N streams);
 * another process appends broadcasts (socket.io's emitter format, to a room nobody is in: the
 * cost measured is reading and decoding, not delivering) at one fixed total rate spread over the
 * N streams. Reported: the server's CPU idle and under that load, its CPU per entry read, and
 * Redis' CPU and connections.
 *
 * Run: `npm run build && node --import tsx bench/tools/stream-read-load.ts [rate] [N,N,...]`
 * (default 1000 entries/s over 1,10,100,500 streams).
 */
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { createBenchEnv } from '../lib/env.js';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { redisCpuSeconds, startOnair, startRedis } from '../lib/servers.js';
import { sleep } from '../lib/stats.js';

const RATE = Number(process.argv[2] ?? 1000);
const COUNTS = (process.argv[3] ?? '1,10,100,500').split(',').map(Number);
const WINDOW_MS = 8000;
const TICK_MS = 10;

/** utime + stime of a process, in seconds (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cpuOver(pid: number, redisUrl: string, ms: number): Promise<{ server: number; redis: number }> {
  const s0 = cpuSeconds(pid);
  const r0 = await redisCpuSeconds(redisUrl);
  await sleep(ms);
  return { server: ((cpuSeconds(pid) - s0) / (ms / 1000)) * 100, redis: (((await redisCpuSeconds(redisUrl)) - r0) / (ms / 1000)) * 100 };
}

async function main(): Promise<void> {
  const bench = await createBenchEnv(false);
  const redis = await startRedis();
  const writer = createClient({ url: redis.url });
  await writer.connect();
  const rows: string[] = [];
  try {
    for (const n of COUNTS) {
      const prefix = `rl${n}:`;
      const server = await startOnair(bench, `onair-streams-${n}`, { REDIS_URL: redis.url, REDIS_PREFIX: prefix });
      const clients: Socket[] = [];
      try {
        for (let i = 0; i < n; i += 50) {
          const batch = Array.from({ length: Math.min(50, n - i) }, (_, k) => connectOnair(server.url, bench.cert, `rl${i + k}`, devAuth(`u${i + k}`)));
          clients.push(...(await Promise.all(batch)));
        }
        await sleep(1000);
        const idle = await cpuOver(server.pid, redis.url, WINDOW_MS / 2);
        // The load: RATE entries/s in all, round robin over the N streams, from this process.
        let sent = 0;
        let next = 0;
        let writing = true;
        const perTick = (RATE * TICK_MS) / 1000;
        const loop = (async () => {
          let due = performance.now();
          let owed = 0;
          while (writing) {
            owed += perTick;
            const batch: Promise<unknown>[] = [];
            for (; owed >= 1; owed--) {
              const p = `rl${next++ % n}`;
              const data = JSON.stringify({ packet: { type: 2, data: ['chat', { msg: 'x'.repeat(80), i: sent }], nsp: `/${p}` }, opts: { rooms: ['room:nobody'], except: [], flags: {} } });
              batch.push(writer.xAdd(`${prefix}{${p}}:stream`, '*', { uid: 'emitter', nsp: `/${p}`, type: '3', data }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 10_000 } }));
              sent++;
            }
            await Promise.all(batch);
            due += TICK_MS;
            await sleep(Math.max(0, due - performance.now()));
          }
        })();
        await sleep(1000);
        const sent0 = sent;
        const busy = await cpuOver(server.pid, redis.url, WINDOW_MS);
        const rate = (sent - sent0) / (WINDOW_MS / 1000);
        writing = false;
        await loop;
        const conns = (await writer.clientList()).length;
        const perEntryUs = ((busy.server - idle.server) / 100 / rate) * 1e6;
        const row = `| ${n} | ${rate.toFixed(0)} | ${idle.server.toFixed(1)}% | ${busy.server.toFixed(1)}% | ${perEntryUs.toFixed(1)} µs | ${idle.redis.toFixed(1)}% / ${busy.redis.toFixed(1)}% | ${conns} |`;
        console.log(row);
        rows.push(row);
      } finally {
        for (const c of clients) c.close();
        await server.stop();
      }
    }
  } finally {
    await writer.close();
    await redis.remove();
    bench.cleanup();
  }
  console.log(`\nentries/s target ${RATE}, window ${WINDOW_MS} ms\n`);
  console.log('| streams (programmes served) | entries/s read | server CPU idle | server CPU loaded | server CPU per entry | redis CPU idle / loaded | redis connections |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
