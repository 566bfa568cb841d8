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

export interface ShutdownSpread {
  /** Sockets of clients that read `retryAfterMs`: the caller disconnects them as before. */
  readonly told: OnAirSocket[];
  /** Seed-protocol sockets whose transports close over the spread. */
  readonly seed: number;
  /** Settles when every seed socket is gone, or a little after the spread at the latest. */
  readonly done: Promise<void>;
}

export function spreadShutdown(sockets: Iterable<OnAirSocket>, spreadMs: number, random: () => number = Math.random): ShutdownSpread {
  const told: OnAirSocket[] = [];
  const gone: Promise<void>[] = [];
  for (const socket of sockets) {
    if (!socket.connected) continue;
    const retryAfterMs = Math.floor(random() * spreadMs);
    socket.emit('system', { code: 'SERVER_SHUTDOWN', message: SHUTDOWN_MESSAGE, retryAfterMs });
    if (!isSeedProtocol(socket)) {
      told.push(socket);
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
  let bound: NodeJS.Timeout | undefined;
  const done =
    gone.length === 0
      ? Promise.resolve()
      : Promise.race([
          Promise.all(gone).then(() => undefined),
          new Promise<void>((resolve) => (bound = setTimeout(resolve, spreadMs + CLOSE_MARGIN_MS))),
        ]).finally(() => clearTimeout(bound));
  return { told, seed: gone.length, done };
}
