/**
 * The app's home screen under load (spec section 10): requests per second of
 * `GET /v1/programs/on-air` with and without `If-None-Match`, and what a socket in the programmes
 * feed `/_programs` costs next to a programme socket: RSS each, and the server's CPU while every
 * refresh sends `viewers` to all of them.
 */
import { request } from 'node:https';
import type { BenchEnv } from '../lib/env.js';
import { startWorkers, type Worker } from '../lib/rpc.js';
import { startOnair } from '../lib/servers.js';
import { latency, merge, rssBytes, sample, sleep, type Latency } from '../lib/stats.js';

export interface AppApiResult {
  onAir: { programmes: number; bodyBytes: number; plain: HttpRun; revalidated: HttpRun };
  feed: { sockets: number; failed: number; kibPerFeedSocket: number; kibPerProgrammeSocket: number; viewersRounds: number; minViewersPerSocket: number; serverCpuIdle: number; serverCpuCounting: number };
}

interface HttpRun {
  perSecond: number;
  statuses: Record<string, number>;
  errors: number;
  latency: Latency;
  serverCpu: number;
}

const ADMIN = 'bench-admin-token';
const mib = (b: number) => b / 1048576;

function call(url: string, ca: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; etag?: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, ca, headers: { authorization: `Bearer ${ADMIN}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ...(typeof res.headers.etag === 'string' ? { etag: res.headers.etag } : {}) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function httpRun(workers: Worker[], pid: number, args: Record<string, unknown>): Promise<HttpRun> {
  await sample([pid]);
  const runs = await Promise.all(workers.map((w) => w.call<{ count: number; seconds: number; statuses: Record<string, number>; errors: number; hist: string }>('http', args, 60_000)));
  const cpu = (await sample([pid])).cpu;
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  const h = merge(runs.map((r) => r.hist));
  const result = {
    perSecond: Math.round(runs.reduce((s, r) => s + r.count / r.seconds, 0)),
    statuses,
    errors: runs.reduce((s, r) => s + r.errors, 0),
    latency: latency(h),
    serverCpu: cpu,
  };
  h.destroy();
  return result;
}

export async function appApi(bench: BenchEnv, log: (s: string) => void): Promise<AppApiResult> {
  const programmes = 20;
  const feedSockets = bench.quick ? 1000 : 5000;
  const seconds = bench.quick ? 3 : 8;
  const server = await startOnair(bench, 'onair-app', { ADMIN_TOKEN: ADMIN, APP_API_RATE: '100000', APP_API_BURST: '100000' }, bench.serverExecArgv);
  const workers = await startWorkers('app-clients.ts', 'app-', 2);
  try {
    const now = Date.now();
    for (let i = 0; i < programmes; i++) {
      const r = await call(server.url, bench.cert, 'PUT', `/admin/programs/bench-${i}`, { title: `Programme ${i}`, broadcaster: 'Bench TV', startAt: now - 60_000, endAt: now + 3_600_000 });
      if (r.status !== 200) throw new Error(`PUT programme: ${r.status} ${r.text}`);
    }
    // The schedule reaches the board within one refresh.
    await sleep(2500);
    const first = await call(server.url, bench.cert, 'GET', '/v1/programs/on-air');
    const http = { ca: bench.cert, url: server.url, path: '/v1/programs/on-air', seconds, concurrency: 32 };
    await Promise.all(workers.map((w) => w.call('http', { ...http, seconds: 1 }, 30_000)));
    const plain = await httpRun(workers, server.pid, http);
    const revalidated = await httpRun(workers, server.pid, { ...http, etag: first.etag });
    log(`  on-air list of ${programmes} programmes (${first.text.length} bytes): ${plain.perSecond} req/s plain (p99 ${plain.latency.p99} ms, server CPU ${plain.serverCpu}%), ${revalidated.perSecond} req/s with If-None-Match (${JSON.stringify(revalidated.statuses)}, p99 ${revalidated.latency.p99} ms, server CPU ${revalidated.serverCpu}%)`);

    // Feed sockets, then as many programme sockets, each measured from a settled RSS.
    await sleep(2000);
    const before = await rssBytes(server.pid);
    const opened = await Promise.all(workers.map((w) => w.call<{ opened: number; failed: number; firstError: string }>('openFeeds', { url: server.url, ca: bench.cert, count: feedSockets / workers.length, concurrency: 25 }, 180_000)));
    await sleep(5000);
    const withFeeds = await rssBytes(server.pid);
    const sockets = opened.reduce((s, r) => s + r.opened, 0);
    const failed = opened.reduce((s, r) => s + r.failed, 0);
    await sample([server.pid]);
    await sleep(5000);
    const serverCpuIdle = (await sample([server.pid])).cpu;

    // Viewers come and go in one programme: every refresh (1 s) sends `viewers` to every feed socket.
    const rounds = bench.quick ? 4 : 8;
    await sample([server.pid]);
    for (let i = 0; i < rounds; i++) {
      await workers[0]!.call('openViewers', { url: server.url, ca: bench.cert, program: 'bench-0', count: 1, prefix: `v${i}`, concurrency: 1 }, 30_000);
      await sleep(1100);
    }
    const serverCpuCounting = (await sample([server.pid])).cpu;
    const stats = await Promise.all(workers.map((w) => w.call<{ sockets: number; min: number; total: number }>('feedStats')));
    const minViewersPerSocket = Math.min(...stats.map((s) => s.min));

    const programmeSockets = feedSockets;
    const beforeViewers = await rssBytes(server.pid);
    await Promise.all(workers.map((w, i) => w.call('openViewers', { url: server.url, ca: bench.cert, program: 'bench-1', count: programmeSockets / workers.length, prefix: `p${i}`, concurrency: 25 }, 180_000)));
    await sleep(5000);
    const withViewers = await rssBytes(server.pid);
    const feed = {
      sockets,
      failed,
      kibPerFeedSocket: Math.round(((withFeeds - before) / 1024 / Math.max(1, sockets)) * 10) / 10,
      kibPerProgrammeSocket: Math.round(((withViewers - beforeViewers) / 1024 / programmeSockets) * 10) / 10,
      viewersRounds: rounds,
      minViewersPerSocket,
      serverCpuIdle,
      serverCpuCounting,
    };
    log(`  ${sockets} feed sockets (${failed} failed): RSS ${mib(before).toFixed(1)} -> ${mib(withFeeds).toFixed(1)} MiB = ${feed.kibPerFeedSocket} KiB each; ${programmeSockets} programme sockets: ${feed.kibPerProgrammeSocket} KiB each`);
    log(`  server CPU with the feed sockets idle ${serverCpuIdle}%, while a count changed every refresh ${serverCpuCounting}% (${rounds} rounds; every feed socket got at least ${minViewersPerSocket} viewers events)`);
    return { onAir: { programmes, bodyBytes: first.text.length, plain, revalidated }, feed };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}
