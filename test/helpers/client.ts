/**
 * Real socket.io clients and event-driven waiting: every wait is for an event, with a timeout.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { afterEach, expect } from 'vitest';
import type { AckResult, ClientToServerEvents, RoomSummary, ServerToClientEvents } from '../../src/protocol/index.js';
import type { TestServer } from './server.js';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
export const WAIT_MS = 3000;

const clients = new Set<Socket>();
afterEach(() => {
  for (const c of clients) c.disconnect();
  clients.clear();
});

export interface Who {
  userUID: string;
  displayName: string;
  photoURL?: string;
}

let counter = 0;
export function user(name?: string): Who {
  counter += 1;
  const n = name ?? `user${counter}`;
  return { userUID: `${n}-${process.pid}-${counter}`, displayName: n };
}

/** A client that has not connected yet (`autoConnect: false`), with events recorded from the start. */
export function client(
  server: TestServer,
  program: string,
  opts: Partial<ManagerOptions & SocketOptions> = {},
): Client & { events: Recorder } {
  const socket = io(`${server.url}/${program}`, {
    path: server.config.socketPath,
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    forceNew: true,
    ...(server.ca ? { ca: server.ca } : {}),
    ...opts,
  }) as Client & { events: Recorder };
  clients.add(socket);
  socket.events = new Recorder(socket);
  return socket;
}

/** Connect with a dev identity and wait for the `loadRooms` every new socket gets. */
export async function join(
  server: TestServer,
  program: string,
  who: Who = user(),
  opts: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Client & { events: Recorder; who: Who; rooms: RoomSummary[] }> {
  const c = client(server, program, { auth: who, ...opts }) as Client & { events: Recorder; who: Who; rooms: RoomSummary[] };
  c.who = who;
  const loaded = c.events.next('loadRooms');
  c.connect();
  [c.rooms] = (await loaded) as [RoomSummary[]];
  return c;
}

/** Wait for the handshake's outcome: resolves with the `connect_error`, rejects on connect. */
export function refusal(c: Socket): Promise<Error & { data?: { code: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no connect_error')), WAIT_MS);
    c.once('connect_error', (err) => (clearTimeout(t), resolve(err as Error & { data?: { code: string; message: string } })));
    c.once('connect', () => (clearTimeout(t), reject(new Error('connected, expected a refusal'))));
    if (!c.connected && !c.active) c.connect();
  });
}

/** How a handshake with `auth` ends: `connected` (then disconnected again), or the refusal's code. */
export async function handshakeOutcome(server: TestServer, program: string, who: Who): Promise<string> {
  const c = client(server, program, { auth: who });
  try {
    const err = await refusal(c);
    return err.data?.code ?? err.message;
  } catch (err) {
    if (!c.connected) throw err;
    c.disconnect();
    return 'connected';
  }
}

/** Emit with an acknowledgement and wait for it. */
export function call<T extends object = Record<string, unknown>>(c: Socket, event: string, ...args: unknown[]): Promise<AckResult<T>> {
  return c.timeout(WAIT_MS).emitWithAck(event, ...args) as Promise<AckResult<T>>;
}

/** Create a room and return its id, asserting the call succeeded. */
export async function createOk(c: Socket, payload: Record<string, unknown>): Promise<string> {
  const res = (await call<{ roomId: string }>(c, 'createRoom', payload));
  expect(res).toMatchObject({ ok: true });
  return (res as { roomId: string }).roomId;
}

export async function joinOk(c: Socket, payload: Record<string, unknown>): Promise<void> {
  expect(await call(c, 'joinRoom', payload)).toMatchObject({ ok: true });
}

export interface Seen {
  event: string;
  args: unknown[];
  at: number;
}

/** Every event a socket received, in order, with waits that look back and forward. */
export class Recorder {
  readonly log: Seen[] = [];
  private waiters: { from: number; match: (s: Seen) => boolean; resolve: (s: Seen) => void }[] = [];

  constructor(socket: Socket) {
    const push = (event: string, args: unknown[]) => {
      const seen: Seen = { event, args, at: performance.now() };
      this.log.push(seen);
      const index = this.log.length - 1;
      this.waiters = this.waiters.filter((w) => (index >= w.from && w.match(seen) ? (w.resolve(seen), false) : true));
    };
    socket.onAny((event: string, ...args: unknown[]) => push(event, args));
    socket.on('disconnect', (reason) => push('disconnect', [reason]));
  }

  /** Events named `event` (optionally matching) seen so far. */
  all(event: string, match: (...args: any[]) => boolean = () => true): Seen[] {
    return this.log.filter((s) => s.event === event && match(...s.args));
  }

  /** The next `event` from now on (not one already seen). */
  next(event: string, match: (...args: any[]) => boolean = () => true, timeoutMs = WAIT_MS): Promise<unknown[]> {
    return this.wait(this.log.length, event, match, timeoutMs);
  }

  /** The first `event` matching, whether already seen or still to come. */
  some(event: string, match: (...args: any[]) => boolean = () => true, timeoutMs = WAIT_MS): Promise<unknown[]> {
    return this.wait(0, event, match, timeoutMs);
  }

  private wait(from: number, event: string, match: (...args: any[]) => boolean, timeoutMs: number): Promise<unknown[]> {
    const test = (s: Seen) => s.event === event && match(...s.args);
    const found = this.log.slice(from).find(test);
    if (found) return Promise.resolve(found.args);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), timeoutMs);
      this.waiters.push({ from, match: test, resolve: (s) => (clearTimeout(t), resolve(s.args)) });
    });
  }
}
