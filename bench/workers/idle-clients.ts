/**
 * Connection load: many idle socket.io clients held open (for RSS per connection), and
 * connect + disconnect cycles with JWTs (for handshakes per second). A connection counts once
 * its `loadRooms` arrives: TLS, the socket.io handshake, authentication and the session are done.
 */
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { serve } from '../lib/rpc.js';
import { encode, newHistogram, now } from '../lib/stats.js';

let held: Socket[] = [];


/** Run `n` tasks with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
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
  async cycles(a: { url: string; ca: string; program: string; count: number; prefix: string; concurrency: number; secret: string }) {
    const key = new TextEncoder().encode(a.secret);
    const tokens = await Promise.all(
      Array.from({ length: a.count }, (_, i) =>
        new SignJWT({ name: `bench ${i}` }).setProtectedHeader({ alg: 'HS256' }).setSubject(`${a.prefix}-${i}`).setIssuedAt().setExpirationTime('10m').sign(key),
      ),
    );
    const hist = newHistogram();
    let failed = 0;
    let firstError = '';
    const t0 = now();
    await pool(a.count, a.concurrency, async (i) => {
      const s0 = now();
      try {
        const socket = await connectOnair(a.url, a.ca, a.program, { token: tokens[i]! });
        hist.recordValue(Math.max(1, Math.round((now() - s0) * 1000)));
        socket.close();
      } catch (err) {
        failed += 1;
        firstError ||= String(err);
      }
    });
    return { done: a.count - failed, failed, firstError, ms: now() - t0, hist: encode(hist) };
  },
  shutdown() {
    for (const s of held) s.close();
    held = [];
  },
});
