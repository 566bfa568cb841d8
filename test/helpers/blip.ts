/**
 * What the blip tests (spec 7.1) share, on one server and across servers: a v4 client that
 * reaches a server through a TCP relay and reconnects quickly by itself, as a phone's app would,
 * and ways to read what a member saw after a mark in its log.
 */
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { expect } from 'vitest';
import { call, Recorder, user, WAIT_MS, type Client, type Who } from './client.js';
import type { Relay } from './relay.js';
import type { TestServer } from './server.js';

export type Blipper = Client & { events: Recorder; who: Who };

const opened = new Set<{ disconnect(): unknown }>();

/** Anything with `disconnect()` that a test opened, closed by `closeOpened()` after it. */
export function remember<T extends { disconnect(): unknown }>(c: T): T {
  opened.add(c);
  return c;
}

export function closeOpened(): void {
  for (const s of opened) s.disconnect();
  opened.clear();
}

/** A v4 client through the relay, connected and with its lobby loaded. */
export async function viaRelay(relay: Relay, server: TestServer, p: string, who: Who = user(), opts: Partial<ManagerOptions & SocketOptions> = {}): Promise<Blipper> {
  const c = remember(
    io(`${relay.url(server)}/${p}`, {
      path: server.config.socketPath,
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      randomizationFactor: 0,
      forceNew: true,
      autoConnect: false,
      auth: who,
      ...(server.ca ? { ca: server.ca } : {}),
      ...opts,
    }) as Blipper,
  );
  c.events = new Recorder(c);
  c.who = who;
  const loaded = c.events.next('loadRooms');
  c.connect();
  await loaded;
  return c;
}

/** The next connection's `connect` (after a blip). */
export function reconnected(c: Blipper, timeoutMs = WAIT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('did not reconnect')), timeoutMs);
    c.once('connect', () => (clearTimeout(t), resolve()));
  });
}

/** What `c` saw after `mark` (an index into its log). */
export const since = (c: { events: Recorder }, mark: number, event: string) => c.events.log.slice(mark).filter((s) => s.event === event);

export async function say(c: Client, roomId: string, msg: string): Promise<void> {
  expect(await call(c, 'chat', { roomId, type: 'N', msg })).toMatchObject({ ok: true });
}

/**
 * `c` has heard each of `members` join. A join's ack can reach the joiner before the other
 * servers deliver its `joinRoom`: a mark taken before this would count that join as new.
 */
export async function heardJoins(c: { events: Recorder }, ...members: { who: Who }[]): Promise<void> {
  for (const m of members) await c.events.some('joinRoom', (u: { userUID: string }) => u.userUID === m.who.userUID);
}
