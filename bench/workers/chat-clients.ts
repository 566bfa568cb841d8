/**
 * Room members for the fan-out scenarios: clients of onair (socket.io-client, or `wire`: bare
 * `ws` sending the same frames, bench/lib/wire-client.ts), or raw `ws` clients of the baseline.
 * They send chat at the rate the orchestrator asks for (round-robin over this worker's members)
 * and time every delivery they receive.
 *
 * A message's text carries `<step> <measured> <send time>`: only messages sent inside a step's
 * measuring window, and received while that step is current, are counted, so warm-up traffic and
 * stragglers from an earlier step never pollute a step's numbers.
 */
import WebSocket from 'ws';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { serve } from '../lib/rpc.js';
import { encode, newHistogram, now } from '../lib/stats.js';
import { trusting, wireConnect } from '../lib/wire-client.js';

type Mode = 'socket.io' | 'wire' | 'raw';
type Ack = { ok: boolean; roomId?: string; code?: string };
interface Member {
  send(roomId: string, msg: string): void;
  close(): void;
  ack?(event: string, arg: unknown): Promise<Ack>;
}

const PAD = ' the quick brown fox jumps over the lazy dog';
let members: Member[] = [];
let mode: Mode = 'wire';
let roomId = '';
let hist = newHistogram();
let currentStep = -1;
let received = 0;
let sentMeasured = 0;
let sender: NodeJS.Timeout | null = null;

function onText(text: string): void {
  // "<step> <measured> <sendTime> ..."
  const a = text.indexOf(' ');
  const b = text.indexOf(' ', a + 1);
  const c = text.indexOf(' ', b + 1);
  if (Number(text.slice(0, a)) !== currentStep || text.slice(a + 1, b) !== '1') return;
  const t = Number(text.slice(b + 1, c));
  received += 1;
  hist.recordValue(Math.max(1, Math.round((now() - t) * 1000)));
}

async function connectMember(url: string, ca: string, program: string, userUID: string): Promise<Member> {
  const socket = await connectOnair(url, ca, program, devAuth(userUID), 20_000);
  socket.on('chat', (m: { msg: string }) => onText(m.msg));
  return {
    send: (room, msg) => void socket.emit('chat', { roomId: room, msg, type: 'N' }),
    close: () => void socket.close(),
    ack: (event, arg) => socket.timeout(20_000).emitWithAck(event, arg) as Promise<Ack>,
  };
}

async function connectWire(url: string, ca: string, program: string, userUID: string): Promise<Member> {
  const socket = await wireConnect(url, ca, program, devAuth(userUID), 20_000);
  socket.on('chat', (m: { msg: string }) => onText(m.msg));
  return {
    send: (room, msg) => socket.emit('chat', { roomId: room, msg, type: 'N' }),
    close: () => socket.close(),
    ack: (event, arg) => socket.emitWithAck<Ack>(event, arg),
  };
}

function connectRaw(url: string, ca: string, userUID: string): Promise<Member> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('https:', 'wss:')}/?userUID=${userUID}&displayName=${userUID.slice(0, 30)}`, { secureContext: trusting(ca) } as WebSocket.ClientOptions);
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('connect timeout'))), 20_000);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ send: (room, msg) => ws.send(JSON.stringify({ roomId: room, msg, type: 'N' })), close: () => ws.close() });
    });
    ws.once('error', (err) => (clearTimeout(timer), reject(err)));
    ws.on('message', (data) => onText((JSON.parse(data.toString()) as { msg: string }).msg));
  });
}

function ack(member: Member, event: string, arg: unknown): Promise<Ack> {
  if (!member.ack) throw new Error('the raw baseline has no acks');
  return member.ack(event, arg);
}

serve({
  async connect(a: { mode: Mode; url: string; ca: string; program: string; count: number; prefix: string }) {
    mode = a.mode;
    // Small batches: a burst of TLS handshakes is not what this scenario measures.
    for (let i = 0; i < a.count; i += 20) {
      const batch = Array.from({ length: Math.min(20, a.count - i) }, (_, j) => {
        const uid = `${a.prefix}-${i + j}`;
        return mode === 'socket.io' ? connectMember(a.url, a.ca, a.program, uid) : mode === 'wire' ? connectWire(a.url, a.ca, a.program, uid) : connectRaw(a.url, a.ca, uid);
      });
      members.push(...(await Promise.all(batch)));
    }
    return members.length;
  },
  async createRoom(a: { title: string; max: number }) {
    const r = await ack(members[0]!, 'createRoom', { title: a.title, max: a.max });
    if (!r.ok || !r.roomId) throw new Error(`createRoom failed: ${r.code}`);
    roomId = r.roomId;
    return roomId;
  },
  async join(a: { roomId: string }) {
    roomId = a.roomId;
    if (mode === 'raw') return members.length; // the baseline has one implicit room
    for (let i = 0; i < members.length; i += 20) {
      const rs = await Promise.all(members.slice(i, i + 20).map((m) => ack(m, 'joinRoom', { roomId })));
      const bad = rs.find((r) => !r.ok);
      if (bad) throw new Error(`joinRoom failed: ${bad.code}`);
    }
    return members.length;
  },
  /** Send `rate` msg/s from this worker for warmupMs + measureMs, then stop by itself. */
  step(a: { step: number; rate: number; warmupMs: number; measureMs: number }) {
    hist.reset();
    received = 0;
    sentMeasured = 0;
    currentStep = a.step;
    const start = now();
    const measureFrom = start + a.warmupMs;
    const end = measureFrom + a.measureMs;
    let sent = 0;
    let next = 0;
    if (sender) clearInterval(sender);
    // A 5 ms tick sends whatever the schedule says is due: exact average rate at any rate, with
    // bursts no longer than one tick.
    sender = setInterval(() => {
      const t = now();
      if (t >= end) {
        clearInterval(sender!);
        sender = null;
        return;
      }
      const due = Math.floor(((t - start) / 1000) * a.rate);
      const measured = t >= measureFrom ? 1 : 0;
      for (; sent < due; sent++) {
        const m = members[next++ % members.length]!;
        m.send(roomId, `${a.step} ${measured} ${now()}${PAD}`);
        if (measured) sentMeasured += 1;
      }
    }, 5);
    return true;
  },
  collect() {
    const out = { sent: sentMeasured, received, hist: encode(hist) };
    currentStep = -1;
    return out;
  },
  shutdown() {
    if (sender) clearInterval(sender);
    for (const m of members) m.close();
    members = [];
    hist = newHistogram();
  },
});
