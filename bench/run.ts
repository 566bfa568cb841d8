/**
 * `npm run bench`: every scenario one after another against real server processes over TLS on
 * loopback, load from separate client processes, each scenario bounded in time; then the
 * results (JSON, Markdown, SVG) in bench/results/.
 *
 *   npm run bench                      the full run (about 10 minutes)
 *   npm run bench -- --quick           short steps, smaller storms: for trying the harness
 *   npm run bench -- --only fanout     one scenario (repeatable, or comma-separated)
 *   npm run bench -- --no-write        print, write no result files
 */
import { stopAll } from './lib/cleanup.js';
import { createBenchEnv } from './lib/env.js';
import { writeResults, type Results } from './lib/report.js';
import { SCENARIOS, type ScenarioName } from './scenarios/index.js';

function parseArgs(argv: string[]): { quick: boolean; only: ScenarioName[]; write: boolean } {
  const only: ScenarioName[] = [];
  let quick = false;
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--no-write') write = false;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(7) : argv[++i];
      for (const name of (v ?? '').split(',').filter(Boolean)) {
        if (!(name in SCENARIOS)) throw new Error(`unknown scenario "${name}"; one of ${Object.keys(SCENARIOS).join(', ')}`);
        only.push(name as ScenarioName);
      }
    } else throw new Error(`unknown option ${a}`);
  }
  return { quick, only, write };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const names = args.only.length ? args.only : (Object.keys(SCENARIOS) as ScenarioName[]);
  // e.g. BENCH_SERVER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile every onair server.
  const bench = await createBenchEnv(args.quick, process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? []);
  const started = Date.now();
  const results: Results = { startedAt: new Date(started).toISOString(), quick: args.quick, partial: args.only.length > 0, scenarios: {}, errors: {} };
  const log = (s: string) => process.stdout.write(`${s}\n`);
  try {
    for (const name of names) {
      const s = SCENARIOS[name];
      log(`\n== ${name}: ${s.title}`);
      const t0 = Date.now();
      // A scenario that fails is reported as failed; the run goes on with the next one.
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`scenario exceeded ${s.budgetMs / 1000} s`)), s.budgetMs);
        });
        (results.scenarios as Record<string, unknown>)[name] = await Promise.race([s.run(bench, log), timeout]);
      } catch (err) {
        results.errors[name] = err instanceof Error ? err.message : String(err);
        log(`  FAILED: ${results.errors[name]}`);
      } finally {
        clearTimeout(timer);
        const left = await stopAll();
        if (left) log(`  stopped ${left} process(es) the scenario left running`);
      }
      log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    bench.cleanup();
  }
  results.durationSec = Math.round((Date.now() - started) / 1000);
  if (args.write) {
    const files = await writeResults(results);
    log(`\nresults: ${files.join(', ')}`);
  }
  log(`done in ${results.durationSec} s`);
  // Handles left by a failed scenario must not keep the run alive.
  process.exit(Object.keys(results.errors).length ? 1 : 0);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
