/**
 * A rolling restart without a stampede. Every socket is told `SERVER_SHUTDOWN` with its own
 * `retryAfterMs`, drawn at random over `SHUTDOWN_SPREAD_MS`, so onair's own clients come back
 * spread out. The seed app cannot be told: on a socket.io disconnect it reconnects at once, so
 * all of its sockets would be back on the other servers in the same instant. Its sockets are
 * not disconnected; their transport is closed instead, each at its own moment of the spread,
 * and the app sees `transport close`, which it answers with socket.io-client's randomised
 * back-off.
 */
import { isSeedProtocol } from './client-kind.js';
import type { OnAirSocket } from './types.js';

export const SHUTDOWN_MESSAGE = 'The server is restarting; reconnect shortly.';

/** How long past the spread a seed socket's transport may take to close before it is cut. */
const CLOSE_MARGIN_MS = 500;
/** How long a told socket's DISCONNECT may take to leave before the server closes anyway. */
const DISCONNECT_FLUSH_MS = 1000;

export interface ShutdownSpread {
  /** Sockets of clients that read `retryAfterMs`. */
  readonly told: OnAirSocket[];
  /** Disconnect the told sockets; settles once their connections are closed (a second at most).
   * The server's own close cuts what is still under way, and a lost DISCONNECT would leave a
   * v4 client to reconnect on its own back-off instead of after `retryAfterMs`. */
  disconnectTold(): Promise<void>;
  /** Seed-protocol sockets whose transports close over the spread. */
  readonly seed: number;
  /** Settles when every seed socket is gone, or a little after the spread at the latest. */
  readonly done: Promise<void>;
}

export function spreadShutdown(sockets: Iterable<OnAirSocket>, spreadMs: number, random: () => number = Math.random): ShutdownSpread {
  const told: OnAirSocket[] = [];
  const gone: Promise<void>[] = [];
  const notices: Promise<void>[] = [];
  for (const socket of sockets) {
    if (!socket.connected) continue;
    const retryAfterMs = Math.floor(random() * spreadMs);
    const out = written(socket);
    socket.emit('system', { code: 'SERVER_SHUTDOWN', message: SHUTDOWN_MESSAGE, retryAfterMs });
    if (!isSeedProtocol(socket)) {
      told.push(socket);
      notices.push(out);
      continue;
    }
    gone.push(
      new Promise<void>((resolve) => {
        // engine.io's close lets the notice above drain first, then ends the transport without
        // a socket.io DISCONNECT packet: the client sees `transport close`.
        const timer = setTimeout(() => socket.conn.close(), retryAfterMs);
        socket.once('disconnect', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    );
  }
  const done = settledWithin(gone, spreadMs + CLOSE_MARGIN_MS);
  const disconnectTold = async () => {
    // With connection state recovery on (spec 7.1), an emit reaches its socket through the
    // adapter (with Redis, after its stream write): the notice must be out before the disconnect.
    await settledWithin(notices, DISCONNECT_FLUSH_MS);
    const closed = told.map((socket) => {
      // engine.io reports a WebSocket closed once it has asked for the close; the bytes before
      // it are out only when the TCP connection itself ends (after the closing handshake).
      const line = socket.conn.transport.name === 'websocket' ? socket.request.socket : null;
      const conn = socket.conn;
      const p =
        line && !line.destroyed
          ? new Promise<void>((resolve) => line.once('close', () => resolve()))
          : conn.readyState === 'closed'
            ? Promise.resolve()
            : new Promise<void>((resolve) => conn.once('close', () => resolve()));
      socket.disconnect(true);
      return p;
    });
    await settledWithin(closed, DISCONNECT_FLUSH_MS);
  };
  return { told, disconnectTold, seed: gone.length, done };
}

/** Settles once a `system` packet is on the socket's connection (a second at most). */
function written(socket: OnAirSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, DISCONNECT_FLUSH_MS);
    function done(): void {
      clearTimeout(timer);
      socket.offAnyOutgoing(sent);
      resolve();
    }
    function sent(event: string): void {
      if (event === 'system') done();
    }
    socket.onAnyOutgoing(sent);
  });
}

async function settledWithin(all: Promise<void>[], ms: number): Promise<void> {
  if (all.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(all), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
