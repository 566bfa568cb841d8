/**
 * Connection capacity of one server: RSS per idle connection at 10,000 connections (WSS, and
 * plain WS with TLS=off as behind a terminating proxy), and handshakes per second with TLS 1.3
 * and JWT verification (connect + disconnect cycles), each lever alone: TLS session resumption
 * (tickets) for returning clients, the JWT verification cache for a token seen before, and the
 * certificate's key type.
 *
 * The server has core 0 and the client processes core 1 (`taskset`, BENCH_PIN=0 to turn off).
 * Handshakes/s is what the clients got; what one server core can do is that rate divided by
 * the server's share of its core (`perServerCoreSecond`), which is the figure to read when the
 * clients' core is full (then the clients are the bottleneck, not the server).
 *
 *   BENCH_CONNECTIONS=idle,idlePlain,handshakes   which parts (default: all three)
 *   BENCH_HS_VARIANTS=full,resume,jwtCache,both,rsa,noCache,raw   which handshake variants
 *   BENCH_HS_CLIENT=wire|socket.io   the load generator (default wire: bare ws sending what
 *                                    socket.io-client sends, bench/lib/wire-client.ts)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { BenchEnv } from '../lib/env.js';
import { CLIENT_CPU, pin, SERVER_CPU } from '../lib/pin.js';
import { startWorkers } from '../lib/rpc.js';
import { startOnair, startRawWs } from '../lib/servers.js';
import { loadClient } from '../lib/wire-client.js';
import { latency, merge, rssBytes, sample, sleep, type Latency } from '../lib/stats.js';

interface Idle {
    tls: boolean;
    pinned: boolean;
    connections: number;
    failed: number;
    firstError: string;
    openSeconds: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    kibPerConnection: number;
}

interface Handshakes {
    variant: string;
    /** The load generator: socket.io-client, bare ws with its frames (`wire`), or `raw`. */
    client: string;
    pinned: boolean;
    cycles: number;
    failed: number;
    firstError: string;
    concurrency: number;
    perSecond: number;
    connectMs: Latency;
    serverCpu: number;
    /** Handshakes per second of one full server core: perSecond / (serverCpu / 100). */
    perServerCoreSecond: number;
    /** Percent of one core, summed over the client processes (all on one core when pinned). */
    clientCpu: number;
    /** Connections whose TLS session was resumed (a ticket). */
    resumed: number;
}

export interface ConnectionsResult {
  idle?: Idle;
  idlePlain?: Idle;
  handshakes?: Handshakes[];
}

const JWT_SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;


async function idle(bench: BenchEnv, log: (s: string) => void, tls: boolean): Promise<Idle> {
  const total = bench.quick ? 2000 : 10_000;
  const nWorkers = 4;
  const server = await startOnair(bench, tls ? 'onair-idle' : 'onair-idle-plain', tls ? {} : { TLS: 'off' }, bench.serverExecArgv);
  const workers = await startWorkers('idle-clients.ts', 'idle-', nWorkers);
  const pinned = pin(server.pid, SERVER_CPU) && workers.every((w) => pin(w.pid, CLIENT_CPU));
  try {
    const open = (count: number, prefix: string) =>
      Promise.all(
        workers.map((w, i) =>
          w.call<{ opened: number; failed: number; firstError: string; ms: number }>(
            'open',
            { url: server.url, ca: bench.cert, program: 'bench-idle', count: count / nWorkers, prefix: `${prefix}${i}`, concurrency: 25 },
            400_000,
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
    const r: Idle = {
      tls,
      pinned,
      connections,
      failed,
      firstError: opened.find((o) => o.firstError)?.firstError ?? '',
      openSeconds: Math.round(openSeconds * 10) / 10,
      rssBeforeMiB: mib(before),
      rssAfterMiB: mib(after),
      kibPerConnection: Math.round(((after - before) / 1024 / Math.max(1, connections)) * 10) / 10,
    };
    log(`  ${connections} idle ${tls ? 'WSS' : 'WS (TLS=off)'} connections (${failed} failed) in ${r.openSeconds} s${pinned ? ', pinned' : ''}: RSS ${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB = ${r.kibPerConnection} KiB each`);
    return r;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}

/** An RSA-2048 self-signed certificate for localhost, to compare with the default ECDSA P-256. */
async function rsaCert(bench: BenchEnv): Promise<{ certPath: string; keyPath: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const certPath = join(bench.tmpDir, 'rsa-cert.pem');
  const keyPath = join(bench.tmpDir, 'rsa-key.pem');
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { certPath, keyPath, cert: pems.cert };
}

interface Variant {
  /** Returning clients resume their TLS session. */
  resume: boolean;
  /** Returning clients present the token they presented before (the server may have it cached). */
  again: boolean;
  env: Record<string, string>;
  rsa?: boolean;
  /** Against the raw `ws` baseline (TLS + upgrade only): the floor under onair's handshake. */
  raw?: boolean;
  what: string;
}

const VARIANTS: Record<string, Variant> = {
  full: { resume: false, again: false, env: {}, what: 'new clients: full TLS 1.3 handshake (ECDSA P-256), a token never seen' },
  noCache: { resume: false, again: true, env: { JWT_CACHE_SIZE: '0' }, what: 'returning clients (same token), JWT cache off, full TLS handshake' },
  jwtCache: { resume: false, again: true, env: {}, what: 'returning clients (same token): the JWT cache alone, full TLS handshake' },
  resume: { resume: true, again: false, env: {}, what: 'TLS resumption (ticket) alone, a token never seen' },
  both: { resume: true, again: true, env: {}, what: 'returning clients: ticket + cached token' },
  rsa: { resume: false, again: false, env: {}, rsa: true, what: 'new clients, an RSA-2048 certificate instead of ECDSA P-256' },
  raw: { resume: false, again: false, env: {}, raw: true, what: 'the raw ws baseline: full TLS 1.3 handshake + websocket upgrade, nothing else' },
};

async function handshakes(bench: BenchEnv, log: (s: string) => void, name: string): Promise<Handshakes> {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown handshake variant ${name}`);
  const cycles = bench.quick ? 1000 : 6000;
  const nWorkers = 4;
  const concurrency = 16; // per worker
  const rsa = v.rsa ? await rsaCert(bench) : undefined;
  const ca = rsa ? rsa.cert : bench.cert;
  const env = { AUTH_MODE: 'jwt', JWT_SECRET, ...v.env, ...(rsa ? { TLS_CERT: rsa.certPath, TLS_KEY: rsa.keyPath } : {}) };
  const server = v.raw ? await startRawWs(bench, bench.serverExecArgv) : await startOnair(bench, `onair-jwt-${name}`, env, bench.serverExecArgv);
  const client = v.raw ? 'raw' : loadClient('BENCH_HS_CLIENT');
  const workers = await startWorkers('idle-clients.ts', 'hs-', nWorkers);
  const pinned = pin(server.pid, SERVER_CPU) && workers.every((w) => pin(w.pid, CLIENT_CPU));
  type Out = { done: number; failed: number; firstError: string; ms: number; hist: string; resumed: number };
  try {
    const run = (count: number, prefix: string, again: boolean, resume: boolean) =>
      Promise.all(
        workers.map((w, i) =>
          w.call<Out>('cycles', { url: server.url, ca, program: 'bench-hs', count: count / nWorkers, prefix: `${prefix}${i}`, concurrency, secret: JWT_SECRET, again, resume, client }, 180_000),
        ),
      );
    // The first pass: code warm, and for returning clients the visit they return from (their
    // token seen by the server, their TLS session cached).
    await run(v.again ? cycles : 400, 'warm', false, v.resume);
    const pids = workers.map((w) => w.pid);
    await sample([server.pid]);
    await sample(pids);
    const out = await run(cycles, 'hs', v.again, v.resume);
    const cpu = await sample([server.pid]);
    const clientCpu = await sample(pids);
    const hist = merge(out.map((o) => o.hist));
    const done = out.reduce((s, o) => s + o.done, 0);
    const seconds = Math.max(...out.map((o) => o.ms)) / 1000;
    const perSecond = Math.round(done / seconds);
    const r: Handshakes = {
      variant: name,
      client,
      pinned,
      cycles: done,
      failed: out.reduce((s, o) => s + o.failed, 0),
      firstError: out.find((o) => o.firstError)?.firstError ?? '',
      concurrency: concurrency * nWorkers,
      perSecond,
      connectMs: latency(hist),
      serverCpu: cpu.cpu,
      perServerCoreSecond: Math.round(perSecond / Math.max(0.01, cpu.cpu / 100)),
      clientCpu: clientCpu.cpu,
      resumed: out.reduce((s, o) => s + o.resumed, 0),
    };
    hist.destroy();
    log(`  ${name} (${v.what}; ${client} clients): ${done} cycles (${r.failed} failed, ${r.resumed} resumed), ${r.concurrency} at a time: ${perSecond}/s, connect p50 ${r.connectMs.p50} p99 ${r.connectMs.p99} ms; server ${r.serverCpu}% => ${r.perServerCoreSecond}/s per server core; clients ${r.clientCpu}%`);
    return r;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}

export async function connections(bench: BenchEnv, log: (s: string) => void): Promise<ConnectionsResult> {
  const parts = process.env.BENCH_CONNECTIONS?.split(',') ?? ['idle', 'idlePlain', 'handshakes'];
  const out: ConnectionsResult = {};
  if (parts.includes('idle')) out.idle = await idle(bench, log, true);
  if (parts.includes('idlePlain')) out.idlePlain = await idle(bench, log, false);
  if (parts.includes('handshakes')) {
    out.handshakes = [];
    for (const name of process.env.BENCH_HS_VARIANTS?.split(',') ?? ['full', 'resume', 'noCache', 'jwtCache', 'both', 'rsa']) {
      out.handshakes.push(await handshakes(bench, log, name));
    }
  }
  return out;
}
