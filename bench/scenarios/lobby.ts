/**
 * Issue 12 point 5 (reduced, see bench/results/2026-12-01-lobby.md): one server, a programme with
 * up to 20,000 persistent rooms made through the admin API (bounded in time), seed-protocol lobby
 * sockets (no `auth`, identity in the query) and batched ones, movers switching rooms; then a new
 * socket's `loadRooms` size and time, lobby frames/s and bytes/s, `listRooms` and `quickJoin`
 * latencies. Clients run in the orchestrator's process here (a shortcut of this first version).
 */
import { request } from 'node:https';
import { io, type Socket } from 'socket.io-client';
import type { BenchEnv } from '../lib/env.js';
import { startOnair } from '../lib/servers.js';
import { latency, newHistogram, sleep, type Latency } from '../lib/stats.js';

const PROGRAM = 'bench-lobby';
const TOKEN = 'bench-admin-token';

function post(url: string, ca: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const data = JSON.stringify(body);
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', ca, servername: 'localhost', timeout: 10_000, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(data);
  });
}

interface Counter { frames: number; bytes: number }
interface Lobby { socket: Socket; c: Counter; loadRoomsBytes: number; loadRoomsMs: number }

/** A lobby socket; `seed`: identity in the query and no `auth`; else `auth.lobby='batched'`. */
function lobby(url: string, ca: string, uid: string, seed: boolean): Promise<Lobby> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const opts = { transports: ['websocket'], reconnection: false, forceNew: true, ca };
    const socket = seed
      ? io(`${url}/${PROGRAM}`, { ...opts, query: { userUID: uid, displayName: uid } })
      : io(`${url}/${PROGRAM}`, { ...opts, auth: { userUID: uid, displayName: uid, lobby: 'batched' } });
    const c: Counter = { frames: 0, bytes: 0 };
    let first = true;
    const timer = setTimeout(() => (socket.close(), reject(new Error('connect timeout'))), 30_000);
    socket.io.engine.on('packet', (p: { type: string; data?: unknown }) => {
      if (p.type !== 'message' || typeof p.data !== 'string') return;
      const d = p.data;
      if (first && d.includes('["loadRooms"')) {
        first = false;
        clearTimeout(timer);
        resolve({ socket, c, loadRoomsBytes: Buffer.byteLength(d) + 1, loadRoomsMs: performance.now() - t0 });
        return;
      }
      if (/^2\d*\/[^,]*,\["(count|addRoom|deleteRoom|roomCounts)"/.test(d)) {
        c.frames += 1;
        c.bytes += Buffer.byteLength(d) + 1;
      }
    });
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.close(), reject(err)));
  });
}

async function inBatches<T>(items: T[], size: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

const ack = (s: Socket, e: string, a?: unknown) => s.timeout(10_000).emitWithAck(e, a) as Promise<{ ok: boolean; code?: string; roomId?: string; next?: string | null }>;

export interface LobbyResult {
  rooms: number;
  seedSockets: number;
  batchedSockets: number;
  movers: number;
  switchesPerSec: number;
  loadRooms: { bytes: number; ms: number };
  seedPerSocket: { framesPerSec: number; bytesPerSec: number };
  batchedPerSocket: { framesPerSec: number };
  listRooms: Latency;
  quickJoin: Latency & { failed: number; callsPerSec: number };
}

export async function lobbyScenario(bench: BenchEnv, log: (s: string) => void): Promise<LobbyResult> {
  const targetRooms = bench.quick ? 2000 : 20_000;
  const nSeed = bench.quick ? 200 : 900;
  const nBatched = bench.quick ? 20 : 100;
  const nMovers = bench.quick ? 100 : 300;
  const server = await startOnair(bench, 'onair-lobby', { ADMIN_TOKEN: TOKEN, ROOMS_PER_PROGRAM_MAX: '20000' }, bench.serverExecArgv);
  const all: Socket[] = [];
  try {
    // Rooms: persistent, through the admin API, 32 at a time, for at most 90 s.
    let made = 0;
    const deadline = Date.now() + (bench.quick ? 20_000 : 90_000);
    const t0 = Date.now();
    while (made < targetRooms && Date.now() < deadline) {
      const n = Math.min(32, targetRooms - made);
      const codes = await Promise.all(Array.from({ length: n }, (_, i) => post(server.url, bench.cert, `/admin/programs/${PROGRAM}/rooms`, { title: `방 ${made + i} room`, max: 120 })));
      const ok = codes.filter((c) => c === 201).length;
      if (!ok) throw new Error(`admin create failed: ${codes[0]}`);
      made += ok;
    }
    log(`  ${made} persistent rooms in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const seeds: Lobby[] = [];
    const batched: Lobby[] = [];
    await inBatches(Array.from({ length: nSeed }, (_, i) => i), 50, async (i) => void seeds.push(await lobby(server.url, bench.cert, `seed-${i}`, true)));
    await inBatches(Array.from({ length: nBatched }, (_, i) => i), 50, async (i) => void batched.push(await lobby(server.url, bench.cert, `bat-${i}`, false)));
    const movers: Lobby[] = [];
    await inBatches(Array.from({ length: nMovers }, (_, i) => i), 50, async (i) => void movers.push(await lobby(server.url, bench.cert, `mov-${i}`, false)));
    all.push(...[...seeds, ...batched, ...movers].map((l) => l.socket));
    log(`  ${seeds.length} seed + ${batched.length} batched lobby sockets, ${movers.length} movers`);
    // Room ids for the movers, from listRooms.
    const ids: string[] = [];
    let cursor: string | null | undefined;
    for (let i = 0; i < 20 && ids.length < 2000; i++) {
      const r = (await ack(movers[0]!.socket, 'listRooms', { limit: 100, ...(cursor ? { cursor } : {}) })) as { ok: boolean; rooms?: { roomId: string }[]; next?: string | null };
      for (const x of r.rooms ?? []) ids.push(x.roomId);
      cursor = r.next;
      if (!cursor) break;
    }
    // Movers: 1,000 switches/s (join a room picked in turn; a switch is one joinRoom, which leaves the previous room).
    const rate = bench.quick ? 300 : 1000;
    const measureMs = bench.quick ? 3000 : 8000;
    let stop = false;
    let switches = 0;
    let issued = 0;
    const moving = (async () => {
      const idle = [...movers];
      const start = performance.now();
      while (!stop) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        for (; issued < due; issued++) {
          const m = idle.pop();
          if (!m) continue;
          const roomId = ids[(issued * 7919) % ids.length]!;
          void ack(m.socket, 'joinRoom', { roomId })
            .then((r) => void (r.ok && (switches += 1)), () => undefined)
            .finally(() => idle.push(m));
        }
        await sleep(5);
      }
    })();
    await sleep(1500);
    for (const l of [...seeds, ...batched]) (l.c.frames = 0), (l.c.bytes = 0);
    const s0 = switches;
    const m0 = performance.now();
    // listRooms and quickJoin during the window.
    const hList = newHistogram();
    const hQuick = newHistogram();
    let qFailed = 0;
    const quickers: Socket[] = [];
    const listing = (async () => {
      let cur: string | null | undefined;
      const end = performance.now() + measureMs - 500;
      for (let i = 0; i < 2000 && performance.now() < end; i++) {
        const t = performance.now();
        const r = await ack(seeds[i % seeds.length]!.socket, 'listRooms', { limit: 20, ...(cur ? { cursor: cur } : {}) });
        hList.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        cur = r.next;
        await sleep(20);
      }
    })();
    const qRate = bench.quick ? 100 : 500;
    const qMs = bench.quick ? 2000 : 4000;
    const nQuick = Math.round((qRate * qMs) / 1000);
    // Callers connect first (batched sockets, not measured).
    await inBatches(Array.from({ length: nQuick }, (_, i) => i), 100, async (i) => void quickers.push((await lobby(server.url, bench.cert, `qj-${i}`, false)).socket));
    all.push(...quickers);
    const qStart = performance.now();
    await Promise.all(
      quickers.map(async (s, i) => {
        await sleep((i * 1000) / qRate);
        const t = performance.now();
        const r = await ack(s, 'quickJoin', {}).catch(() => ({ ok: false }));
        hQuick.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
        if (!r.ok) qFailed += 1;
      }),
    );
    const qSec = (performance.now() - qStart) / 1000;
    await listing;
    const left = m0 + measureMs - performance.now();
    if (left > 0) await sleep(left);
    const sec = (performance.now() - m0) / 1000;
    stop = true;
    await moving;
    const switchesPerSec = Math.round((switches - s0) / sec);
    const avg = (ls: Lobby[], k: keyof Counter) => Math.round((ls.reduce((t, l) => t + l.c[k], 0) / ls.length / sec) * 10) / 10;
    // A new socket's loadRooms, under load's aftermath (movers still in rooms).
    const fresh = await lobby(server.url, bench.cert, 'fresh', true);
    all.push(fresh.socket);
    const result: LobbyResult = {
      rooms: made,
      seedSockets: seeds.length,
      batchedSockets: batched.length,
      movers: movers.length,
      switchesPerSec,
      loadRooms: { bytes: fresh.loadRoomsBytes, ms: Math.round(fresh.loadRoomsMs * 10) / 10 },
      seedPerSocket: { framesPerSec: avg(seeds, 'frames'), bytesPerSec: avg(seeds, 'bytes') },
      batchedPerSocket: { framesPerSec: avg(batched, 'frames') },
      listRooms: latency(hList),
      quickJoin: { ...latency(hQuick), failed: qFailed, callsPerSec: Math.round(nQuick / qSec) },
    };
    log(`  switches/s achieved: ${switchesPerSec}`);
    log(`  loadRooms (new seed socket): ${result.loadRooms.bytes} bytes in ${result.loadRooms.ms} ms after connect`);
    log(`  seed lobby socket: ${result.seedPerSocket.framesPerSec} frames/s, ${result.seedPerSocket.bytesPerSec} bytes/s`);
    log(`  batched lobby socket: ${result.batchedPerSocket.framesPerSec} frames/s`);
    log(`  listRooms page (20): p50 ${result.listRooms.p50} ms, p99 ${result.listRooms.p99} ms (${result.listRooms.count} calls)`);
    log(`  quickJoin: p50 ${result.quickJoin.p50} ms, p99 ${result.quickJoin.p99} ms (${result.quickJoin.count} calls at ${result.quickJoin.callsPerSec}/s, ${qFailed} failed)`);
    hList.destroy();
    hQuick.destroy();
    return result;
  } finally {
    for (const s of all) s.close();
    await server.stop();
  }
}
