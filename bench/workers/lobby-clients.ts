/**
 * Load for the lobby scenario (issue 12): lobby sockets that only listen (seed protocol: identity in
 * the query and no `auth`; or batched: `auth.lobby = 'batched'`), counting the lobby frames and bytes
 * each receives; movers that switch rooms at a rate; `listRooms` pages and `quickJoin` calls timed
 * one by one. A call that fails or times out is counted with its first error, never thrown: a
 * saturated server is a result, not a crash of the run. The sockets are the wire client's by
 * default (`BENCH_ONAIR_CLIENT`), seed ones sending their identity in the query as the seed's
 * client does.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { loadClient, wireConnect } from '../lib/wire-client.js';
import { serve } from '../lib/rpc.js';
import { encode, newHistogram, sleep } from '../lib/stats.js';

type Mode = 'seed' | 'batched' | 'mover' | 'quicker';
interface Counter { frames: number; bytes: number }
/** A connection of either client: what the scenario does with one. */
interface Conn {
  call(event: string, arg: unknown): Promise<Reply>;
  close(): void;
}
interface Held { socket: Conn; mode: Mode; c: Counter }
interface Target { url: string; ca: string; program: string }

const ACK_MS = 10_000;
/** A lobby event in a socket.io packet (engine.io's `4` stripped, as socket.io-client's
 * `packet` event gives it; the wire client's frames are matched from their second character). */
const LOBBY_FRAME = /^2\d*\/[^,]*,\["(count|addRoom|deleteRoom|roomCounts)"/;
/** `wire` (default): bare ws sending socket.io-client's frames (bench/lib/wire-client.ts), so
 * that the client processes, which share a core, do not hold up the latencies they measure;
 * `socket.io`: socket.io-client itself. */
const CLIENT = loadClient('BENCH_ONAIR_CLIENT');
let held: Held[] = [];
let lag: IntervalHistogram | undefined;

/** A socket, resolved with its `loadRooms` frame's size and time once it arrives. */
function open(t: Target, uid: string, mode: Mode): Promise<{ held: Held; bytes: number; ms: number }> {
  return CLIENT === 'wire' ? openWire(t, uid, mode) : openSocketIo(t, uid, mode);
}

async function openWire(t: Target, uid: string, mode: Mode): Promise<{ held: Held; bytes: number; ms: number }> {
  const t0 = performance.now();
  const identity = { userUID: uid, displayName: uid.slice(0, 30) };
  const c: Counter = { frames: 0, bytes: 0 };
  let loadRooms = 0;
  const onFrame = (frame: string) => {
    if (loadRooms === 0 && frame.includes('["loadRooms"')) loadRooms = Buffer.byteLength(frame);
    else if (LOBBY_FRAME.test(frame.slice(1))) {
      c.frames += 1;
      c.bytes += Buffer.byteLength(frame);
    }
  };
  const ws = await wireConnect(t.url, t.ca, t.program, mode === 'seed' ? null : { ...identity, lobby: 'batched' }, 30_000, undefined, {
    ...(mode === 'seed' ? { query: identity } : {}),
    onFrame,
  });
  const socket: Conn = { call: (event, arg) => ws.emitWithAck<Reply>(event, arg, ACK_MS), close: () => ws.close() };
  return { held: { socket, mode, c }, bytes: loadRooms, ms: performance.now() - t0 };
}

function openSocketIo(t: Target, uid: string, mode: Mode): Promise<{ held: Held; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const base = { transports: ['websocket'], reconnection: false, forceNew: true, ca: t.ca };
    const identity = { userUID: uid, displayName: uid.slice(0, 30) };
    const socket: Socket = mode === 'seed'
      ? io(`${t.url}/${t.program}`, { ...base, query: identity })
      : io(`${t.url}/${t.program}`, { ...base, auth: { ...identity, lobby: 'batched' } });
    const conn: Conn = { call: async (event, arg) => (await socket.timeout(ACK_MS).emitWithAck(event, arg)) as Reply, close: () => socket.close() };
    const h: Held = { socket: conn, mode, c: { frames: 0, bytes: 0 } };
    let first = true;
    const timer = setTimeout(() => (socket.close(), reject(new Error('connect timeout'))), 30_000);
    socket.io.engine.on('packet', (p: { type: string; data?: unknown }) => {
      if (p.type !== 'message' || typeof p.data !== 'string') return;
      const d = p.data;
      if (first && d.includes('["loadRooms"')) {
        first = false;
        clearTimeout(timer);
        resolve({ held: h, bytes: Buffer.byteLength(d) + 1, ms: performance.now() - t0 });
        return;
      }
      if (LOBBY_FRAME.test(d)) {
        h.c.frames += 1;
        h.c.bytes += Buffer.byteLength(d) + 1;
      }
    });
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.close(), reject(err)));
  });
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

type Reply = { ok?: boolean; code?: string; next?: string | null };
function call(s: Conn, event: string, arg: unknown): Promise<Reply> {
  return s.call(event, arg);
}

/** Failures by kind ("timeout", an error code), and the first message seen. */
function failures() {
  const byKind: Record<string, number> = {};
  let first = '';
  return {
    add(kind: string, detail = kind) {
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      first ||= detail;
    },
    get total() {
      return Object.values(byKind).reduce((s, n) => s + n, 0);
    },
    report: () => ({ byKind, first }),
  };
}

const ofMode = (m: Mode) => held.filter((h) => h.mode === m);

serve({
  /** Opens `count` sockets, or as many as `deadlineMs` allows (a server that sends every socket a
   * megabyte of `loadRooms` takes minutes): what was opened is the answer either way. */
  async open(a: { targets: Target[]; count: number; prefix: string; mode: Mode; concurrency: number; deadlineMs?: number }) {
    const hist = newHistogram();
    const failed = failures();
    let bytesMax = 0;
    let opened = 0;
    const end = performance.now() + (a.deadlineMs ?? 90_000);
    await pool(a.count, a.concurrency, async (i) => {
      if (performance.now() > end) return void failed.add('deadline');
      try {
        const o = await open(a.targets[i % a.targets.length]!, `${a.prefix}-${i}`, a.mode);
        held.push(o.held);
        opened += 1;
        hist.recordValue(Math.max(1, Math.round(o.ms * 1000)));
        bytesMax = Math.max(bytesMax, o.bytes);
      } catch (err) {
        failed.add('connect', String(err));
      }
    });
    const out = { opened, failed: failed.report(), loadRoomsBytesMax: bytesMax, connectMs: encode(hist) };
    hist.destroy();
    return out;
  },
  /** A fresh seed socket: its `loadRooms` size and time after connect; closed at once. */
  async fresh(a: { target: Target; uid: string }) {
    const o = await open(a.target, a.uid, 'seed');
    o.held.socket.close();
    return { bytes: o.bytes, ms: o.ms };
  },
  /** Whether the server answers `listRooms` (the code before issue 12 does not). */
  async probe() {
    const s = held[0]?.socket;
    if (!s) return false;
    try {
      return (await s.call('listRooms', { limit: 1 })).ok === true;
    } catch {
      return false;
    }
  },
  reset() {
    for (const h of held) h.c.frames = h.c.bytes = 0;
    return held.length;
  },
  /** This process's event-loop delay from now on: a client whose loop lags adds its lag to the
   * latencies it measures, so the scenario reports it beside them. */
  lagStart() {
    lag?.disable();
    lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    return true;
  },
  lagStop() {
    if (!lag) return { p99Ms: 0, maxMs: 0 };
    lag.disable();
    const out = { p99Ms: Math.round(lag.percentile(99) / 1e5) / 10, maxMs: Math.round(lag.max / 1e5) / 10 };
    lag = undefined;
    return out;
  },
  counters() {
    const sum = (m: Mode) => {
      const hs = ofMode(m);
      return { sockets: hs.length, frames: hs.reduce((s, h) => s + h.c.frames, 0), bytes: hs.reduce((s, h) => s + h.c.bytes, 0), maxFrames: Math.max(0, ...hs.map((h) => h.c.frames)) };
    };
    return { seed: sum('seed'), batched: sum('batched') };
  },
  /** Movers join `ids` in turn at `rate` switches/s for `seconds`; a switch is one `joinRoom`. */
  async move(a: { ids: string[]; rate: number; seconds: number }) {
    const idle = [...ofMode('mover')];
    const failed = failures();
    const hist = newHistogram();
    let switches = 0;
    let issued = 0;
    let skipped = 0;
    const inflight = new Set<Promise<void>>();
    const start = performance.now();
    const end = start + a.seconds * 1000;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * a.rate);
      for (; issued < due; issued++) {
        const m = idle.pop();
        if (!m) {
          skipped += 1; // every mover is waiting for an ack: the server is behind
          continue;
        }
        const roomId = a.ids[(issued * 7919) % a.ids.length]!;
        const t = performance.now();
        const p = call(m.socket, 'joinRoom', { roomId }).then(
          (r) => {
            hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
            if (r.ok) switches += 1;
            else failed.add(r.code ?? 'no-ok');
          },
          () => failed.add('timeout'),
        ).finally(() => (idle.push(m), inflight.delete(p)));
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all(inflight);
    const out = { switches, issued, skipped, seconds: (performance.now() - start) / 1000, failed: failed.report(), joinMs: encode(hist) };
    hist.destroy();
    return out;
  },
  /** `listRooms` pages one after another from the lobby sockets, following the cursor. */
  async list(a: { seconds: number; gapMs: number; limit: number; q?: string }) {
    const from = [...ofMode('seed'), ...ofMode('batched')];
    const hist = newHistogram();
    const failed = failures();
    let cursor: string | null | undefined;
    const end = performance.now() + a.seconds * 1000;
    for (let i = 0; performance.now() < end; i++) {
      const t = performance.now();
      try {
        const r = await call(from[i % from.length]!.socket, 'listRooms', { limit: a.limit, ...(a.q ? { q: a.q } : {}), ...(cursor ? { cursor } : {}) });
        hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        if (!r.ok) failed.add(r.code ?? 'no-ok');
        cursor = r.next;
      } catch {
        failed.add('timeout');
      }
      await sleep(a.gapMs);
    }
    const out = { failed: failed.report(), ms: encode(hist) };
    hist.destroy();
    return out;
  },
  /** Each prepared quicker calls `quickJoin` once, spread at `rate` calls/s. */
  async quick(a: { rate: number }) {
    const qs = ofMode('quicker');
    const hist = newHistogram();
    const failed = failures();
    const start = performance.now();
    await Promise.all(qs.map(async (q, i) => {
      await sleep((i * 1000) / a.rate);
      const t = performance.now();
      try {
        const r = await call(q.socket, 'quickJoin', {});
        hist.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        if (!r.ok) failed.add(r.code ?? 'no-ok');
      } catch {
        failed.add('timeout');
      }
    }));
    const out = { calls: qs.length, seconds: (performance.now() - start) / 1000, failed: failed.report(), ms: encode(hist) };
    hist.destroy();
    return out;
  },
  closeAll() {
    for (const h of held) h.socket.close();
    const n = held.length;
    held = [];
    return n;
  },
});
