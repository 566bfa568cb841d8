/**
 * What the batching rule saves: `count` and `aggroPoint` traffic in two storms, with
 * BATCH_INTERVAL_MS=500 against BATCH_INTERVAL_MS=0 (every change sent).
 *
 * (a) vote storm: a full room (120), one aggro, every other member votes once within ~1 s.
 * (b) join/leave storm: 1,000 joins per second over 50 rooms for 5 s while 2,000 lobby sockets
 *     watch; each joiner stays 0.25-1.25 s, then leaves.
 *
 * Unbatched, storm (b) asks the server for about 2,000 x 2,000 frames a second, more than this
 * machine can send, so the server slows the storm itself down (fewer joins complete). Traffic is
 * therefore also reported per completed join/leave, which is the fair comparison.
 */
import type { BenchEnv } from '../lib/env.js';
import { startWorkers, type Worker } from '../lib/rpc.js';
import { startOnair } from '../lib/servers.js';
import { sleep } from '../lib/stats.js';

interface Counts {
  countMsgs: number;
  countBytes: number;
  pointMsgs: number;
  pointBytes: number;
}
export interface StormRun {
  batchIntervalMs: number;
  operations: number;
  messages: number;
  bytes: number;
  messagesPerOperation: number;
  detail: Record<string, number>;
}
export interface StormResult {
  description: string;
  batched: StormRun;
  unbatched: StormRun;
  /** Unbatched messages / batched messages, over the whole storm. */
  reduction: number;
  /** The same per completed operation (vote, or join + leave). */
  reductionPerOperation: number;
  bytesReduction: number;
}
export interface BatchingResult {
  votes: StormResult;
  joins: StormResult;
}

async function totals(workers: Worker[]): Promise<Counts> {
  const all = await Promise.all(workers.map((w) => w.call<Counts>('counts')));
  return all.reduce((t, c) => ({
    countMsgs: t.countMsgs + c.countMsgs,
    countBytes: t.countBytes + c.countBytes,
    pointMsgs: t.pointMsgs + c.pointMsgs,
    pointBytes: t.pointBytes + c.pointBytes,
  }));
}

/** Wait until no counted frame has arrived for `quietMs` (at most `maxMs`). */
async function settle(workers: Worker[], quietMs: number, maxMs: number): Promise<Counts> {
  const deadline = Date.now() + maxMs;
  let last = await totals(workers);
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    await sleep(250);
    const c = await totals(workers);
    if (c.countMsgs + c.pointMsgs !== last.countMsgs + last.pointMsgs) stableSince = Date.now();
    else if (Date.now() - stableSince >= quietMs) return c;
    last = c;
  }
  return last;
}

const env = (batch: number) => ({ BATCH_INTERVAL_MS: String(batch) });

async function voteStorm(bench: BenchEnv, batch: number, log: (s: string) => void): Promise<StormRun> {
  const server = await startOnair(bench, `onair-votes-${batch}`, env(batch), bench.serverExecArgv);
  const workers = await startWorkers('storm-clients.ts', `votes${batch}-`, 3);
  try {
    await Promise.all(workers.map((w, i) => w.call('connect', { url: server.url, ca: bench.cert, program: 'bench-votes', count: 40, prefix: `v${i}` }, 120_000)));
    const [roomId] = await workers[0]!.call<string[]>('createRooms', { n: 1, max: 120 });
    await Promise.all(workers.map((w) => w.call('joinAll', { roomId }, 120_000)));
    const aggroUID = await workers[0]!.call<string>('postAggro', { roomId });
    await Promise.all(workers.map((w) => w.call('resetCounts')));
    const votes = await Promise.all(workers.map((w, i) => w.call<number>('vote', { aggroUID, spreadMs: 1000, skipFirst: i === 0 }, 60_000)));
    const c = await settle(workers, Math.max(1000, 2 * batch), 15_000);
    const operations = votes.reduce((s, v) => s + v, 0);
    const run = stormRun(batch, operations, c, { members: 120 });
    log(`  votes, BATCH_INTERVAL_MS=${batch}: ${operations} votes -> ${run.messages} aggroPoint+count frames, ${run.bytes} bytes`);
    return run;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
  }
}

/** One storm's traffic, from what every client counted. */
function stormRun(batch: number, operations: number, c: Counts, extra: Record<string, number>): StormRun {
  const messages = c.pointMsgs + c.countMsgs;
  return {
    batchIntervalMs: batch,
    operations,
    messages,
    bytes: c.pointBytes + c.countBytes,
    messagesPerOperation: Math.round((messages / Math.max(1, operations)) * 100) / 100,
    detail: { ...c, ...extra },
  };
}

async function joinStorm(bench: BenchEnv, batch: number, log: (s: string) => void): Promise<StormRun> {
  const watchers = bench.quick ? 500 : 2000;
  const rate = bench.quick ? 250 : 1000;
  const durationMs = bench.quick ? 3000 : 5000;
  const rooms = 50;
  const dwellMs: [number, number] = [250, 1250];
  // Enough idle sockets for rate x (dwell + round trips).
  const poolPerChurner = bench.quick ? 150 : 600;
  const server = await startOnair(bench, `onair-joins-${batch}`, env(batch), bench.serverExecArgv);
  const watchWorkers = await startWorkers('storm-clients.ts', `watch${batch}-`, 2);
  const churnWorkers = await startWorkers('storm-clients.ts', `churn${batch}-`, 2);
  const all = [...watchWorkers, ...churnWorkers];
  try {
    const p = { url: server.url, ca: bench.cert, program: 'bench-joins' };
    await Promise.all([
      ...watchWorkers.map((w, i) => w.call('connect', { ...p, count: watchers / 2, prefix: `w${i}` }, 180_000)),
      // churner 0 also holds the rooms' anchors
      ...churnWorkers.map((w, i) => w.call('connect', { ...p, count: poolPerChurner + (i === 0 ? rooms : 0), prefix: `c${i}` }, 180_000)),
    ]);
    const roomIds = await churnWorkers[0]!.call<string[]>('createRooms', { n: rooms, max: 120 }, 60_000);
    await sleep(Math.max(500, batch * 2)); // let the rooms' first counts go out before counting
    await Promise.all(all.map((w) => w.call('resetCounts')));
    const churn = await Promise.all(
      churnWorkers.map((w) => w.call<{ joins: number; leaves: number; skipped: number; failed: number }>('churn', { roomIds, rate: rate / 2, durationMs, dwellMs }, durationMs + 60_000)),
    );
    const c = await settle(all, Math.max(1000, 2 * batch), 30_000);
    const joins = churn.reduce((s, r) => s + r.joins, 0);
    const leaves = churn.reduce((s, r) => s + r.leaves, 0);
    const operations = joins + leaves;
    const run = stormRun(batch, operations, c, {
      joins,
      leaves,
      skipped: churn.reduce((s, r) => s + r.skipped, 0),
      failed: churn.reduce((s, r) => s + r.failed, 0),
      offeredJoins: Math.round((rate * durationMs) / 1000),
      watchers,
      rooms,
    });
    log(`  joins, BATCH_INTERVAL_MS=${batch}: ${joins} joins + ${leaves} leaves (${run.detail.skipped} skipped) -> ${run.messages} count frames, ${run.bytes} bytes`);
    return run;
  } finally {
    await Promise.all(all.map((w) => w.close()));
    await server.stop();
  }
}

function compare(description: string, batched: StormRun, unbatched: StormRun): StormResult {
  const r = (a: number, b: number) => Math.round((a / Math.max(1, b)) * 10) / 10;
  return {
    description,
    batched,
    unbatched,
    reduction: r(unbatched.messages, batched.messages),
    reductionPerOperation: r(unbatched.messagesPerOperation * 100, batched.messagesPerOperation * 100),
    bytesReduction: r(unbatched.bytes, batched.bytes),
  };
}

export async function batching(bench: BenchEnv, log: (s: string) => void): Promise<BatchingResult> {
  const votes = compare('120 members, one aggro, 119 votes within 1 s', await voteStorm(bench, 500, log), await voteStorm(bench, 0, log));
  log(`  vote storm reduction: ${votes.reduction}x messages, ${votes.bytesReduction}x bytes`);
  const desc = bench.quick ? '250 joins/s over 50 rooms for 3 s, each joiner leaving after 0.25-1.25 s, 500 lobby watchers' : '1,000 joins/s over 50 rooms for 5 s, each joiner leaving after 0.25-1.25 s, 2,000 lobby watchers';
  const joins = compare(desc, await joinStorm(bench, 500, log), await joinStorm(bench, 0, log));
  log(`  join storm reduction: ${joins.reduction}x messages (${joins.reductionPerOperation}x per join/leave), ${joins.bytesReduction}x bytes`);
  return { votes, joins };
}
