/**
 * A private redis-server for tests: started from /usr/bin/redis-server on a free port, with no
 * persistence, and stopped afterwards. The machine's shared Redis on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';

export const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** Stop the server (SIGKILL when `hard`), as a failure test would. */
  stop(hard?: boolean): Promise<void>;
  /** Start it again on the same port (empty: it keeps nothing on disk). */
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

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
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
      c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  };
  await launch();
  return { port, url, stop, restart: launch };
}
