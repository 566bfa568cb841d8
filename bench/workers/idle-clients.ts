/**
 * Connection load: many idle socket.io clients held open (for RSS per connection), and
 * connect + disconnect cycles with JWTs (for handshakes per second). A connection counts once
 * its `loadRooms` arrives: TLS, the socket.io handshake, authentication and the session are done.
 */
import { Agent } from 'node:https';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { resumedTls, trusting, wireConnect } from '../lib/wire-client.js';
import { serve } from '../lib/rpc.js';
import { encode, newHistogram, now } from '../lib/stats.js';

let held: Socket[] = [];
/** The tokens of the last `cycles` call, for returning clients (`again`). */
let lastTokens: string[] = [];
/** One TLS session cache for this process's clients: a returning client resumes. */
let agent: Agent | undefined;


/** Run `n` tasks with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** The TLS socket under a connected client (engine.io-client's transport, ws, its socket). */
function tlsOf(socket: Socket): { isSessionReused(): boolean } | undefined {
  const ws = (socket.io.engine.transport as unknown as { ws?: { _socket?: { isSessionReused?: () => boolean } } }).ws;
  const s = ws?._socket;
  return s && typeof s.isSessionReused === 'function' ? (s as { isSessionReused(): boolean }) : undefined;
}

/** One handshake by the chosen client; resolves when it is in. */
async function cycle(client: 'socket.io' | 'wire' | 'raw', url: string, ca: string, program: string, token: string, agent?: Agent): Promise<{ resumed: boolean; close(): void }> {
  if (client === 'wire') return wireConnect(url, ca, program, { token }, 30_000, agent);
  if (client === 'raw') {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { secureContext: trusting(ca), agent, perMessageDeflate: false } as WebSocket.ClientOptions);
    await new Promise<void>((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    return { resumed: resumedTls(ws), close: () => ws.close() };
  }
  const socket = await connectOnair(url, ca, program, { token }, 30_000, agent);
  return { resumed: tlsOf(socket)?.isSessionReused() ?? false, close: () => socket.close() };
}

serve({
  async open(a: { url: string; ca: string; program: string; count: number; prefix: string; concurrency: number }) {
    const t0 = now();
    let failed = 0;
    let firstError = '';
    await pool(a.count, a.concurrency, async (i) => {
      const uid = `${a.prefix}-${i}`;
      try {
        held.push(await connectOnair(a.url, a.ca, a.program, devAuth(uid)));
      } catch (err) {
        failed += 1;
        firstError ||= String(err);
      }
    });
    return { opened: held.length, failed, firstError, ms: now() - t0 };
  },
  closeAll() {
    for (const s of held) s.close();
    const n = held.length;
    held = [];
    return n;
  },
  /** `count` connect + disconnect cycles with freshly signed HS256 tokens (signed before timing). */
  /** `again`: the previous call's tokens (a returning client still has its token); `resume`:
   * clients resume their TLS session from this process's session cache (tickets). `client`:
   * socket.io-client (default), `wire` (the same frames from bare `ws`, bench/lib/wire-client.ts),
   * or `raw` (a bare websocket to the raw baseline, done at `open`: the floor under a handshake). */
  async cycles(a: { url: string; ca: string; program: string; count: number; prefix: string; concurrency: number; secret: string; again?: boolean; resume?: boolean; client?: 'socket.io' | 'wire' | 'raw' }) {
    const key = new TextEncoder().encode(a.secret);
    const tokens =
      a.again && lastTokens.length >= a.count
        ? lastTokens.slice(0, a.count)
        : await Promise.all(
            Array.from({ length: a.count }, (_, i) =>
              new SignJWT({ name: `bench ${i}` }).setProtectedHeader({ alg: 'HS256' }).setSubject(`${a.prefix}-${i}`).setIssuedAt().setExpirationTime('10m').sign(key),
            ),
          );
    lastTokens = tokens;
    // keepAlive off: an upgraded socket leaves the agent; only its TLS session stays cached.
    if (a.resume) agent ??= new Agent({ maxCachedSessions: 100 });
    const use = a.resume ? agent : undefined;
    let resumed = 0;
    const hist = newHistogram();
    let failed = 0;
    let firstError = '';
    const t0 = now();
    await pool(a.count, a.concurrency, async (i) => {
      const s0 = now();
      try {
        const one = await cycle(a.client ?? 'socket.io', a.url, a.ca, a.program, tokens[i]!, use);
        hist.recordValue(Math.max(1, Math.round((now() - s0) * 1000)));
        if (one.resumed) resumed += 1;
        one.close();
      } catch (err) {
        failed += 1;
        firstError ||= String(err);
      }
    });
    return { done: a.count - failed, failed, firstError, ms: now() - t0, hist: encode(hist), resumed };
  },
  shutdown() {
    for (const s of held) s.close();
    held = [];
  },
});
