/**
 * Before/after measurements of what the field uses to make socket.io faster, at one fixed load
 * (half of the fan-out saturation point on this machine), so that only the server differs:
 * - ws's native helpers `bufferutil` and `utf-8-validate` (optional dependencies) against ws's
 *   JavaScript fallbacks (`WS_NO_BUFFER_UTIL`, `WS_NO_UTF_8_VALIDATE`);
 * - a CPU profile of the server (`--cpu-prof`) under that load, summarised by self time.
 * The client processes take most of the two cores at high rates, so deliveries/s cannot show a
 * server-side gain; server CPU at a fixed rate, and latency, can.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchEnv } from '../lib/env.js';
import type { Step } from '../lib/ladder.js';
import { startOnair } from '../lib/servers.js';
import { fanoutAgainst, type LadderPlan } from './fanout.js';

const FIXED_RATE = 1280;

export interface VariantRun {
  variant: string;
  round: number;
  step: Step;
}

export interface ProfileEntry {
  fn: string;
  where: string;
  selfPct: number;
}

export interface ExperimentsResult {
  rate: number;
  runs: VariantRun[];
  /** Mean over rounds, per variant. */
  summary: { variant: string; serverCpu: number; p50: number; p99: number; deliveriesPerSec: number }[];
  profile: ProfileEntry[];
}

const VARIANTS: { name: string; env: Record<string, string> }[] = [
  { name: 'ws JS fallbacks', env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' } },
  { name: 'bufferutil + utf-8-validate', env: {} },
];

function fixedPlan(bench: BenchEnv): LadderPlan {
  return bench.quick
    ? { rates: [FIXED_RATE / 4], warmupMs: 500, measureMs: 2000, drainMs: 800, budgetMs: 20_000 }
    : { rates: [FIXED_RATE], warmupMs: 1000, measureMs: 6000, drainMs: 1500, budgetMs: 30_000 };
}

async function once(bench: BenchEnv, name: string, env: Record<string, string>, execArgv: string[], log: (s: string) => void): Promise<Step> {
  const server = await startOnair(bench, `onair-exp-${name.replace(/\W+/g, '-')}`, env, execArgv);
  try {
    const r = await fanoutAgainst(bench, 'exp', 'onair', [server.url], [server.pid], fixedPlan(bench), () => {});
    const step = r.steps[0]!;
    log(`  ${name}: server CPU ${step.serverCpu.toFixed(0)}%, p50 ${step.latencyMs.p50} p99 ${step.latencyMs.p99} ms, ${Math.round(step.deliveriesPerSec)} deliveries/s`);
    return step;
  } finally {
    await server.stop();
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
}

/** Self time per function, top entries, from a V8 .cpuprofile. */
export function summariseProfile(file: string, top = 12): ProfileEntry[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = prof.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0) || 1;
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  for (const node of prof.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?\/dist\//, 'dist/')}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const e = byFn.get(key) ?? { fn, where, hits: 0 };
    e.hits += node.hitCount ?? 0;
    byFn.set(key, e);
  }
  return [...byFn.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfPct: Math.round((e.hits / total) * 1000) / 10 }));
}

export async function experiments(bench: BenchEnv, log: (s: string) => void): Promise<ExperimentsResult> {
  const rounds = bench.quick ? 1 : 2;
  const runs: VariantRun[] = [];
  // Alternate the variants so that drift of the machine over the run hits both alike.
  for (let round = 1; round <= rounds; round++) {
    for (const v of VARIANTS) runs.push({ variant: v.name, round, step: await once(bench, v.name, v.env, bench.serverExecArgv, log) });
  }
  const summary = VARIANTS.map((v) => {
    const mine = runs.filter((r) => r.variant === v.name).map((r) => r.step);
    const mean = (f: (s: Step) => number) => Math.round((mine.reduce((n, s) => n + f(s), 0) / mine.length) * 10) / 10;
    return {
      variant: v.name,
      serverCpu: mean((s) => s.serverCpu),
      p50: mean((s) => s.latencyMs.p50),
      p99: mean((s) => s.latencyMs.p99),
      deliveriesPerSec: Math.round(mean((s) => s.deliveriesPerSec)),
    };
  });

  const dir = mkdtempSync(join(tmpdir(), 'onair-prof-'));
  let profile: ProfileEntry[] = [];
  try {
    await once(bench, 'profiled (--cpu-prof)', {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`], log);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) profile = summariseProfile(join(dir, file));
    for (const e of profile.slice(0, 6)) log(`    ${e.selfPct}% ${e.fn} ${e.where}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rate: fixedPlan(bench).rates[0]!, runs, summary, profile };
}
