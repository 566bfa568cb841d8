/**
 * Load clients run in their own processes (forked with an IPC channel) so that the measuring
 * process and the server never share an event loop with them. This is the tiny request/reply
 * protocol between the orchestrator and a worker: every call has a timeout, so a stuck worker
 * fails the scenario instead of hanging the run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './cleanup.js';

interface Request {
  id: number;
  cmd: string;
  args: unknown;
}
interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface Worker {
  readonly name: string;
  readonly pid: number;
  call<T = unknown>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Ask the worker to exit; killed if it has not after 3 s. */
  close(): Promise<void>;
}

const WORKER_DIR = new URL('../workers/', import.meta.url);

/** Fork `bench/workers/<file>` under tsx. */
export async function startWorker(file: string, name: string): Promise<Worker> {
  const child: ChildProcess = fork(fileURLToPath(new URL(file, WORKER_DIR)), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_WORKER: name },
  });
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`worker ${name} exited (${signal ?? code})`));
      }
      pending.clear();
      resolve();
    }),
  );
  child.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`worker ${name}: ${m.error}`));
  });
  const worker: Worker = {
    name,
    pid: child.pid ?? -1,
    call<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`worker ${name} has exited`));
      const id = ++next;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker ${name}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        child.send({ id, cmd, args } satisfies Request);
      });
    },
    async close() {
      untrack();
      if (exited) return;
      child.send({ id: 0, cmd: 'exit', args: {} } satisfies Request);
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(t);
    },
  };
  const untrack = track(() => worker.close());
  await worker.call('ping', {}, 20_000); // tsx start-up
  return worker;
}

export async function startWorkers(file: string, prefix: string, n: number): Promise<Worker[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startWorker(file, `${prefix}${i}`)));
}

export type Handlers = Record<string, (args: never) => unknown>;

/** Worker side: answer the orchestrator's calls with `handlers`; `exit` ends the process. */
export function serve(handlers: Handlers): void {
  process.on('message', (m: Request) => {
    if (m.cmd === 'exit') {
      // Give the close handshakes a moment, then leave whatever is still open.
      setTimeout(() => process.exit(0), 200).unref();
      void Promise.resolve(handlers.shutdown?.({} as never)).finally(() => process.exit(0));
      return;
    }
    const reply = (r: Omit<Reply, 'id'>) => process.send?.({ id: m.id, ...r } satisfies Reply);
    if (m.cmd === 'ping') return void reply({ ok: true, result: process.pid });
    const h = handlers[m.cmd];
    if (!h) return void reply({ ok: false, error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => h(m.args as never))
      .then(
        (result) => reply({ ok: true, result }),
        (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
  });
  // The orchestrator going away must not leave load clients behind.
  process.on('disconnect', () => process.exit(0));
}
