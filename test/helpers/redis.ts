/**
 * A private redis-server for tests: started from /usr/bin/redis-server on a free port, with no
 * persistence, and stopped afterwards. The machine's shared Redis on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort } from './net.js';

export { freePort };

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';


export interface PrivateRedis {
  port: number;
  url: string;
  /** Stop the server (SIGKILL when `hard`), as a failure test would. */
  stop(hard?: boolean): Promise<void>;
  /** Freeze the process (SIGSTOP) with its connections open, as a hung or partitioned Redis is;
   * `resume` (SIGCONT) lets it answer again. */
  pause(): void;
  resume(): void;
  /** Stop it for good and delete its files. */
  remove(): Promise<void>;
  /** Start it again on the same port: empty, or with its data when started `persistent`. */
  restart(): Promise<void>;
}

async function waitReady(url: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      await c.close();
      return;
    } catch (err) {
      await c.destroy?.();
      if (Date.now() > deadline) throw new Error(`redis-server at ${url} did not start: ${String(err)}`);
      // Polling the port is the only readiness signal redis-server gives without a log parser.
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export async function startRedis(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  // Persistence as production runs it: an append-only file, fsync'd on every write here so a
  // SIGKILL loses nothing the test wrote.
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'onair-redis-')) : null;
  const storage = dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no'];
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...storage, '--protected-mode', 'yes'], {
      stdio: 'ignore',
    });
    await waitReady(url);
  };
  const stop = async (hard = false) => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      // A frozen (paused) process would hold a SIGTERM until woken.
      if (!hard) c.kill('SIGCONT');
      c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  };
  await launch();
  return {
    port,
    url,
    stop: async (hard = false) => {
      await stop(hard);
    },
    restart: launch,
    pause: () => void (child as ChildProcess | null)?.kill('SIGSTOP'),
    resume: () => void (child as ChildProcess | null)?.kill('SIGCONT'),
    remove: async () => {
      await stop(true);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
