/**
 * The step ladder shared by the fan-out scenarios (onair, raw baseline, cluster): send at a
 * rising total rate until the system saturates, measuring each step in its own window.
 */
import type { Worker } from './rpc.js';
import { latency, merge, sample, sleep, type Latency } from './stats.js';

export interface Step {
  /** Offered send rate, messages per second, all senders together. */
  rate: number;
  sent: number;
  expected: number;
  delivered: number;
  /** delivered / expected. */
  deliveredRatio: number;
  deliveriesPerSec: number;
  latencyMs: Latency;
  serverCpu: number;
  serverRssMiB: number;
  clientCpu: number;
  saturated: boolean;
}

export interface LadderOptions {
  workers: Worker[];
  serverPids: number[];
  rates: number[];
  /** Receivers of one message (room size minus the sender). */
  recipients: number;
  warmupMs: number;
  measureMs: number;
  /** After the window: time for in-flight deliveries to land before counting. */
  drainMs: number;
  /** The ladder stops here even if the system has not saturated. */
  budgetMs: number;
  log: (line: string) => void;
}

/** Saturation: fewer than 90% of expected deliveries arrived in time, or p99 over a second. */
export const SATURATED = { minRatio: 0.9, maxP99Ms: 1000 };

export async function runLadder(o: LadderOptions): Promise<Step[]> {
  const steps: Step[] = [];
  const deadline = Date.now() + o.budgetMs;
  const clientPids = o.workers.map((w) => w.pid);
  for (const [i, rate] of o.rates.entries()) {
    const stepMs = o.warmupMs + o.measureMs + o.drainMs;
    if (Date.now() + stepMs > deadline) {
      o.log(`  time budget reached before ${rate} msg/s`);
      break;
    }
    await Promise.all(o.workers.map((w) => w.call('step', { step: i, rate: rate / o.workers.length, warmupMs: o.warmupMs, measureMs: o.measureMs })));
    await sleep(o.warmupMs);
    await Promise.all([sample(o.serverPids), sample(clientPids)]); // opens the CPU window
    await sleep(o.measureMs);
    const [server, clients] = await Promise.all([sample(o.serverPids), sample(clientPids)]);
    await sleep(o.drainMs);
    const results = await Promise.all(o.workers.map((w) => w.call<{ sent: number; received: number; hist: string }>('collect')));
    const hist = merge(results.map((r) => r.hist));
    const sent = results.reduce((s, r) => s + r.sent, 0);
    const delivered = results.reduce((s, r) => s + r.received, 0);
    const expected = sent * o.recipients;
    const lat = latency(hist);
    hist.destroy();
    const ratio = expected ? delivered / expected : 0;
    const step: Step = {
      rate,
      sent,
      expected,
      delivered,
      deliveredRatio: Math.round(ratio * 1000) / 1000,
      deliveriesPerSec: Math.round(delivered / (o.measureMs / 1000)),
      latencyMs: lat,
      serverCpu: server.cpu,
      serverRssMiB: server.rssMiB,
      clientCpu: clients.cpu,
      saturated: ratio < SATURATED.minRatio || lat.p99 > SATURATED.maxP99Ms,
    };
    steps.push(step);
    o.log(
      `  ${String(rate).padStart(5)} msg/s: ${step.deliveriesPerSec} deliveries/s (${(ratio * 100).toFixed(1)}%), ` +
        `p50 ${lat.p50} p99 ${lat.p99} p99.9 ${lat.p999} ms, server ${server.cpu}% ${server.rssMiB} MiB, clients ${clients.cpu}%` +
        (step.saturated ? '  <- saturated' : ''),
    );
    if (step.saturated) break;
  }
  return steps;
}

export interface LadderSummary {
  /** The highest step that was not saturated. */
  maxSustained: { rate: number; deliveriesPerSec: number } | null;
  /** Offered rate of the first saturated step, if the ladder reached one. */
  saturationRate: number | null;
  peakDeliveriesPerSec: number;
  /** The step at half the highest sustained rate: the "p99 at half of saturation" point. */
  half: { rate: number; p99: number } | null;
}

export function summarise(steps: Step[]): LadderSummary {
  const ok = steps.filter((s) => !s.saturated);
  const top = ok.at(-1);
  const sat = steps.find((s) => s.saturated);
  const half = top ? [...ok].reverse().find((s) => s.rate <= top.rate / 2) : undefined;
  return {
    maxSustained: top ? { rate: top.rate, deliveriesPerSec: top.deliveriesPerSec } : null,
    saturationRate: sat?.rate ?? null,
    peakDeliveriesPerSec: Math.max(0, ...steps.map((s) => s.deliveriesPerSec)),
    half: half ? { rate: half.rate, p99: half.latencyMs.p99 } : null,
  };
}

/** 5, 10, 20, 40, ... doubling up to `max`. */
export function doubling(from: number, max: number): number[] {
  const out: number[] = [];
  for (let r = from; r <= max; r *= 2) out.push(r);
  return out;
}
