/**
 * What one chat message costs Redis (issue 17, point 3): servers on a private redis-server, one
 * member on each in one room, N chat messages sent one at a time (each acked and delivered to
 * the other members before the next); the commands Redis ran, per message, by command (INFO
 * commandstats before and after), and the round trips among them (MONITOR). Shows the round trips of the chat path and of the adapter
 * (XADD on the sender's server, XREAD on every server) beside the background's (heartbeats,
 * registry), which a quiet window of the same length measures alone.
 *
 *   npm run build && node --import tsx bench/tools/redis-calls.ts [servers=3] [messages=200]
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { stopAll } from '../lib/cleanup.js';
import { createBenchEnv } from '../lib/env.js';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { startOnair, startRedis } from '../lib/servers.js';
import { sleep } from '../lib/stats.js';

const n = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 200);
const bench = await createBenchEnv(false);
const redis = await startRedis();

async function commandStats(): Promise<Map<string, number>> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const out = new Map<string, number>();
    for (const line of (await c.info('commandstats')).split('\n')) {
      const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
  } finally {
    await c.close();
  }
}

function diff(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) if (v - (a.get(k) ?? 0) > 0) out.set(k, v - (a.get(k) ?? 0));
  return out;
}

try {
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: `calls${randomBytes(3).toString('hex')}:` };
  const servers = await Promise.all(Array.from({ length: n }, (_, i) => startOnair(bench, `calls-${i}`, env)));
  const program = 'bench-calls';
  const members = await Promise.all(servers.map((s, i) => connectOnair(s.url, bench.cert, program, devAuth(`member-${i}`))));
  const created = (await members[0]!.timeout(10_000).emitWithAck('createRoom', { title: 'calls', max: 10 })) as { roomId: string };
  for (const m of members.slice(1)) await m.timeout(10_000).emitWithAck('joinRoom', { roomId: created.roomId });
  await sleep(1000);

  // MONITOR tells the servers' own commands (round trips) from those their scripts ran ("lua").
  const monitor = createClient({ url: redis.url });
  await monitor.connect();
  const trips = new Map<string, number>();
  let counting = false;
  await monitor.monitor((line: string) => {
    if (!counting || line.includes(' lua] ')) return;
    const cmd = /\] "([^"]+)"/.exec(line)?.[1]?.toLowerCase();
    if (cmd && cmd !== 'info') trips.set(cmd, (trips.get(cmd) ?? 0) + 1);
  });

  const t0 = performance.now();
  const s0 = await commandStats();
  counting = true;
  for (let i = 0; i < messages; i++) {
    // Everyone but the sender, whom a room's chat leaves out.
    const everyone = members.filter((_, j) => j !== i % n).map((m) => new Promise<void>((resolve) => m.once('chat', () => resolve())));
    await members[i % n]!.timeout(10_000).emitWithAck('chat', { roomId: created.roomId, msg: `message ${i}`, type: 'N' });
    await Promise.all(everyone);
  }
  counting = false;
  const s1 = await commandStats();
  const windowMs = performance.now() - t0;
  await sleep(windowMs);
  const s2 = await commandStats();

  const busy = diff(s0, s1);
  const quiet = diff(s1, s2);
  const rows = [...new Set([...busy.keys(), ...quiet.keys()])].map((k) => ({ k, per: ((busy.get(k) ?? 0) - (quiet.get(k) ?? 0)) / messages, quiet: quiet.get(k) ?? 0 }));
  rows.sort((a, b) => b.per - a.per);
  console.log(`${n} server(s), ${messages} messages in ${Math.round(windowMs)} ms; Redis commands per message (background of a quiet window as long subtracted):`);
  for (const r of rows) if (Math.abs(r.per) >= 0.005 || r.quiet > 0) console.log(`  ${r.k.padEnd(12)} ${r.per.toFixed(2).padStart(6)}   (quiet window: ${r.quiet})`);
  console.log(`  total        ${rows.reduce((s, r) => s + r.per, 0).toFixed(2).padStart(6)}`);
  const own = [...trips].sort((a, b) => b[1] - a[1]);
  console.log(`Round trips per message (the servers' own commands, scripts' inner calls left out; background included): ${own.map(([k, v]) => `${k} ${(v / messages).toFixed(2)}`).join(', ')}; total ${(own.reduce((s, [, v]) => s + v, 0) / messages).toFixed(2)}`);
  await monitor.close().catch(() => {});
  for (const m of members) m.close();
} finally {
  await stopAll();
  await redis.stop();
  bench.cleanup();
}
process.exit(0);
