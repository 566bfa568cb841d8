/**
 * The lightest onair client: bare `ws` speaking engine.io 4 and socket.io's text packets by hand
 * (open, namespace CONNECT with the auth, events, acks). The server sees exactly the frames
 * socket.io-client sends. It exists so that the load generator costs what the raw baseline's
 * clients cost: socket.io-client spends more CPU per handshake (four processes on one core drove
 * 128 handshakes/s, these 188-228, 2026-12-02) and per delivery (engine.io and socket.io
 * decoding, its emitter), and on two cores that CPU is taken from the server being measured.
 */
import type { Agent } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import WebSocket from 'ws';

const contexts = new Map<string, SecureContext>();
/** One TLS context per trusted certificate: given `ca` alone, Node builds a new context (parses
 * the PEM, fills a certificate store) for every connection, which cost the client more than
 * its whole handshake. */
export function trusting(ca: string): SecureContext {
  let ctx = contexts.get(ca);
  if (!ctx) contexts.set(ca, (ctx = createSecureContext({ ca })));
  return ctx;
}

/** Which client the bench's onair load uses, from `envName` (BENCH_ONAIR_CLIENT for fan-out,
 * BENCH_HS_CLIENT for handshakes): `wire` (default) or `socket.io`. */
export function loadClient(envName: string): 'wire' | 'socket.io' {
  const c = process.env[envName] ?? 'wire';
  if (c !== 'wire' && c !== 'socket.io') throw new Error(`${envName} must be wire or socket.io, not ${c}`);
  return c;
}

/** Whether the TLS socket under a `ws` client resumed its session from a ticket. */
export function resumedTls(ws: WebSocket): boolean {
  return (ws as unknown as { _socket?: { isSessionReused?: () => boolean } })._socket?.isSessionReused?.() ?? false;
}

export interface WireSocket {
  /** The TLS session was resumed from a ticket. */
  resumed: boolean;
  emit(event: string, arg: unknown): void;
  emitWithAck<T>(event: string, arg: unknown, timeoutMs?: number): Promise<T>;
  /** One handler per event; it gets the event's first argument. */
  on(event: string, handler: (arg: never) => void): void;
  close(): void;
}

export interface WireOptions {
  /** In the URL's query, as the seed's client sends its identity. */
  query?: Record<string, string>;
  /** Every frame the server sends, as it arrives (before it is dispatched). */
  onFrame?: (frame: string) => void;
}

/** `url` is the server's https URL; resolves once the namespace's `loadRooms` arrives (the
 * server's "you are in", as for the socket.io-client of bench/lib/onair-client.ts). `auth` null:
 * a CONNECT without a payload, as the seed's client (socket.io-client 3) sends it. */
export function wireConnect(
  url: string,
  ca: string,
  program: string,
  auth: Record<string, string> | null,
  timeoutMs = 30_000,
  agent?: Agent,
  options: WireOptions = {},
): Promise<WireSocket> {
  const nsp = `/${program}`;
  const event = `42${nsp},`;
  const ackOf = `43${nsp},`;
  const handlers = new Map<string, (arg: never) => void>();
  const acks = new Map<number, (args: unknown[]) => void>();
  let nextAck = 0;
  let connected = false;
  return new Promise((resolve, reject) => {
    const query = options.query ? `&${new URLSearchParams(options.query).toString()}` : '';
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket${query}`, { secureContext: trusting(ca), agent, perMessageDeflate: false } as WebSocket.ClientOptions);
    const timer = setTimeout(() => fail(new Error('connect timeout')), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    const socket: WireSocket = {
      resumed: false,
      emit: (name, arg) => ws.send(`${event}${JSON.stringify([name, arg])}`),
      emitWithAck: <T>(name: string, arg: unknown, ms = 20_000) =>
        new Promise<T>((ok, no) => {
          const id = nextAck++;
          const t = setTimeout(() => (acks.delete(id), no(new Error(`${name}: no ack`))), ms);
          acks.set(id, (args) => (clearTimeout(t), ok(args[0] as T)));
          ws.send(`${event}${id}${JSON.stringify([name, arg])}`);
        }),
      on: (name, handler) => void handlers.set(name, handler),
      // A namespace DISCONNECT, then the close frame, as socket.io-client's close() does.
      close: () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(`41${nsp},`);
        ws.close();
      },
    };
    ws.on('error', fail);
    ws.on('message', (data) => {
      const frame = data.toString();
      options.onFrame?.(frame);
      if (frame.startsWith(event)) {
        // The name without parsing the frame: most frames have no handler and are not parsed.
        const name = frame.slice(event.length + 2, frame.indexOf('"', event.length + 2));
        const handler = handlers.get(name);
        if (name === 'loadRooms' && !connected) {
          connected = true;
          clearTimeout(timer);
          socket.resumed = resumedTls(ws);
          resolve(socket);
        }
        if (handler) handler((JSON.parse(frame.slice(event.length)) as [string, never])[1]);
      } else if (frame.startsWith(ackOf)) {
        const open = frame.indexOf('[', ackOf.length);
        const id = Number(frame.slice(ackOf.length, open));
        acks.get(id)?.(JSON.parse(frame.slice(open)) as unknown[]);
        acks.delete(id);
      } else if (frame.startsWith('0{')) ws.send(auth ? `40${nsp},${JSON.stringify(auth)}` : `40${nsp},`);
      else if (frame === '2') ws.send('3');
      else if (frame.startsWith(`44${nsp},`)) fail(new Error(`connect_error ${frame.slice(nsp.length + 3)}`));
    });
  });
}
