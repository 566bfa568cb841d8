/**
 * The systems under test, each in its own process: onair (`node dist/main.js`, the build users
 * run), the raw `ws` baseline, and a private redis-server for the cluster. Every start waits for
 * readiness with a deadline; every stop ends only the process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/net.js';
import { startRedis, type PrivateRedis } from '../../test/helpers/redis.js';
import { startRedisCluster, type PrivateRedisCluster } from '../../test/helpers/redis-cluster.js';
import { track } from './cleanup.js';
import type { BenchEnv } from './env.js';

export { startRedis, type PrivateRedis };

/** A private Redis Cluster (3 masters, a replica each), removed when the run ends or fails. */
export async function startBenchRedisCluster(): Promise<PrivateRedisCluster & { untrack: () => void }> {
  const rc = await startRedisCluster();
  const untrack = track(() => rc.remove());
  return { ...rc, untrack };
}

/** Seconds of CPU a redis-server has used (user + system), from INFO. */
export async function redisCpuSeconds(url: string): Promise<number> {
  const { createClient } = await import('redis');
  const c = createClient({ url });
  await c.connect();
  try {
    const info = await c.info('cpu');
    const n = (k: string) => Number(new RegExp(`${k}:(\\S+)`).exec(info)?.[1] ?? 0);
    return n('used_cpu_user') + n('used_cpu_sys');
  } finally {
    await c.close();
  }
}

/** CPU of each of `urls` over what `run` takes, in percent of one core. */
export async function redisCpuOver<T>(urls: string[], run: () => Promise<T>): Promise<{ result: T; cpu: number[] }> {
  const before = await Promise.all(urls.map(redisCpuSeconds));
  const t0 = performance.now();
  const result = await run();
  const sec = (performance.now() - t0) / 1000;
  const after = await Promise.all(urls.map(redisCpuSeconds));
  return { result, cpu: after.map((a, i) => Math.round(((a - before[i]!) / sec) * 100)) };
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the onair build under test lives: this checkout, or another one's for a "before" run. */
const ONAIR_ROOT = process.env.BENCH_ONAIR_ROOT ?? ROOT;
const START_TIMEOUT_MS = 20_000;

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** Limits high enough that rate limiting never shapes a measurement. */
export const UNLIMITED = {
  EVENT_RATE: '1000000',
  EVENT_BURST: '1000000',
  HANDSHAKE_RATE: '1000000',
  HANDSHAKE_BURST: '1000000',
};

function healthy(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', ca, servername: 'localhost', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The same over plain HTTP, for a server run with `TLS=off`. */
function healthyPlain(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Any TLS listener counts as ready for the baseline, which has no health route. */
function listening(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', ca, servername: 'localhost', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function launch(
  name: string,
  args: string[],
  env: Record<string, string>,
  bench: BenchEnv,
  ready: (port: number) => Promise<boolean>,
  port: number,
  execArgv: string[] = [],
  cwd = ROOT,
  scheme: 'https' | 'http' = 'https',
): Promise<ServerProcess> {
  // Server output goes to a file in the run's temp dir: kept for post-mortems, never parsed.
  const logFd = openSync(join(bench.tmpDir, `${name}.log`), 'a');
  const child: ChildProcess = spawn(process.execPath, [...execArgv, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`${name} exited during start; see ${join(bench.tmpDir, `${name}.log`)}`);
    if (await ready(port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready in ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const server: ServerProcess = {
    name,
    pid: child.pid ?? -1,
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    async stop() {
      untrack();
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exit;
      clearTimeout(t);
    },
  };
  const untrack = track(() => server.stop());
  return server;
}

/** One onair server: the built `dist/main.js`, TLS with the run's certificate (or plain HTTP
 * with `TLS: 'off'` in `env`, as behind a terminating proxy), rate limits off. */
export async function startOnair(
  bench: BenchEnv,
  name: string,
  env: Record<string, string> = {},
  execArgv: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const fullEnv: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: bench.dataDir,
    ...UNLIMITED,
    // e.g. BENCH_SERVER_ENV="MALLOC_ARENA_MAX=2" for every onair server of the run.
    ...Object.fromEntries((process.env.BENCH_SERVER_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    ...env,
  };
  const plain = fullEnv.TLS === 'off';
  // A server given its own certificate (TLS_CERT) is checked against that one.
  const ca = fullEnv.TLS_CERT ? readFileSync(fullEnv.TLS_CERT, 'utf8') : bench.cert;
  const ready = plain ? (p: number) => healthyPlain(p) : (p: number) => healthy(p, ca);
  return launch(name, ['dist/main.js'], fullEnv, bench, ready, port, execArgv, ONAIR_ROOT, plain ? 'http' : 'https');
}

/** The minimal raw `ws` broadcaster (bench/baseline/raw-ws-server.ts). */
export async function startRawWs(bench: BenchEnv, execArgv: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  return launch(
    'raw-ws',
    ['--import', 'tsx', 'bench/baseline/raw-ws-server.ts'],
    { PORT: String(port), TLS_CERT: bench.certPath, TLS_KEY: bench.keyPath },
    bench,
    (p) => listening(p, bench.cert),
    port,
    execArgv,
  );
}
