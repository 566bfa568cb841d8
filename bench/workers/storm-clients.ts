/**
 * Clients for the batching storms. Every socket counts the `count` and `aggroPoint` frames it
 * receives, and their bytes, from engine.io's `packet` events: the socket.io packet text as it
 * came off the websocket (plus engine.io's one-byte type), before any decoding.
 */
import type { Socket } from 'socket.io-client';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { serve } from '../lib/rpc.js';
import { sleep } from '../lib/stats.js';

interface Counts {
  countMsgs: number;
  countBytes: number;
  pointMsgs: number;
  pointBytes: number;
}
type Ack = { ok: boolean; code?: string; roomId?: string; aggroUID?: string };

let sockets: Socket[] = [];
let anchors = 0;
let counts: Counts = { countMsgs: 0, countBytes: 0, pointMsgs: 0, pointBytes: 0 };

function watch(socket: Socket): void {
  socket.io.engine.on('packet', (p: { type: string; data?: unknown }) => {
    if (p.type !== 'message' || typeof p.data !== 'string') return;
    const d = p.data;
    const i = d.indexOf('[');
    if (i < 0) return;
    if (d.startsWith('["count"', i)) {
      counts.countMsgs += 1;
      counts.countBytes += d.length + 1;
    } else if (d.startsWith('["aggroPoint"', i)) {
      counts.pointMsgs += 1;
      counts.pointBytes += d.length + 1;
    }
  });
}

async function connect(url: string, ca: string, program: string, uid: string): Promise<Socket> {
  const socket = await connectOnair(url, ca, program, devAuth(uid));
  watch(socket);
  return socket;
}

const call = (s: Socket, event: string, arg?: unknown) => s.timeout(30_000).emitWithAck(event, arg) as Promise<Ack>;

async function inBatches<T>(items: T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

serve({
  async connect(a: { url: string; ca: string; program: string; count: number; prefix: string }) {
    const ids = Array.from({ length: a.count }, (_, i) => `${a.prefix}-${i}`);
    await inBatches(ids, 25, async (uid) => sockets.push(await connect(a.url, a.ca, a.program, uid)));
    return sockets.length;
  },
  /** The first `n` sockets each make a room and stay in it, so the room outlives the storm. */
  async createRooms(a: { n: number; max: number }) {
    anchors = a.n;
    const out: string[] = [];
    for (const s of sockets.slice(0, a.n)) {
      const r = await call(s, 'createRoom', { title: `storm ${out.length}`, max: a.max });
      if (!r.ok || !r.roomId) throw new Error(`createRoom failed: ${r.code}`);
      out.push(r.roomId);
    }
    return out;
  },
  async joinAll(a: { roomId: string }) {
    await inBatches(sockets, 20, async (s) => {
      const r = await call(s, 'joinRoom', { roomId: a.roomId });
      if (!r.ok) throw new Error(`joinRoom failed: ${r.code}`);
    });
    return sockets.length;
  },
  async postAggro(a: { roomId: string }) {
    const r = await call(sockets[0]!, 'chat', { roomId: a.roomId, type: 'A', msg: 'storm!' });
    if (!r.ok || !r.aggroUID) throw new Error(`aggro failed: ${r.code}`);
    return r.aggroUID;
  },
  /** Every socket but `skipFirst` votes once, at evenly spread moments within `spreadMs`. */
  async vote(a: { aggroUID: string; spreadMs: number; skipFirst: boolean }) {
    const voters = a.skipFirst ? sockets.slice(1) : sockets;
    let ok = 0;
    await Promise.all(
      voters.map(async (s, i) => {
        await sleep((a.spreadMs * i) / voters.length);
        const r = await call(s, i % 3 === 2 ? 'aggroDown' : 'aggroUp', a.aggroUID);
        if (r.ok) ok += 1;
      }),
    );
    return ok;
  },
  /**
   * Join/leave churn: `rate` joins per second for `durationMs`, each by an idle socket of this
   * worker's pool (not an anchor) into a room picked in turn; it stays `dwellMs` (a range, so
   * member counts really move rather than bouncing back within one batching window) and leaves.
   * When every pool socket is busy a due join is skipped and counted.
   */
  async churn(a: { roomIds: string[]; rate: number; durationMs: number; dwellMs: [number, number] }) {
    const idle = sockets.slice(anchors);
    let joins = 0;
    let leaves = 0;
    let skipped = 0;
    let failed = 0;
    let issued = 0;
    const inflight = new Set<Promise<void>>();
    const start = performance.now();
    while (performance.now() - start < a.durationMs) {
      const due = Math.floor(((performance.now() - start) / 1000) * a.rate);
      for (; issued < due; issued++) {
        const s = idle.pop();
        if (!s) {
          skipped += 1;
          continue;
        }
        const n = issued;
        const roomId = a.roomIds[n % a.roomIds.length]!;
        const p: Promise<void> = (async () => {
          const j = await call(s, 'joinRoom', { roomId });
          if (j.ok) joins += 1;
          else failed += 1;
          await sleep(a.dwellMs[0] + ((n * 7919) % 1000) / 1000 * (a.dwellMs[1] - a.dwellMs[0]));
          const l = await call(s, 'leaveRoom', roomId);
          if (l.ok) leaves += 1;
        })()
          .catch(() => void (failed += 1))
          .finally(() => {
            idle.push(s);
            inflight.delete(p);
          });
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all(inflight);
    return { joins, leaves, skipped, failed };
  },
  resetCounts() {
    counts = { countMsgs: 0, countBytes: 0, pointMsgs: 0, pointBytes: 0 };
    return true;
  },
  counts() {
    return counts;
  },
  shutdown() {
    for (const s of sockets) s.close();
    sockets = [];
  },
});
