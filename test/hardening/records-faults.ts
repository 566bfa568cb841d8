/**
 * Real faults for the records tests: a tmpfs to fill or make read-only, a child process holding
 * SQLite's write lock, a TCP relay in front of PostgreSQL that can be cut, and polling of the
 * server's own observables (`/readyz`, `/metrics`).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { TestServer } from '../helpers/server.js';
import { httpGet, scrape, value } from '../helpers/metrics.js';

export async function readyz(server: TestServer): Promise<{ status: number; body: { checks?: Record<string, boolean> } }> {
  const res = await httpGet(server, '/readyz');
  return { status: res.status, body: JSON.parse(res.text) as { checks?: Record<string, boolean> } };
}

export async function pendingRecords(server: TestServer): Promise<number> {
  return value(await scrape(server), 'onair_records_pending');
}

/** A directory on a tmpfs of its own (we run as root). */
export function tmpfs(sizeMiB = 4): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'onair-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  return {
    dir,
    remove() {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fill the file system of `dir` to the last byte; returns the file that takes the space. */
export function fillUp(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  // The last partial page too.
  try {
    for (;;) writeSync(fd, chunk, 0, 512);
  } catch {
    // full
  } finally {
    closeSync(fd);
  }
  return file;
}

export function free(file: string): void {
  unlinkSync(file);
}

/** Another process holding SQLite's write lock on `file` until `release()`. */
export async function holdWriteLock(file: string): Promise<{ child: ChildProcess; release(): Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(file)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return {
    child,
    async release() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin!.write('release\n');
      await exited;
    },
  };
}

/** A TCP relay to `target`; `cut()` destroys its connections and refuses new ones until `mend()`. */
export async function relay(targetPort: number, targetHost = '127.0.0.1'): Promise<{ port: number; cut(): Promise<void>; mend(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = async () => {
    server = createServer((inbound) => {
      const outbound = connect(targetPort, targetHost);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  };
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  await listen();
  return { port, cut, mend: listen, close: cut };
}
