/**
 * Issue 12 point 5: a programme of 20,000 persistent rooms (made through the admin API over
 * keep-alive connections), 1,000 lobby sockets (900 seed-protocol: identity in the query and no
 * `auth`; 100 batched), movers switching rooms at 1,000 joins/s, then in the same window
 * `listRooms` pages and `quickJoin` at 500 calls/s. Measured: a new socket's `loadRooms` size and
 * time, lobby frames and bytes per socket per second, `listRooms` and `quickJoin` latency.
 * Run on one server in memory and on three servers over a private redis-server; clients live in
 * worker processes (bench/workers/lobby-clients.ts).
 *
 * `BENCH_ONAIR_ROOT` points the servers at another checkout's build (the "before" run); on code
 * without `listRooms` the scenario measures what that code has (loadRooms and lobby traffic) and
 * says the rest is unsupported. `BENCH_LOBBY_TOPOLOGIES=one` or `three` runs only one of the two;
 * `BENCH_LOBBY_ROOMS` changes the number of rooms.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:https';
import { track } from '../lib/cleanup.js';
import type { BenchEnv } from '../lib/env.js';
import { pin } from '../lib/pin.js';
import { startWorker, type Worker } from '../lib/rpc.js';
import { redisCpuSeconds, startBenchRedisCluster, startOnair, startRedis, type ServerProcess } from '../lib/servers.js';
import { latency, merge, sample, sleep, type Latency } from '../lib/stats.js';

export const TOKEN = 'bench-admin-token';
/** Lobby sockets of each mode in the process that times `listRooms`. */
const PROBE_SOCKETS = 5;

interface Failures { byKind: Record<string, number>; first: string }
interface Lag { p99Ms: number; maxMs: number }

/** A server's event-loop delay since its previous scrape (prom-client resets it per collection). */
function serverLag(url: string, ca: string): Promise<Lag> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: '/metrics', ca, servername: 'localhost', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const v = (name: string) => Math.round(Number(new RegExp(`^onair_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(body)?.[1] ?? NaN) * 10000) / 10;
        resolve({ p99Ms: v('p99'), maxMs: v('max') });
      });
    });
    req.on('error', () => resolve({ p99Ms: NaN, maxMs: NaN }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Persistent rooms through the admin API, `concurrency` requests in flight on keep-alive sockets. */
export async function makeRooms(url: string, ca: string, program: string, n: number, concurrency: number, deadlineMs: number): Promise<{ ids: string[]; failed: number; firstError: string }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const u = new URL(url);
  const ids: string[] = [];
  let failed = 0;
  let firstError = '';
  let next = 0;
  const end = Date.now() + deadlineMs;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const data = JSON.stringify({ title: `방 ${i} room ${i % 97 === 0 ? '선거 개표' : '축구'}`, max: 120 });
      const req = request(
        { agent, host: u.hostname, port: u.port, path: `/admin/programs/${program}/rooms`, method: 'POST', servername: 'localhost', timeout: 15_000, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 201) ids.push((JSON.parse(body) as { roomId: string }).roomId);
            else (failed += 1), (firstError ||= `HTTP ${res.statusCode}: ${body.slice(0, 120)}`);
            resolve();
          });
        },
      );
      req.on('error', (err) => ((failed += 1), (firstError ||= String(err)), resolve()));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end(data);
    });
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n && Date.now() < end && failed < 100) await one(next++);
  }));
  agent.destroy();
  return { ids, failed, firstError };
}

export interface TopologyResult {
  servers: number;
  backend: 'memory' | 'redis' | 'rediscluster';
  /** The server on one core and the clients on the other (`taskset`). */
  pinned: boolean;
  rooms: number;
  roomsPerSec: number;
  lobbySockets: { seed: number; batched: number };
  movers: number;
  listRoomsSupported: boolean;
  switchesPerSec: number;
  switchesAsked: number;
  switchFailures: Failures;
  joinRoom: Latency;
  /** A new seed socket's `loadRooms`: before the window (movers connected) and during it. */
  loadRooms: { bytes: number; ms: number; underLoadMs: number; firstSocketsMaxBytes: number; error?: string };
  seedPerSocket: { framesPerSec: number; bytesPerSec: number; maxFramesPerSec: number };
  batchedPerSocket: { framesPerSec: number; bytesPerSec: number; maxFramesPerSec: number };
  listRooms?: Latency & { failures: Failures };
  listRoomsSearch?: Latency & { failures: Failures };
  quickJoin?: Latency & { callsPerSec: number; failures: Failures };
  /** Percent of one core over the window, summed over the servers. */
  serverCpu: number;
  serverRssMiB: number;
  /** The client processes' CPU over the window: near 100% means that process is the bottleneck. */
  clientCpu: { listeners: number; movers: number; quickJoin: number; probe: number };
  /** Event-loop delay over the window, per server and per client process. */
  serverLag: Lag[];
  clientLag: { listeners: Lag; movers: Lag; quickJoin: Lag; probe: Lag };
  /** redis-server's CPU over the window, percent of one core (on a cluster: summed over masters). */
  redisCpu?: number;
  /** On a Redis Cluster: each master's CPU over the window, percent of one core. */
  redisCpuPerShard?: number[];
}

export interface LobbyResult {
  oneServer?: TopologyResult;
  threeServersOnRedis?: TopologyResult;
  threeServersOnRedisCluster?: TopologyResult;
}

function plan(bench: BenchEnv) {
  const p = bench.quick
    ? { rooms: 2000, seed: 180, batched: 20, movers: 100, rate: 300, quickRate: 100, quickCalls: 200, windowSec: 6 }
    : { rooms: 20_000, seed: 900, batched: 100, movers: 300, rate: 1000, quickRate: 500, quickCalls: 2000, windowSec: 10 };
  // The code before issue 12 reads every room to create one: on Redis 20,000 would take hours.
  const rooms = Number(process.env.BENCH_LOBBY_ROOMS);
  return rooms > 0 ? { ...p, rooms } : p;
}

async function topology(bench: BenchEnv, servers: ServerProcess[], backend: TopologyResult['backend'], log: (s: string) => void, redisUrls: string[] = []): Promise<TopologyResult> {
  const p = plan(bench);
  // A programme per topology: the persistent rooms of one run stay in the run's database.
  const program = `bench-lobby-${backend}`;
  const targets = servers.map((s) => ({ url: s.url, ca: bench.cert, program }));
  const t0 = Date.now();
  const made = await makeRooms(servers[0]!.url, bench.cert, program, p.rooms, 64, 120_000);
  const roomSec = (Date.now() - t0) / 1000;
  log(`  ${made.ids.length} persistent rooms in ${roomSec.toFixed(1)} s${made.failed ? ` (${made.failed} failed: ${made.firstError})` : ''}`);
  if (made.ids.length === 0) throw new Error(`no room could be made: ${made.firstError}`);

  // Four client processes: the lobby sockets (counting frames), the movers, the quickJoin
  // callers (whose rooms fill, so they receive every newcomer's joinRoom), and the `listRooms`
  // callers: a few lobby sockets of their own, as a viewer's phone has one, so that the backlog
  // of a process reading a thousand lobbies (its loop's p99 was 15-27 ms) is not timed as the
  // server's answer. Each one's backlog would otherwise show up in the others' latencies.
  const listeners = await startWorker('lobby-clients.ts', 'lobby-listen');
  const actors = await startWorker('lobby-clients.ts', 'lobby-move');
  const quickers = await startWorker('lobby-clients.ts', 'lobby-quick');
  const probe = await startWorker('lobby-clients.ts', 'lobby-probe');
  const workers = [listeners, actors, quickers, probe];
  const clientPids = workers.map((w) => w.pid);
  const pinned = servers.length === 1 && pin(servers[0]!.pid, '0') && clientPids.every((pid) => pin(pid, '1'));
  if (pinned) log('  pinned: the server on core 0, the client processes on core 1');
  try {
    type Opened = { opened: number; failed: Failures; loadRoomsBytesMax: number };
    const seed = await listeners.call<Opened>('open', { targets, count: p.seed - PROBE_SOCKETS, prefix: 'seed', mode: 'seed', concurrency: 50, deadlineMs: 60_000 }, 120_000);
    const batched = await listeners.call<Opened>('open', { targets, count: p.batched - PROBE_SOCKETS, prefix: 'bat', mode: 'batched', concurrency: 50 }, 60_000);
    const movers = await actors.call<Opened>('open', { targets, count: p.movers, prefix: 'mov', mode: 'mover', concurrency: 50 }, 60_000);
    // Part of the same lobby, in the same two modes (the frames per socket are the listeners').
    const probeSeed = await probe.call<Opened>('open', { targets, count: PROBE_SOCKETS, prefix: 'probe-seed', mode: 'seed', concurrency: 10 }, 60_000);
    const probeBatched = await probe.call<Opened>('open', { targets, count: PROBE_SOCKETS, prefix: 'probe-bat', mode: 'batched', concurrency: 10 }, 60_000);
    const callers = await quickers.call<Opened>('open', { targets, count: p.quickCalls, prefix: 'qj', mode: 'quicker', concurrency: 100 }, 120_000);
    log(`  lobby sockets: ${seed.opened + probeSeed.opened} seed, ${batched.opened + probeBatched.opened} batched (${probeSeed.opened + probeBatched.opened} of them timing listRooms); ${movers.opened} movers, ${callers.opened} quickJoin callers`);
    for (const o of [seed, batched, probeSeed, probeBatched, movers, callers]) if (o.failed.first) log(`    connect failures: ${JSON.stringify(o.failed.byKind)} first: ${o.failed.first}`);
    const supported = await probe.call<boolean>('probe');
    if (!supported) log('  listRooms not answered: this code has no listRooms/quickJoin; measuring loadRooms and lobby traffic only');

    const fresh = (uid: string) => listeners.call<{ bytes: number; ms: number }>('fresh', { target: targets[targets.length - 1], uid }, 60_000).catch((err: unknown) => ({ bytes: 0, ms: -1, error: String(err) }));
    const quiet = await fresh('fresh-quiet');
    // The window: movers from its start; counters reset after 2 s of warm-up; listRooms and
    // quickJoin within it.
    const moving = actors.call<{ switches: number; issued: number; skipped: number; seconds: number; failed: Failures; joinMs: string }>('move', { ids: made.ids, rate: p.rate, seconds: p.windowSec }, (p.windowSec + 60) * 1000);
    await sleep(2000);
    await listeners.call('reset');
    await sample(servers.map((s) => s.pid));
    await sample(clientPids);
    await Promise.all(servers.map((s) => serverLag(s.url, bench.cert)));
    await Promise.all(workers.map((w) => w.call('lagStart')));
    const redis0 = await Promise.all(redisUrls.map(redisCpuSeconds));
    const m0 = performance.now();
    const measured = p.windowSec - 2.5;
    let listing: Promise<{ failed: Failures; ms: string }> | undefined;
    let searching: Promise<{ failed: Failures; ms: string }> | undefined;
    let quicking: Promise<{ calls: number; seconds: number; failed: Failures; ms: string }> | undefined;
    if (supported) {
      listing = probe.call('list', { seconds: measured - 1, gapMs: 10, limit: 20 }, 120_000);
      searching = probe.call('list', { seconds: measured - 1, gapMs: 50, limit: 20, q: '개표' }, 120_000);
      quicking = quickers.call('quick', { rate: p.quickRate }, 120_000);
    }
    await sleep(measured * 500);
    const loaded = await fresh('fresh-loaded');
    await sleep(Math.max(0, m0 + measured * 1000 - performance.now()));
    const sec = (performance.now() - m0) / 1000;
    type Sum = { sockets: number; frames: number; bytes: number; maxFrames: number };
    const counts = await listeners.call<{ seed: Sum; batched: Sum }>('counters');
    const usage = await sample(servers.map((s) => s.pid));
    const clientUsage = await Promise.all(clientPids.map((pid) => sample([pid])));
    const perShard = (await Promise.all(redisUrls.map(redisCpuSeconds))).map((x, i) => Math.round(((x - redis0[i]!) / sec) * 100));
    const redisCpu = redisUrls.length ? perShard.reduce((a, b) => a + b, 0) : undefined;
    const serverLags = await Promise.all(servers.map((s) => serverLag(s.url, bench.cert)));
    const clientLags = await Promise.all(workers.map((w) => w.call<Lag>('lagStop')));
    const [moved, listed, searched, quick] = await Promise.all([moving, listing, searching, quicking]);
    const perSocket = (s: Sum) => ({
      framesPerSec: Math.round((s.frames / Math.max(1, s.sockets) / sec) * 10) / 10,
      bytesPerSec: Math.round(s.bytes / Math.max(1, s.sockets) / sec),
      maxFramesPerSec: Math.round((s.maxFrames / sec) * 10) / 10,
    });
    const hist = (e: string, failures: Failures) => {
      const h = merge([e]);
      const l = latency(h);
      h.destroy();
      return { ...l, failures };
    };
    const join = merge([moved.joinMs]);
    const result: TopologyResult = {
      servers: servers.length,
      backend,
      pinned,
      rooms: made.ids.length,
      roomsPerSec: Math.round(made.ids.length / roomSec),
      lobbySockets: { seed: seed.opened + probeSeed.opened, batched: batched.opened + probeBatched.opened },
      movers: movers.opened,
      listRoomsSupported: supported,
      switchesPerSec: Math.round(moved.switches / moved.seconds),
      switchesAsked: p.rate,
      switchFailures: moved.failed,
      joinRoom: latency(join),
      loadRooms: { bytes: quiet.bytes, ms: Math.round(quiet.ms * 10) / 10, underLoadMs: Math.round(loaded.ms * 10) / 10, firstSocketsMaxBytes: seed.loadRoomsBytesMax, ...('error' in quiet ? { error: quiet.error } : 'error' in loaded ? { error: loaded.error } : {}) },
      seedPerSocket: perSocket(counts.seed),
      batchedPerSocket: perSocket(counts.batched),
      ...(listed ? { listRooms: hist(listed.ms, listed.failed) } : {}),
      ...(searched ? { listRoomsSearch: hist(searched.ms, searched.failed) } : {}),
      ...(quick ? { quickJoin: { ...hist(quick.ms, quick.failed), callsPerSec: Math.round(quick.calls / quick.seconds) } } : {}),
      serverCpu: usage.cpu,
      serverRssMiB: usage.rssMiB,
      clientCpu: { listeners: clientUsage[0]!.cpu, movers: clientUsage[1]!.cpu, quickJoin: clientUsage[2]!.cpu, probe: clientUsage[3]!.cpu },
      serverLag: serverLags,
      clientLag: { listeners: clientLags[0]!, movers: clientLags[1]!, quickJoin: clientLags[2]!, probe: clientLags[3]! },
      ...(redisCpu !== undefined ? { redisCpu } : {}),
      ...(redisUrls.length > 1 ? { redisCpuPerShard: perShard } : {}),
    };
    join.destroy();
    const r = result;
    log(`  switches: ${r.switchesPerSec}/s of ${p.rate}/s asked (joinRoom p50 ${r.joinRoom.p50} ms, p99 ${r.joinRoom.p99} ms; failures ${JSON.stringify(moved.failed.byKind)}${moved.skipped ? `, ${moved.skipped} not issued: every mover waiting` : ''})`);
    log(`  loadRooms (new seed socket): ${r.loadRooms.bytes} bytes, ${r.loadRooms.ms} ms after connect; ${r.loadRooms.underLoadMs} ms during the window${r.loadRooms.error ? ` (${r.loadRooms.error})` : ''}`);
    log(`  seed lobby socket: ${r.seedPerSocket.framesPerSec} frames/s (max ${r.seedPerSocket.maxFramesPerSec}), ${r.seedPerSocket.bytesPerSec} bytes/s`);
    log(`  batched lobby socket: ${r.batchedPerSocket.framesPerSec} frames/s (max ${r.batchedPerSocket.maxFramesPerSec}), ${r.batchedPerSocket.bytesPerSec} bytes/s`);
    if (r.listRooms) log(`  listRooms page of 20: p50 ${r.listRooms.p50} ms, p99 ${r.listRooms.p99} ms (${r.listRooms.count} calls; failures ${JSON.stringify(r.listRooms.failures.byKind)})`);
    if (r.listRoomsSearch) log(`  listRooms q='개표': p50 ${r.listRoomsSearch.p50} ms, p99 ${r.listRoomsSearch.p99} ms (${r.listRoomsSearch.count} calls)`);
    if (r.quickJoin) log(`  quickJoin: p50 ${r.quickJoin.p50} ms, p99 ${r.quickJoin.p99} ms (${r.quickJoin.count} calls at ${r.quickJoin.callsPerSec}/s; failures ${JSON.stringify(r.quickJoin.failures.byKind)})`);
    log(`  servers: ${r.serverCpu}% CPU (sum), ${r.serverRssMiB} MiB RSS (sum)${r.redisCpu !== undefined ? `; redis-server ${r.redisCpu}% CPU${r.redisCpuPerShard ? ` (per master: ${r.redisCpuPerShard.join(', ')})` : ''}` : ''}; client processes: ${JSON.stringify(r.clientCpu)} % CPU`);
    log(`  event-loop delay p99/max ms: servers ${r.serverLag.map((l) => `${l.p99Ms}/${l.maxMs}`).join(', ')}; clients ${Object.entries(r.clientLag).map(([k, l]) => `${k} ${l.p99Ms}/${l.maxMs}`).join(', ')}`);
    return result;
  } finally {
    await Promise.allSettled(workers.map((w) => w.call('closeAll', {}, 20_000)));
    await Promise.all(workers.map((w) => w.close()));
  }
}


const SERVER_ENV = { ADMIN_TOKEN: TOKEN, ROOMS_PER_PROGRAM_MAX: '20000', SHUTDOWN_SPREAD_MS: '0', SHUTDOWN_TIMEOUT_MS: '5000' };

export async function lobbyScenario(bench: BenchEnv, log: (s: string) => void): Promise<LobbyResult> {
  const only = process.env.BENCH_LOBBY_TOPOLOGIES?.split(',') ?? ['one', 'three', 'rcluster'];
  const out: LobbyResult = {};
  if (only.includes('one')) {
    log('  one server, in memory:');
    const server = await startOnair(bench, 'onair-lobby', SERVER_ENV, bench.serverExecArgv);
    try {
      out.oneServer = await topology(bench, [server], 'memory', log);
    } finally {
      await server.stop();
    }
  }
  if (only.includes('three')) {
    log('  three servers on a private redis-server:');
    const redis = await startRedis();
    const untrack = track(() => redis.remove());
    const env = { ...SERVER_ENV, REDIS_URL: redis.url, REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}:` };
    const servers: ServerProcess[] = [];
    try {
      servers.push(await startOnair(bench, 'onair-lobby-r0', env, bench.serverExecArgv));
      servers.push(...(await Promise.all([1, 2].map((i) => startOnair(bench, `onair-lobby-r${i}`, env, bench.serverExecArgv)))));
      out.threeServersOnRedis = await topology(bench, servers, 'redis', log, [redis.url]);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      untrack();
      await redis.remove();
    }
  }
  if (only.includes('rcluster')) {
    const rc = await startBenchRedisCluster();
    const masters = (await rc.shards()).map((x) => x.master.url);
    log(`  three servers on a private Redis Cluster (3 masters, a replica each; one programme, so one shard holds it):`);
    const env = { ...SERVER_ENV, REDIS_CLUSTER_NODES: rc.urls.join(','), REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}:` };
    const servers: ServerProcess[] = [];
    try {
      servers.push(await startOnair(bench, 'onair-lobby-c0', env, bench.serverExecArgv));
      servers.push(...(await Promise.all([1, 2].map((i) => startOnair(bench, `onair-lobby-c${i}`, env, bench.serverExecArgv)))));
      out.threeServersOnRedisCluster = await topology(bench, servers, 'rediscluster', log, masters);
    } finally {
      await Promise.all(servers.map((x) => x.stop()));
      rc.untrack();
      await rc.remove();
    }
  }
  return out;
}
