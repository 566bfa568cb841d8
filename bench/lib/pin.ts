/**
 * CPU pinning for the 2-core bench machine (`BENCH_PIN=0` to turn off): one server on core 0
 * and its load generators on core 1, so a client's backlog never takes the server's CPU and
 * the server's figure is the cost of one core. Every thread of the process, present and future,
 * is pinned (`taskset -a`).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const SERVER_CPU = '0';
export const CLIENT_CPU = '1';

export function pin(pid: number, cpus: string): boolean {
  if (process.env.BENCH_PIN === '0' || availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The server on its core and every client process on the other; true only if all were pinned. */
export function pinApart(serverPids: number[], clientPids: number[]): boolean {
  const s = serverPids.map((p) => pin(p, SERVER_CPU));
  const c = clientPids.map((p) => pin(p, CLIENT_CPU));
  return [...s, ...c].every(Boolean);
}
