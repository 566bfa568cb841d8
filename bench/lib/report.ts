/**
 * Results people can read: `bench/results/<date>.json` (everything measured), `<date>.md`
 * (machine, configuration, a table per scenario, the targets) and `<date>-latency.svg`; a full
 * run also points `latest.md` at them. Quick or partial runs get their own file names so they
 * never overwrite a full run's results.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FilterResult } from '../scenarios/filter.js';
import type { Step } from './ladder.js';
import { SATURATED } from './ladder.js';
import { latencyChart, type Series } from './svg.js';
import type { BatchingResult, StormResult } from '../scenarios/batching.js';
import type { ClusterResult } from '../scenarios/cluster.js';
import type { ConnectionsResult } from '../scenarios/connections.js';
import type { ExperimentsResult } from '../scenarios/experiments.js';
import type { FanoutResult } from '../scenarios/fanout.js';
import { UNLIMITED } from './servers.js';

export interface Results {
  startedAt: string;
  quick: boolean;
  partial?: boolean;
  durationSec?: number;
  scenarios: {
    fanout?: FanoutResult;
    baseline?: FanoutResult;
    connections?: ConnectionsResult;
    batching?: BatchingResult;
    cluster?: ClusterResult;
    experiments?: ExperimentsResult;
    filter?: FilterResult;
  };
  errors: Record<string, string>;
  machine?: ReturnType<typeof machine>;
  targets?: Target[];
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
  note?: string;
}

const ROOT = new URL('../../', import.meta.url);

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, ROOT), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    packages: Object.fromEntries(
      ['socket.io', 'engine.io', 'socket.io-client', 'ws', 'bufferutil', 'utf-8-validate', 'redis', '@socket.io/redis-streams-adapter', 'jose', 'hdr-histogram-js', 'pidusage'].map((p) => [p, version(p)]),
    ),
  };
}

function targets(r: Results): Target[] {
  const { fanout, baseline, connections, batching } = r.scenarios;
  const out: Target[] = [];
  const wf = r.scenarios.filter;
  out.push({
    name: 'word filter',
    goal: 'a message against 5,000 entries well under 100 µs',
    measured: wf ? `mean ${wf.meanUs} µs, p99 ${wf.p99Us} µs (${wf.meanChars} characters); ${wf.maxLengthMeanUs} µs at 300` : 'not measured',
    met: wf ? wf.p99Us < 100 : null,
  });
  const onairMax = fanout?.summary.maxSustained?.deliveriesPerSec;
  const rawMax = baseline?.summary.maxSustained?.deliveriesPerSec;
  const ratio = onairMax && rawMax ? onairMax / rawMax : null;
  out.push({
    name: 'fan-out vs raw ws',
    goal: '>= 50% of the raw baseline\'s max sustained deliveries/s',
    measured: ratio === null ? 'not measured' : `${(ratio * 100).toFixed(0)}% (${onairMax} / ${rawMax} deliveries/s)`,
    met: ratio === null ? null : ratio >= 0.5,
    ...(fanout && baseline && (!fanout.summary.saturationRate || !baseline.summary.saturationRate)
      ? { note: 'a ladder ended without saturating; the ratio compares the highest steps reached' }
      : {}),
  });
  const half = fanout?.summary.half;
  out.push({
    name: 'p99 at half of saturation',
    goal: 'p99 < 50 ms at half the highest sustained rate',
    measured: half ? `${half.p99} ms at ${half.rate} msg/s` : 'not measured',
    met: half ? half.p99 < 50 : null,
  });
  const kib = connections?.idle?.kibPerConnection;
  out.push({
    name: 'RSS per idle WSS connection',
    goal: '<= 25 KiB at 10,000 connections',
    measured: kib === undefined ? 'not measured' : `${kib} KiB (${connections!.idle!.connections} connections)`,
    met: kib === undefined ? null : kib <= 25,
  });
  const plainKib = connections?.idlePlain?.kibPerConnection;
  out.push({
    name: 'RSS per idle WS connection, TLS=off',
    goal: '<= 16 KiB at 10,000 connections',
    measured: plainKib === undefined ? 'not measured' : `${plainKib} KiB (${connections!.idlePlain!.connections} connections)`,
    met: plainKib === undefined ? null : plainKib <= 16,
  });
  const full = connections?.handshakes?.find((h) => h.variant === 'full');
  out.push({
    name: 'full handshakes per server core',
    goal: '>= 1,000/s (TLS 1.3 + socket.io + JWT + session + loadRooms)',
    measured: full ? `${full.perServerCoreSecond}/s (${full.perSecond}/s at ${full.serverCpu}% server CPU, clients ${full.clientCpu}%)` : 'not measured',
    met: full ? full.perServerCoreSecond >= 1000 : null,
  });
  if (batching) {
    const v = batching.votes.reduction;
    const j = batching.joins.reductionPerOperation;
    out.push({
      name: 'batching saves count + aggroPoint traffic',
      goal: '>= 10x fewer messages in both storms',
      measured: `vote storm ${v}x; join/leave storm ${j}x per join/leave (${batching.joins.reduction}x in total)`,
      met: v >= 10 && j >= 10,
    });
  } else out.push({ name: 'batching saves count + aggroPoint traffic', goal: '>= 10x fewer messages in both storms', measured: 'not measured', met: null });
  return out;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const yes = (m: boolean | null) => (m === null ? '–' : m ? '**met**' : '**not met**');

function ladderTable(steps: Step[]): string[] {
  const rows = [
    '| offered msg/s | deliveries/s | delivered | p50 ms | p99 ms | p99.9 ms | max ms | server CPU % | server RSS MiB | clients CPU % |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of steps) {
    rows.push(
      `| ${fmt(s.rate)}${s.saturated ? ' (saturated)' : ''} | ${fmt(s.deliveriesPerSec)} | ${(s.deliveredRatio * 100).toFixed(1)}% | ${s.latencyMs.p50} | ${s.latencyMs.p99} | ${s.latencyMs.p999} | ${s.latencyMs.max} | ${s.serverCpu} | ${s.serverRssMiB} | ${s.clientCpu} |`,
    );
  }
  return rows;
}

function fanoutSection(title: string, f: FanoutResult): string[] {
  const s = f.summary;
  return [
    `### ${title}`,
    '',
    `${f.roomSize} members on ${f.servers} server(s). Highest sustained: ${s.maxSustained ? `${fmt(s.maxSustained.deliveriesPerSec)} deliveries/s at ${fmt(s.maxSustained.rate)} msg/s` : 'none'}; ` +
      `saturated at: ${s.saturationRate ? `${fmt(s.saturationRate)} msg/s` : 'not reached'}.`,
    '',
    ...ladderTable(f.steps),
    '',
  ];
}

function stormRows(name: string, s: StormResult): string[] {
  const row = (label: string, r: StormResult['batched']) =>
    `| ${name} | ${label} | ${fmt(r.operations)} | ${fmt(r.messages)} | ${fmt(r.bytes)} | ${r.messagesPerOperation} |`;
  return [row('500 ms', s.batched), row('0 (off)', s.unbatched), `| ${name} | **reduction** | | **${s.reduction}x** | **${s.bytesReduction}x** | **${s.reductionPerOperation}x** |`];
}

function comparison(a: FanoutResult, b: FanoutResult, an: string, bn: string): string[] {
  const rows = [`| offered msg/s | ${an} p50 / p99 ms | ${bn} p50 / p99 ms | ${an} / ${bn} deliveries/s |`, '|---:|---:|---:|---:|'];
  for (const s of a.steps) {
    const o = b.steps.find((x) => x.rate === s.rate);
    if (!o) continue;
    rows.push(`| ${fmt(s.rate)} | ${s.latencyMs.p50} / ${s.latencyMs.p99} | ${o.latencyMs.p50} / ${o.latencyMs.p99} | ${o.deliveriesPerSec ? (s.deliveriesPerSec / o.deliveriesPerSec).toFixed(2) : '–'} |`);
  }
  return rows;
}

function markdown(r: Results, svgName: string): string {
  const m = r.machine!;
  const { fanout, baseline, connections, batching, cluster } = r.scenarios;
  const L: string[] = [
    `# onair benchmark results, ${r.startedAt.slice(0, 10)}${r.quick ? ' (quick run)' : ''}${r.partial ? ' (partial run)' : ''}`,
    '',
    `Run \`npm run bench\`${r.quick ? ' -- --quick' : ''}; started ${r.startedAt}, took ${r.durationSec ?? '?'} s. Raw data: the JSON file of the same name.`,
    '',
    '## Targets',
    '',
    '| target | goal | measured | |',
    '|---|---|---|---|',
    ...r.targets!.map((t) => `| ${t.name} | ${t.goal} | ${t.measured}${t.note ? ` (${t.note})` : ''} | ${yes(t.met)} |`),
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores; memory ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}`,
    `- packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '- Everything runs on this one machine over loopback (127.0.0.1): servers, Redis and the client processes share its cores, ' +
      'so a step can saturate the clients or the machine before the server. The "clients CPU %" column shows it (100% = one core).',
    '',
    '## Configuration',
    '',
    '- onair: `node dist/main.js` (the build `npm start` runs), TLS on with a self-signed P-256 certificate, default `TRANSPORTS` (clients use websocket only), ' +
      `\`LOG_LEVEL=warn\`, rate limits lifted (${Object.entries(UNLIMITED).map(([k, v]) => `${k}=${v}`).join(', ')}) so that they never shape a measurement, other settings default (\`BATCH_INTERVAL_MS=500\` unless stated).`,
    '- raw baseline: `bench/baseline/raw-ws-server.ts`, `ws` over the same certificate; per message it parses the JSON, builds the same chat object onair broadcasts, serialises it once and sends it to every other client.',
    '- fan-out: 120 members in one room, over 3 client processes (40 each), socket.io-client (or `ws`) over TLS websocket. Members send in turn; the total rate doubles each step. ' +
      `Each step: ${r.quick ? '0.5 s warm-up, 2 s measured' : '1 s warm-up, 6 s measured (5 s for the Redis runs)'}, then a drain before counting. ` +
      `Latency: send time in the message (\`performance.timeOrigin + performance.now()\`, one clock for all processes) to its arrival at each receiver, HDR histogram per worker, merged. ` +
      `Saturated: under ${SATURATED.minRatio * 100}% of the expected deliveries (sent x 119) arrived, or p99 over ${SATURATED.maxP99Ms} ms; the ladder stops there.`,
    '- server CPU and RSS: pidusage on the server process(es), over the measuring window (CPU: % of one core, summed over servers).',
    '',
    '## Fan-out in one room of 120',
    '',
    `![latency against offered load](${svgName})`,
    '',
  ];
  if (fanout) L.push(...fanoutSection('onair, one server', fanout));
  if (baseline) L.push(...fanoutSection('raw ws baseline', baseline));
  if (fanout && baseline) {
    L.push('### onair against the raw baseline at the same offered rates', '', ...comparison(fanout, baseline, 'onair', 'raw'), '');
  }
  if (cluster) {
    L.push('## Three servers on Redis against one', '', `A private redis-server ${cluster.redisVersion}; the 120 members are spread 40 per server, so every chat message crosses Redis (socket.io's Redis Streams adapter).`, '');
    L.push(...fanoutSection('one server on Redis', cluster.oneServerOnRedis));
    L.push(...fanoutSection('three servers on Redis', cluster.threeServersOnRedis));
    if (fanout) L.push('### three servers on Redis against one in-memory server', '', ...comparison(cluster.threeServersOnRedis, fanout, 'x3 Redis', 'x1 memory'), '');
    const rc = cluster.threeServersOnRedisCluster;
    if (rc) {
      L.push(...fanoutSection('three servers on a Redis Cluster (3 masters, a replica each)', rc));
      L.push(
        `Redis CPU over the ladder (% of one core): one Redis ${cluster.threeServersOnRedis.redisCpu.join(', ')}; cluster, per master: ${rc.redisCpu.join(', ')} (one room is one programme, so one shard carries it).`,
        '',
      );
      L.push('### three servers on a Redis Cluster against three on one Redis', '', ...comparison(rc, cluster.threeServersOnRedis, 'x3 cluster', 'x3 Redis'), '');
    }
  }
  if (connections) {
    const L2: string[] = ['## Connections', ''];
    for (const i of [connections.idle, connections.idlePlain]) {
      if (!i) continue;
      L2.push(
        `| idle ${i.tls ? 'WSS' : 'WS (TLS=off)'} connections${i.pinned ? ' (server core 0, clients core 1)' : ''} | value |`,
        '|---|---:|',
        `| held | ${fmt(i.connections)} (${i.failed} failed${i.firstError ? `: ${i.firstError}` : ''}) |`,
        `| time to open them (4 client processes, 100 in flight) | ${i.openSeconds} s |`,
        `| server RSS before / after | ${i.rssBeforeMiB} / ${i.rssAfterMiB} MiB |`,
        `| **RSS per idle connection** | **${i.kibPerConnection} KiB** |`,
        '',
      );
    }
    if (connections.handshakes?.length) {
      L2.push(
        '| JWT (HS256) connect + disconnect cycles | cycles | handshakes/s | server CPU | per server core | clients CPU | resumed | connect p50 / p99 ms |',
        '|---|---:|---:|---:|---:|---:|---:|---|',
        ...connections.handshakes.map(
          (h) => `| ${h.variant} | ${fmt(h.cycles)} (${h.failed} failed) | ${fmt(h.perSecond)} | ${h.serverCpu}% | **${fmt(h.perServerCoreSecond)}** | ${h.clientCpu}% | ${fmt(h.resumed)} | ${h.connectMs.p50} / ${h.connectMs.p99} |`,
        ),
        '',
      );
    }
    L2.push(
      'A connection counts once its `loadRooms` arrives. RSS before is read after a warm-up of 200 connections (closed again), RSS after 5 s after the last connection opened. Per server core = handshakes/s divided by the server\'s share of its core.',
      '',
    );
    L.push(...L2);
  }
  if (batching) {
    L.push(
      '## Batching: `count` + `aggroPoint` traffic',
      '',
      `- vote storm: ${batching.votes.description}.`,
      `- join/leave storm: ${batching.joins.description}.`,
      '',
      'Frames and bytes as received by all clients (socket.io packet text plus engine.io\'s type byte; websocket and TLS framing not included).',
      '',
      '| storm | BATCH_INTERVAL_MS | operations | messages | bytes | messages per operation |',
      '|---|---|---:|---:|---:|---:|',
      ...stormRows('votes', batching.votes),
      ...stormRows('joins/leaves', batching.joins),
      '',
      `Join/leave storm detail: batched ${JSON.stringify(batching.joins.batched.detail)}; unbatched ${JSON.stringify(batching.joins.unbatched.detail)}.`,
      'Unbatched, the server cannot send every `count` to every lobby socket as fast as the storm asks, so fewer joins complete in the same time (the churn waits for acks); the per-operation figure is the fair comparison.',
      '',
    );
  }
  const wf = r.scenarios.filter;
  if (wf) {
    L.push(
      '## The word filter',
      '',
      `${wf.messages} chat messages (${wf.meanChars} characters on average, one in ten with a spaced-out entry) against ${wf.entries} entries, one automaton built in ${wf.buildMs} ms: mean ${wf.meanUs} µs, p99 ${wf.p99Us} µs a message; ${wf.maxLengthMeanUs} µs for messages of 290-300 characters.`,
      '',
    );
  }
  const exp = r.scenarios.experiments;
  if (exp) {
    L.push(
      '## Making it faster: before and after',
      '',
      `Fan-out in the room of 120 at a fixed ${exp.rate} msg/s (half of saturation), only the server changed; the mean of ${exp.runs.length / exp.summary.length} alternating runs each. At this load the clients, not the server, bound deliveries/s on two cores, so server CPU and latency are what can move.`,
      '',
      '| server | server CPU % | p50 ms | p99 ms | deliveries/s |',
      '|---|---:|---:|---:|---:|',
      ...exp.summary.map((v) => `| ${v.variant} | ${v.serverCpu} | ${v.p50} | ${v.p99} | ${v.deliveriesPerSec} |`),
      '',
      'Where the server spends its CPU at that load (`--cpu-prof`, self time, top entries):',
      '',
      '| self % | function | where |',
      '|---:|---|---|',
      ...exp.profile.map((e) => `| ${e.selfPct} | \`${e.fn}\` | ${e.where || '(native)'} |`),
      '',
    );
  }
  L.push(
    '## Notes',
    '',
    '- **Machine-bound fan-out.** Server and load clients share two cores; at the top steps the client processes take',
    '  most of them, so the onair/raw ratio says "no worse than raw here" rather than measuring either ceiling. onair\'s',
    '  extra socket.io work shows as latency (compare the p99 columns) before it shows as lost deliveries.',
    '- **What was tried to go faster, and kept or not:**',
    '  - `bufferutil` + `utf-8-validate` (ws\'s native masking and UTF-8 validation): kept, as optional dependencies',
    '    that load prebuilt binaries shipped in their npm packages (nothing is downloaded). In the before/after table',
    '    the gain is small (a few points of server CPU at a fixed load; latency moves within run-to-run noise): the',
    '    server\'s time goes to TLS writes, not to masking or validation.',
    '  - Encoding each broadcast once: socket.io already does (the adapter encodes a packet once and writes the same',
    '    frame to every socket); the profile shows the per-socket cost left is the TLS write (`writev`), one per',
    '    socket per message, which no encoding change removes.',
    '  - An alternative websocket engine (`eiows`): does not build on this machine\'s toolchain, so not measured.',
    '  - An opt-in msgpack parser: socket.io has one parser per server, so old (JSON) and new (msgpack) clients cannot',
    '    share a server or a room; it would need a second path with a second server instance and cross-instance',
    '    delivery. Not done; the JSON frames here are small (about 150 bytes), where msgpack saves little.',
    '- **Memory per connection** is mostly per-socket TLS state (OpenSSL buffers) and the engine.io/socket.io socket',
    '  objects. onair\'s own part was about 3 KiB (measured by connecting without its handlers); its event handlers are',
    '  now shared by all sockets (they find their socket as `this`) and a socket\'s logger is made only when it logs,',
    '  which took the figure from 40.5 KiB (first run) to about 38 KiB.',
    '- **Noise.** Two cores shared by servers and clients: repeated runs move latencies by tens of percent and the',
    '  raw baseline\'s saturation step by one step; compare within one run, as this page does.',
    '',
  );
  const errs = Object.entries(r.errors);
  if (errs.length) L.push('## Scenarios that failed', '', ...errs.map(([k, v]) => `- ${k}: ${v}`), '');
  return L.join('\n');
}

function chartSeries(r: Results): Series[] {
  const s: Series[] = [];
  const add = (name: string, colour: string, f?: FanoutResult) => {
    if (f) s.push({ name, colour, points: f.steps.map((x) => ({ x: x.rate, p50: x.latencyMs.p50, p99: x.latencyMs.p99 })) });
  };
  add('onair, 1 server', '#d62728', r.scenarios.fanout);
  add('raw ws', '#1f77b4', r.scenarios.baseline);
  add('onair, 3 servers + Redis', '#2ca02c', r.scenarios.cluster?.threeServersOnRedis);
  add('onair, 3 servers + Redis Cluster', '#9467bd', r.scenarios.cluster?.threeServersOnRedisCluster);
  add('onair, 1 server + Redis', '#ff7f0e', r.scenarios.cluster?.oneServerOnRedis);
  return s;
}

export async function writeResults(r: Results): Promise<string[]> {
  r.machine = machine();
  r.targets = targets(r);
  const dir = new URL('results/', new URL('../', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const suffix = r.quick ? '-quick' : r.partial ? '-partial' : '';
  const base = `${r.startedAt.slice(0, 10)}${suffix}`;
  const svgName = `${base}-latency.svg`;
  const files = [new URL(`${base}.json`, dir), new URL(`${base}.md`, dir), new URL(svgName, dir)];
  writeFileSync(files[0]!, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(files[1]!, markdown(r, svgName) + '\n');
  writeFileSync(files[2]!, latencyChart('End-to-end chat latency in a room of 120, against offered load', chartSeries(r)));
  if (!suffix) {
    const latest = new URL('latest.md', dir);
    writeFileSync(
      latest,
      [
        '# Latest benchmark results',
        '',
        `The latest full run of \`npm run bench\`: [${base}.md](${base}.md) (data: [${base}.json](${base}.json), chart: [${svgName}](${svgName})).`,
        '',
        '| target | goal | measured | |',
        '|---|---|---|---|',
        ...r.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${yes(t.met)} |`),
        '',
      ].join('\n'),
    );
    files.push(latest);
  }
  return files.map((f) => fileURLToPath(f));
}
