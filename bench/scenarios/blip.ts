/**
 * Sessions that survive a blip (spec 7.1), measured: a room of 120 on three servers sharing a
 * private Redis (40 members each), 30% of them (12 per server) behind TCP relays in this process
 * that are all cut at once (both sides destroyed) and refuse new lines for 3 s, while the room
 * chats. What is measured: how many `leaveRoom`/`joinRoom` the 84 who stayed saw (the promise:
 * none), whether every returning member got every message exactly once, how long each took to
 * resume once the network was back, how many messages came back to them, and what a held session
 * costs in Redis (the keys it adds, with `MEMORY USAGE`). Default grace and heartbeats.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { io, type Socket } from 'socket.io-client';
import { Relay } from '../../test/helpers/relay.js';
import type { TestServer } from '../../test/helpers/server.js';
import { track } from '../lib/cleanup.js';
import type { BenchEnv } from '../lib/env.js';
import { startOnair, startRedis, type ServerProcess } from '../lib/servers.js';
import { sleep } from '../lib/stats.js';

const MEMBERS = 120;
const SERVERS = 3;
const BLIP_SHARE = 0.3;
const CUT_MS = 3000;
const CHATTERS = 6;
const CHAT_EVERY_MS = 200;

export interface BlipResult {
  members: number;
  blipped: number;
  cutMs: number;
  messagesSent: number;
  /** Seen by the members who stayed, from the cut until the end. */
  leaveRoomSeen: number;
  joinRoomSeen: number;
  /** Returning members that got every message sent meanwhile exactly once. */
  exactlyOnce: number;
  missing: number;
  duplicates: number;
  /** Messages a returning member got after its return that were sent while it was away (total). */
  messagesRecovered: number;
  recovered: number;
  resumedBySession: number;
  /** From the relays opening again to the member's `connect`. */
  resumeMs: { p50: number; p99: number; max: number };
  /** Redis bytes per held session: `{p}:holds` field, `{p}:sio:<pid>`, its deadline. */
  redisBytesPerHeldSession: number;
  heldSessions: number;
}

interface Member {
  socket: Socket;
  userUID: string;
  blip: boolean;
  /** Message id → times received. */
  got: Map<string, number>;
  leaves: number;
  joins: number;
  connects: number[];
  away: { from: number; to: number } | null;
  recoveredAfter: number;
  resumedBySession: boolean;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function connectMember(url: string, ca: string, program: string, userUID: string, blip: boolean): Promise<Member> {
  const socket = io(`${url}/${program}`, {
    transports: ['websocket'],
    forceNew: true,
    ca,
    auth: { userUID, displayName: userUID.slice(0, 30) },
    reconnection: blip,
    reconnectionDelay: 100,
    reconnectionDelayMax: 400,
    randomizationFactor: 0.5,
  });
  const m: Member = { socket, userUID, blip, got: new Map(), leaves: 0, joins: 0, connects: [], away: null, recoveredAfter: 0, resumedBySession: false };
  socket.on('chat', (msg: { id: string; ts: number }) => {
    m.got.set(msg.id, (m.got.get(msg.id) ?? 0) + 1);
    // Nothing reaches a member while its line is cut: what arrives after the cut came back.
    if (m.away && msg.ts >= m.away.from && msg.ts < m.away.to) m.recoveredAfter += 1;
  });
  socket.on('leaveRoom', () => (m.leaves += 1));
  socket.on('joinRoom', () => (m.joins += 1));
  socket.on('connect', () => m.connects.push(performance.now()));
  socket.on('session', () => (m.resumedBySession = true));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 30_000);
    socket.once('loadRooms', () => (clearTimeout(t), resolve(m)));
    socket.once('connect_error', (err) => (clearTimeout(t), reject(err)));
  });
}

async function ack(socket: Socket, event: string, payload: unknown): Promise<Record<string, unknown>> {
  return (await socket.timeout(10_000).emitWithAck(event, payload)) as Record<string, unknown>;
}

export async function blip(bench: BenchEnv, log: (s: string) => void): Promise<BlipResult> {
  const redis = await startRedis();
  const untrackRedis = track(() => redis.remove());
  const prefix = `blip${randomBytes(3).toString('hex')}:`;
  const servers: ServerProcess[] = [];
  const relays: Relay[] = [];
  const members: Member[] = [];
  const r = createClient({ url: redis.url });
  try {
    await r.connect();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, HISTORY_SIZE: '200' };
    servers.push(await startOnair(bench, 'onair-blip-0', env));
    servers.push(...(await Promise.all(Array.from({ length: SERVERS - 1 }, (_, i) => startOnair(bench, `onair-blip-${i + 1}`, env)))));
    for (const s of servers) relays.push(await Relay.start({ url: s.url } as TestServer));
    const P = `blip-${randomBytes(3).toString('hex')}`;
    const perServer = MEMBERS / SERVERS;
    const blipPerServer = Math.round(perServer * BLIP_SHARE);
    for (let i = 0; i < MEMBERS; i++) {
      const s = i % SERVERS;
      // The last 30%, spread over the servers as every member is (i % SERVERS).
      const blips = i >= MEMBERS - blipPerServer * SERVERS;
      const url = blips ? `https://127.0.0.1:${relays[s]!.port}` : servers[s]!.url;
      members.push(await connectMember(url, bench.cert, P, `m${i}-${randomBytes(2).toString('hex')}`, blips));
    }
    const blippers = members.filter((m) => m.blip);
    const stayers = members.filter((m) => !m.blip);
    const first = members[0]!;
    const made = await ack(first.socket, 'createRoom', { title: 'blip', max: MEMBERS });
    const roomId = made.roomId as string;
    for (const m of members.slice(1)) {
      const res = await ack(m.socket, 'joinRoom', { roomId });
      if (!res.ok) throw new Error(`join failed: ${JSON.stringify(res)}`);
    }
    log(`  ${MEMBERS} members in one room on ${SERVERS} servers; ${blippers.length} behind relays`);
    for (const m of members) {
      m.leaves = 0;
      m.joins = 0;
    }

    const sent: { id: string; by: string; ts: number }[] = [];
    const chatters = members.slice(0, CHATTERS);
    let chatting = true;
    const chatLoops = chatters.map(async (c, k) => {
      let n = 0;
      await sleep(k * (CHAT_EVERY_MS / CHATTERS));
      while (chatting) {
        const res = await ack(c.socket, 'chat', { roomId, type: 'N', msg: `${c.userUID} ${n++}` });
        if (res.ok) sent.push({ id: res.id as string, by: c.userUID, ts: res.ts as number });
        await sleep(CHAT_EVERY_MS);
      }
    });

    await sleep(3000);
    const cutAt = Date.now();
    for (const relay of relays) {
      relay.down = true;
      relay.cut();
    }
    for (const m of blippers) m.away = { from: cutAt, to: cutAt + CUT_MS };
    // Held by now on every server (a cut line is noticed at once): what Redis keeps for them.
    await sleep(1500);
    const heldSessions = await r.hLen(`${prefix}{${P}}:holds`);
    let bytes = (await r.memoryUsage(`${prefix}{${P}}:holds`)) ?? 0;
    for await (const keys of r.scanIterator({ MATCH: `${prefix}{${P}}:sio:*`, COUNT: 1000 })) {
      for (const k of Array.isArray(keys) ? keys : [keys]) bytes += (await r.memoryUsage(k)) ?? 0;
    }
    const deadlines = await r.zRangeByScore(`${prefix}deadlines`, '-inf', '+inf');
    // A sorted-set member costs its string plus the skiplist node (~ 40 bytes + the score).
    bytes += deadlines.filter((d) => d.startsWith('session\n')).reduce((n, d) => n + d.length + 48, 0);
    await sleep(Math.max(0, cutAt + CUT_MS - Date.now()));
    const upAt = performance.now();
    for (const relay of relays) relay.down = false;
    const deadline = Date.now() + 30_000;
    while (blippers.some((m) => m.connects.length < 2) && Date.now() < deadline) await sleep(20);
    for (const m of blippers) if (m.away) m.away.to = Date.now();
    await sleep(4000);
    chatting = false;
    await Promise.all(chatLoops);
    // Everything sent has arrived everywhere (the stream delivers in order; a last marker).
    const marker = await ack(first.socket, 'chat', { roomId, type: 'N', msg: 'end' });
    const endId = marker.id as string;
    const until = Date.now() + 10_000;
    while (members.slice(1).some((m) => !m.got.has(endId)) && Date.now() < until) await sleep(20);

    let exactlyOnce = 0;
    let missing = 0;
    let duplicates = 0;
    for (const m of blippers) {
      let ok = true;
      for (const s of sent) {
        if (s.by === m.userUID) continue;
        const n = m.got.get(s.id) ?? 0;
        if (n === 0) missing += 1;
        if (n > 1) duplicates += n - 1;
        if (n !== 1) ok = false;
      }
      if (ok) exactlyOnce += 1;
    }
    const resume = blippers.filter((m) => m.connects.length >= 2).map((m) => m.connects[1]! - upAt).sort((a, b) => a - b);
    const result: BlipResult = {
      members: MEMBERS,
      blipped: blippers.length,
      cutMs: CUT_MS,
      messagesSent: sent.length,
      leaveRoomSeen: stayers.reduce((n, m) => n + m.leaves, 0),
      joinRoomSeen: stayers.reduce((n, m) => n + m.joins, 0),
      exactlyOnce,
      missing,
      duplicates,
      messagesRecovered: blippers.reduce((n, m) => n + m.recoveredAfter, 0),
      recovered: blippers.filter((m) => m.socket.recovered).length,
      resumedBySession: blippers.filter((m) => m.resumedBySession).length,
      resumeMs: { p50: Math.round(quantile(resume, 0.5)), p99: Math.round(quantile(resume, 0.99)), max: Math.round(resume.at(-1) ?? 0) },
      redisBytesPerHeldSession: heldSessions > 0 ? Math.round(bytes / heldSessions) : 0,
      heldSessions,
    };
    log(`  ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const m of members) m.socket.disconnect();
    await Promise.all(relays.map((x) => x.close()));
    await r.close().catch(() => {});
    await Promise.all(servers.map((s) => s.stop()));
    untrackRedis();
    await redis.remove();
  }
}
