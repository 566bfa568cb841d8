/**
 * Connection capacity of one server: RSS per idle WSS connection at 10,000 connections, and
 * handshakes per second with TLS and JWT verification (connect + disconnect cycles).
 */
import type { BenchEnv } from '../lib/env.js';
import { startWorkers } from '../lib/rpc.js';
import { startOnair } from '../lib/servers.js';
import { latency, merge, rssBytes, sample, sleep, type Latency } from '../lib/stats.js';

export interface ConnectionsResult {
  idle: {
    connections: number;
    failed: number;
    firstError: string;
    openSeconds: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    kibPerConnection: number;
  };
  handshakes: {
    cycles: number;
    failed: number;
    firstError: string;
    concurrency: number;
    perSecond: number;
    connectMs: Latency;
    serverCpu: number;
  };
}

const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;

async function idle(bench: BenchEnv, log: (s: string) => void): Promise<ConnectionsResult['idle']> {
  const total = bench.quick ? 2000 : 10_000;
  const nWorkers = 4;
  const server = await startOnair(bench, 'onair-idle', {}, bench.serverExecArgv);
  const workers = await startWorkers('idle-clients.ts', 'idle-', nWorkers);
  try {
    const open = (count: number, prefix: string) =>
      Promise.all(
        workers.map((w, i) =>
          w.call<{ opened: number; failed: number; firstError: string; ms: number }>(
            'open',
            { url: server.url, ca: bench.cert, program: 'bench-idle', count: count / nWorkers, prefix: `${prefix}${i}`, concurrency: 25 },
            180_000,
          ),
        ),
      );
    // Warm up (code paths compiled, the programme's namespace made), then measure from there.
    await open(200, 'warm');
    await Promise.all(workers.map((w) => w.call('closeAll')));
    await sleep(3000);
    const before = await rssBytes(server.pid);
    const t0 = Date.now();
    const opened = await open(total, 'idle');
    const openSeconds = (Date.now() - t0) / 1000;
    await sleep(5000); // let allocation settle before reading RSS
    const after = await rssBytes(server.pid);
    const connections = opened.reduce((s, r) => s + r.opened, 0);
    const failed = opened.reduce((s, r) => s + r.failed, 0);
    const r = {
      connections,
      failed,
      firstError: opened.find((o) => o.firstError)?.firstError ?? '',
      openSeconds: Math.round(openSeconds * 10) / 10,
      rssBeforeMiB: mib(before),
      rssAfterMiB: mib(after),
      kibPerConnection: Math.round(((after - before) / 1024 / Math.max(1, connections)) * 10) / 10,
    };
    log(`  ${connections} idle connections (${failed} failed) in ${r.openSeconds} s: RSS ${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB = ${r.kibPerConnection} KiB each`);
    return r;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}

async function handshakes(bench: BenchEnv, log: (s: string) => void): Promise<ConnectionsResult['handshakes']> {
  const cycles = bench.quick ? 500 : 2000;
  const nWorkers = 2;
  const concurrency = 16; // per worker
  const server = await startOnair(bench, 'onair-jwt', { AUTH_MODE: 'jwt', JWT_SECRET }, bench.serverExecArgv);
  const workers = await startWorkers('idle-clients.ts', 'hs-', nWorkers);
  type Out = { done: number; failed: number; firstError: string; ms: number; hist: string };
  try {
    const run = (count: number, prefix: string) =>
      Promise.all(
        workers.map((w, i) =>
          w.call<Out>('cycles', { url: server.url, ca: bench.cert, program: 'bench-hs', count: count / nWorkers, prefix: `${prefix}${i}`, concurrency, secret: JWT_SECRET }, 180_000),
        ),
      );
    await run(100, 'warm');
    await sample([server.pid]);
    const out = await run(cycles, 'hs');
    const cpu = await sample([server.pid]);
    const hist = merge(out.map((o) => o.hist));
    const done = out.reduce((s, o) => s + o.done, 0);
    const seconds = Math.max(...out.map((o) => o.ms)) / 1000;
    const r = {
      cycles: done,
      failed: out.reduce((s, o) => s + o.failed, 0),
      firstError: out.find((o) => o.firstError)?.firstError ?? '',
      concurrency: concurrency * nWorkers,
      perSecond: Math.round(done / seconds),
      connectMs: latency(hist),
      serverCpu: cpu.cpu,
    };
    hist.destroy();
    log(`  ${done} JWT connect+disconnect cycles (${r.failed} failed), ${r.concurrency} at a time: ${r.perSecond}/s, connect p50 ${r.connectMs.p50} p99 ${r.connectMs.p99} ms, server ${r.serverCpu}%`);
    return r;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}

export async function connections(bench: BenchEnv, log: (s: string) => void): Promise<ConnectionsResult> {
  return { idle: await idle(bench, log), handshakes: await handshakes(bench, log) };
}
