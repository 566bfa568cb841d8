/**
 * Where the bytes of one idle connection go (issue 17, point 1): a heap snapshot of one onair
 * server (the build in dist/, or BENCH_ONAIR_ROOT's) with no client connected, and another with
 * N idle websocket clients; the difference per connection, by constructor (V8 heap self size,
 * live objects only: a snapshot collects garbage first), next to RSS per connection. What RSS
 * has beyond the heap is native: OpenSSL's per-connection state, Buffers' backing stores, malloc.
 *
 *   node --import tsx bench/tools/heap-per-connection.ts [N] [--tls=off] [--label=before] [--json=out.json]
 *
 * Extra server env as HEAP_SERVER_ENV="K=V K2=V2"; extra node flags as BENCH_SERVER_EXEC_ARGV.
 * The server is pinned to core 0 and the four client processes to core 1 (BENCH_PIN=0: not).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopAll } from '../lib/cleanup.js';
import { createBenchEnv } from '../lib/env.js';
import { CLIENT_CPU, pin, SERVER_CPU } from '../lib/pin.js';
import { startWorkers } from '../lib/rpc.js';
import { startOnair, type ServerProcess } from '../lib/servers.js';
import { rssBytes, sleep } from '../lib/stats.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: (string[] | string)[] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per group: objects and closures by name, the rest by node type. */
export function byConstructor(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { bytes: number; count: number }>();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]!]!;
    const name = strings[nodes[i + iName]!]!;
    let key: string;
    if (type === 'object' || type === 'closure') key = `${name || '(anonymous)'} (${type})`;
    else if (type === 'native' || type === 'hidden' || type === 'array' || type === 'object shape') key = `${name.replace(/ \/.*$/, '').slice(0, 60)} (${type})`;
    else key = `(${type})`;
    const e = out.get(key);
    if (e) {
      e.bytes += nodes[i + iSize]!;
      e.count += 1;
    } else out.set(key, { bytes: nodes[i + iSize]!, count: 1 });
  }
  return out;
}

async function snapshot(server: ServerProcess, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  // The file appears when the write starts; it is complete once its size stops changing.
  let file = '';
  let last = -1;
  while (Date.now() < deadline) {
    await sleep(500);
    file ||= readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) ?? '';
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === last) return join(dir, file);
    last = size;
  }
  throw new Error('heap snapshot not written in 120 s');
}

export interface HeapDiff {
  label: string;
  tls: boolean;
  connections: number;
  rssKiBPerConnection: number;
  heapKiBPerConnection: number;
  rows: { key: string; bytesPerConnection: number; countPerConnection: number }[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
  const tls = !args.includes('--tls=off');
  const label = args.find((a) => a.startsWith('--label='))?.slice(8) ?? 'this build';
  const jsonOut = args.find((a) => a.startsWith('--json='))?.slice(7);
  const extraEnv = Object.fromEntries((process.env.HEAP_SERVER_ENV ?? '').split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  const bench = await createBenchEnv(false);
  const execArgv = ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${bench.tmpDir}`, ...(process.env.BENCH_SERVER_EXEC_ARGV?.split(' ').filter(Boolean) ?? [])];
  const server = await startOnair(bench, 'onair-heap', { ...(tls ? {} : { TLS: 'off' }), ...extraEnv }, execArgv);
  const nWorkers = 4;
  const workers = await startWorkers('idle-clients.ts', 'heap-', nWorkers);
  const pinned = pin(server.pid, SERVER_CPU) && workers.every((w) => pin(w.pid, CLIENT_CPU));
  try {
    const open = (count: number, prefix: string) =>
      Promise.all(
        workers.map((w, i) =>
          w.call<{ opened: number; failed: number; firstError: string }>(
            'open',
            { url: server.url, ca: bench.cert, program: 'bench-idle', count: count / nWorkers, prefix: `${prefix}${i}`, concurrency: 25 },
            300_000,
          ),
        ),
      );
    await open(200, 'warm');
    await Promise.all(workers.map((w) => w.call('closeAll')));
    await sleep(3000);
    // RSS after the first snapshot: what writing it allocated is then in both readings.
    const s0 = await snapshot(server, bench.tmpDir);
    const rss0 = await rssBytes(server.pid);
    const opened = await open(n, 'idle');
    const connections = opened.reduce((s, o) => s + o.opened, 0);
    const failed = opened.reduce((s, o) => s + o.failed, 0);
    if (failed) process.stderr.write(`${failed} failed: ${opened.find((o) => o.firstError)?.firstError}\n`);
    await sleep(5000);
    const rss1 = await rssBytes(server.pid);
    const s1 = await snapshot(server, bench.tmpDir);
    const a = byConstructor(s0);
    const b = byConstructor(s1);
    const rows: HeapDiff['rows'] = [];
    let heap = 0;
    for (const [key, v] of b) {
      const d = v.bytes - (a.get(key)?.bytes ?? 0);
      heap += d;
      rows.push({ key, bytesPerConnection: d / connections, countPerConnection: (v.count - (a.get(key)?.count ?? 0)) / connections });
    }
    rows.sort((x, y) => y.bytesPerConnection - x.bytesPerConnection);
    const r: HeapDiff = {
      label,
      tls,
      connections,
      rssKiBPerConnection: +((rss1 - rss0) / 1024 / connections).toFixed(1),
      heapKiBPerConnection: +(heap / 1024 / connections).toFixed(2),
      rows: rows.filter((x) => Math.abs(x.bytesPerConnection) >= 16),
    };
    const lines = [
      `${label}: ${connections} idle ${tls ? 'WSS' : 'WS (TLS=off)'} connections${pinned ? ' (server core 0, clients core 1)' : ''}: RSS ${r.rssKiBPerConnection} KiB each, V8 heap (live) ${r.heapKiBPerConnection} KiB each, so ${(r.rssKiBPerConnection - r.heapKiBPerConnection).toFixed(1)} KiB outside the heap`,
      '',
      '| constructor (type) | bytes / connection | objects / connection |',
      '|---|---:|---:|',
      ...r.rows.slice(0, 40).map((x) => `| ${x.key.replace(/\|/g, '\\|')} | ${x.bytesPerConnection.toFixed(0)} | ${x.countPerConnection.toFixed(2)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(r, null, 2));
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await server.stop();
    await stopAll();
    bench.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`heap-per-connection: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
