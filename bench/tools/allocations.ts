/**
 * What a running server allocates, or what of it survives a scavenge (issue 12: the lobby
 * bench's event-loop tail is mostly scavenges, and a scavenge's pause grows with what it must
 * copy, not with what died). Attaches to a server started with `--inspect=PORT` (for a bench
 * run: BENCH_SERVER_EXEC_ARGV="--inspect=PORT"), waits, then samples every allocation for a
 * while with V8's sampling heap profiler, and prints MB/s by the deepest onair frame that made
 * it and by the allocating function.
 *
 *   node --import tsx bench/tools/allocations.ts PORT WAIT_S SECONDS [--survivors] [--json=out.json]
 *
 * `--survivors`: only what outlived a scavenge (objects a scavenge collected are left out;
 * those a full GC collected later are kept, since they were copied or promoted first).
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const [port, waitArg, secondsArg] = process.argv.slice(2);
if (!port || !waitArg || !secondsArg) {
  console.error('usage: allocations.ts PORT WAIT_S SECONDS [--survivors] [--json=out.json]');
  process.exit(2);
}
const seconds = Number(secondsArg);
const survivors = process.argv.includes('--survivors');
const json = process.argv.find((a) => a.startsWith('--json='))?.slice('--json='.length);

await new Promise((r) => setTimeout(r, Number(waitArg) * 1000));
const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
let nextId = 0;
const pending = new Map<number, (result: unknown) => void>();
ws.on('message', (data) => {
  const m = JSON.parse(String(data)) as { id?: number; result?: unknown };
  if (m.id === undefined) return;
  pending.get(m.id)?.(m.result);
  pending.delete(m.id);
});
const send = (method: string, params: object = {}) =>
  new Promise<unknown>((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send('HeapProfiler.enable');
await send('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivors });
await new Promise((r) => setTimeout(r, seconds * 1000));
const { profile } = (await send('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
ws.close();
if (json) writeFileSync(json, JSON.stringify(profile));

const label = (f: ProfileNode['callFrame']) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`;
const ownCode = (url: string) => url.includes('/dist/') && !url.includes('node_modules');
const byFunction = new Map<string, number>();
const byOnairFrame = new Map<string, number>();
let total = 0;
const walk = (node: ProfileNode, onair: string) => {
  const frame = ownCode(node.callFrame.url) ? label(node.callFrame) : onair;
  if (node.selfSize > 0) {
    total += node.selfSize;
    byFunction.set(label(node.callFrame), (byFunction.get(label(node.callFrame)) ?? 0) + node.selfSize);
    byOnairFrame.set(frame, (byOnairFrame.get(frame) ?? 0) + node.selfSize);
  }
  for (const c of node.children) walk(c, frame);
};
walk(profile.head, '(no onair frame)');

const rate = (bytes: number) => (bytes / 1e6 / seconds).toFixed(2).padStart(6);
const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${rate(v)}  ${k}`).join('\n');
console.log(`${survivors ? 'surviving a scavenge' : 'allocated'}: ${rate(total)} MB/s over ${seconds} s`);
console.log(`-- MB/s by the deepest onair frame\n${top(byOnairFrame)}`);
console.log(`-- MB/s by allocating function\n${top(byFunction)}`);
