/**
 * Fan-out in one full room: 120 members over three client processes, every member a sender in
 * turn, the total send rate stepped up until saturation. The same driver runs against onair,
 * the raw `ws` baseline and the three-server cluster, so their numbers compare directly.
 */
import type { BenchEnv } from '../lib/env.js';
import { doubling, runLadder, summarise, type LadderSummary, type Step } from '../lib/ladder.js';
import { startWorkers } from '../lib/rpc.js';
import { startOnair, startRawWs } from '../lib/servers.js';
import { loadClient } from '../lib/wire-client.js';

export const ROOM_SIZE = 120;
const CLIENT_WORKERS = 3;

export interface FanoutResult {
  target: string;
  servers: number;
  roomSize: number;
  steps: Step[];
  summary: LadderSummary;
}

export interface LadderPlan {
  rates: number[];
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  budgetMs: number;
}

export function plan(bench: BenchEnv, maxSteps = 11): LadderPlan {
  return bench.quick
    ? { rates: doubling(10, 5120).slice(0, Math.min(maxSteps, 8)), warmupMs: 500, measureMs: 2000, drainMs: 1000, budgetMs: 40_000 }
    : { rates: doubling(5, 10240).slice(0, maxSteps), warmupMs: 1000, measureMs: 6000, drainMs: 1500, budgetMs: 110_000 };
}

/** Fill one room with `ROOM_SIZE` members spread over the servers at `urls`, then climb the ladder. */
export async function fanoutAgainst(
  bench: BenchEnv,
  target: string,
  mode: 'onair' | 'raw',
  urls: string[],
  serverPids: number[],
  p: LadderPlan,
  log: (s: string) => void,
): Promise<FanoutResult> {
  const workers = await startWorkers('chat-clients.ts', `${target}-`, CLIENT_WORKERS);
  // BENCH_ONAIR_CLIENT=socket.io: the real client, which spends more CPU per delivery on the
  // clients' shared core than the raw baseline's clients do.
  const client = mode === 'raw' ? 'raw' : loadClient('BENCH_ONAIR_CLIENT');
  try {
    const per = ROOM_SIZE / CLIENT_WORKERS;
    // Worker i talks to server i (mod the number of servers): members sit on different servers.
    await Promise.all(
      workers.map((w, i) =>
        w.call('connect', { mode: client, url: urls[i % urls.length], ca: bench.cert, program: 'bench-fanout', count: per, prefix: `${target}${i}` }, 120_000),
      ),
    );
    const roomId = mode === 'onair' ? await workers[0]!.call<string>('createRoom', { title: 'fan-out', max: ROOM_SIZE }) : 'raw';
    await Promise.all(workers.map((w) => w.call('join', { roomId }, 120_000)));
    log(`  ${ROOM_SIZE} members in one room on ${urls.length} server(s), ${client} clients`);
    const steps = await runLadder({ workers, serverPids, recipients: ROOM_SIZE - 1, log, ...p });
    return { target, servers: urls.length, roomSize: ROOM_SIZE, steps, summary: summarise(steps) };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

export async function fanout(bench: BenchEnv, log: (s: string) => void): Promise<FanoutResult> {
  const server = await startOnair(bench, 'onair-fanout', {}, bench.serverExecArgv);
  try {
    return await fanoutAgainst(bench, 'onair', 'onair', [server.url], [server.pid], plan(bench), log);
  } finally {
    await server.stop();
  }
}

export async function baseline(bench: BenchEnv, log: (s: string) => void): Promise<FanoutResult> {
  const server = await startRawWs(bench);
  try {
    return await fanoutAgainst(bench, 'raw-ws', 'raw', [server.url], [server.pid], plan(bench), log);
  } finally {
    await server.stop();
  }
}
