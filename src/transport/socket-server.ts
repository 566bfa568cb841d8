/**
 * The socket.io server, made before the HTTP server it is attached to (`createApp` attaches it
 * once the plain HTTP routes are in place). Every new engine.io session passes two checks first:
 * a browser's `Origin` (CORS does not cover WebSocket upgrades, so it is checked here for both
 * transports) and the per-address session budget of the gate.
 */
import { Server, type ServerOptions } from 'socket.io';
import type { Config } from '../config/config.js';
import type { ConnectGate } from './connect-gate.js';
import { originRefusal, type OriginRefusal } from './origin.js';
import type { OnAirServer } from './types.js';

export interface SocketServerDeps {
  config: Pick<Config, 'socketPath' | 'transports' | 'maxPayloadBytes' | 'corsOrigins' | 'tls' | 'reconnectGraceMs' | 'pingIntervalMs' | 'pingTimeoutMs'>;
  /** The cluster adapter, with many servers. */
  adapter?: ServerOptions['adapter'] | undefined;
  gate: Pick<ConnectGate, 'allowSession'>;
  metrics: { originRefused(reason: OriginRefusal): void };
}

export function createSocketServer({ config, adapter, gate, metrics }: SocketServerDeps): OnAirServer {
  return new Server({
    path: config.socketPath,
    transports: config.transports,
    maxHttpBufferSize: config.maxPayloadBytes,
    serveClient: false,
    pingInterval: config.pingIntervalMs,
    pingTimeout: config.pingTimeoutMs,
    // With the reconnect grace (spec 7.1), a v4 client coming back within it gets the events it
    // missed from the adapter (the Redis stream, or memory with one server). Its middleware is
    // skipped: a socket awaiting its (asynchronous) checks is not yet among the namespace's
    // sockets and would miss what is broadcast meanwhile. The same checks run once it is in
    // (`Handshake.recheck`, from `Connections`), before its session is opened.
    ...(config.reconnectGraceMs > 0
      ? { connectionStateRecovery: { maxDisconnectionDuration: config.reconnectGraceMs, skipMiddlewares: true } }
      : {}),
    ...(adapter ? { adapter } : {}),
    ...(config.corsOrigins ? { cors: { origin: config.corsOrigins === '*' ? '*' : config.corsOrigins } } : {}),
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      if (origin) {
        const refused = originRefusal(config, origin, req.headers.host);
        if (refused) {
          metrics.originRefused(refused);
          return cb(null, false);
        }
      }
      if (!gate.allowSession(req)) return cb('too many connection attempts, slow down', false);
      cb(null, true);
    },
  });
}
