/**
 * Load for the app API: sockets held in the programmes feed `/_programs` (counting the `viewers`
 * each gets), programme sockets to compare them with, and keep-alive HTTPS requests to
 * `GET /v1/programs/on-air`, with or without `If-None-Match`.
 */
import { Agent, request } from 'node:https';
import { io, type Socket } from 'socket.io-client';
import { connectOnair, devAuth } from '../lib/onair-client.js';
import { serve } from '../lib/rpc.js';
import { encode, newHistogram, now } from '../lib/stats.js';

let feeds: { socket: Socket; viewers: number }[] = [];
let viewers: Socket[] = [];

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

function openFeed(url: string, ca: string): Promise<{ socket: Socket; viewers: number }> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/_programs`, { transports: ['websocket'], reconnection: false, forceNew: true, ca });
    const held = { socket, viewers: 0 };
    socket.on('viewers', () => void (held.viewers += 1));
    const timer = setTimeout(() => (socket.close(), reject(new Error('feed connect timeout'))), 30_000);
    socket.once('loadPrograms', () => (clearTimeout(timer), resolve(held)));
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.close(), reject(err)));
  });
}

serve({
  async openFeeds(a: { url: string; ca: string; count: number; concurrency: number }) {
    let failed = 0;
    let firstError = '';
    await pool(a.count, a.concurrency, async () => {
      try {
        feeds.push(await openFeed(a.url, a.ca));
      } catch (err) {
        failed += 1;
        firstError ||= String(err);
      }
    });
    return { opened: feeds.length, failed, firstError };
  },
  async openViewers(a: { url: string; ca: string; program: string; count: number; prefix: string; concurrency: number }) {
    let failed = 0;
    await pool(a.count, a.concurrency, async (i) => {
      try {
        viewers.push(await connectOnair(a.url, a.ca, a.program, devAuth(`${a.prefix}-${i}`)));
      } catch {
        failed += 1;
      }
    });
    return { opened: viewers.length, failed };
  },
  feedStats() {
    const counts = feeds.map((f) => f.viewers);
    return { sockets: feeds.length, min: Math.min(...counts), max: Math.max(...counts), total: counts.reduce((s, n) => s + n, 0) };
  },
  closeAll() {
    for (const f of feeds) f.socket.close();
    for (const v of viewers) v.close();
    const n = feeds.length + viewers.length;
    feeds = [];
    viewers = [];
    return n;
  },
  /** Requests for `seconds` from `concurrency` keep-alive connections. */
  async http(a: { url: string; ca: string; path: string; etag?: string; seconds: number; concurrency: number }) {
    const agent = new Agent({ keepAlive: true, maxSockets: a.concurrency, ca: a.ca });
    const hist = newHistogram();
    const statuses: Record<string, number> = {};
    let bytes = 0;
    let errors = 0;
    const end = now() + a.seconds * 1000;
    const one = () =>
      new Promise<void>((resolve) => {
        const t0 = now();
        const req = request(`${a.url}${a.path}`, { agent, headers: a.etag ? { 'if-none-match': a.etag } : {} }, (res) => {
          res.on('data', (c: Buffer) => void (bytes += c.length));
          res.on('end', () => {
            statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
            hist.recordValue(Math.max(1, Math.round((now() - t0) * 1000)));
            resolve();
          });
        });
        req.on('error', () => ((errors += 1), resolve()));
        req.end();
      });
    const t0 = now();
    await Promise.all(Array.from({ length: a.concurrency }, async () => {
      while (now() < end) await one();
    }));
    const seconds = (now() - t0) / 1000;
    agent.destroy();
    const count = Object.values(statuses).reduce((s, n) => s + n, 0);
    return { count, seconds, statuses, errors, bytes, hist: encode(hist) };
  },
});
