/**
 * The app API of a test server over its real TLS (certificate verified), and its live feed
 * `/_programs` through a real socket.io client.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { io, type Socket } from 'socket.io-client';
import { afterEach } from 'vitest';
import type { ProgramOnAir, ProgramsFeedEvents, ProgramsOnAir } from '../../src/protocol/index.js';
import { Recorder, WAIT_MS } from './client.js';
import type { TestServer } from './server.js';

export interface AppReply {
  status: number;
  body: any;
  text: string;
  headers: IncomingHttpHeaders;
}

export function appGet(server: Pick<TestServer, 'url' | 'ca'>, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<AppReply> {
  const url = new URL(path, server.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(server.ca ? { ca: server.ca } : {}), timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export type Feed = Socket<ProgramsFeedEvents> & { events: Recorder; list: ProgramsOnAir };

const feeds = new Set<Socket>();
afterEach(() => {
  for (const f of feeds) f.disconnect();
  feeds.clear();
});

/** A socket in `/_programs`, once its `loadPrograms` came. */
export async function openFeed(server: TestServer): Promise<Feed> {
  const socket = io(`${server.url}/_programs`, {
    path: server.config.socketPath,
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    forceNew: true,
    ...(server.ca ? { ca: server.ca } : {}),
  }) as unknown as Feed;
  feeds.add(socket);
  socket.events = new Recorder(socket);
  const loaded = socket.events.next('loadPrograms');
  socket.connect();
  [socket.list] = (await loaded) as [ProgramsOnAir];
  return socket;
}

/**
 * The feed's view of the programmes, as an app keeps it: `loadPrograms`, then every
 * `addProgram`, `removeProgram` and `viewers` applied in order.
 */
export function feedView(feed: Feed): Map<string, ProgramOnAir> {
  const view = new Map<string, ProgramOnAir>();
  for (const s of feed.events.log) {
    if (s.event === 'loadPrograms') {
      view.clear();
      for (const p of (s.args[0] as ProgramsOnAir).programs) view.set(p.scheduleUID, { ...p });
    } else if (s.event === 'addProgram') view.set((s.args[0] as ProgramOnAir).scheduleUID, { ...(s.args[0] as ProgramOnAir) });
    else if (s.event === 'removeProgram') view.delete(s.args[0] as string);
    else if (s.event === 'viewers') {
      for (const [id, n] of Object.entries(s.args[0] as Record<string, number>)) {
        const p = view.get(id);
        if (p) p.viewers = n;
      }
    }
  }
  return view;
}

/** Wait for the next feed event after which `cond` holds of the feed's view. */
export async function feedUntil(feed: Feed, cond: (view: Map<string, ProgramOnAir>) => boolean, what: string, timeoutMs = WAIT_MS * 2): Promise<void> {
  if (cond(feedView(feed))) return;
  const events = ['addProgram', 'removeProgram', 'viewers'];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => (feed.offAny(on), reject(new Error(`timed out waiting until ${what}; feed saw ${JSON.stringify([...feedView(feed).values()])}`))), timeoutMs);
    const on = (event: string) => {
      // The recorder's own listener ran first (it was added first), so the view includes it.
      if (!events.includes(event) || !cond(feedView(feed))) return;
      clearTimeout(t);
      feed.offAny(on);
      resolve();
    };
    feed.onAny(on);
  });
}
