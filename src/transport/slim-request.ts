/**
 * engine.io keeps each connection's first HTTP request (`conn.request`, an IncomingMessage with
 * its stream state, raw header list and strings) for the connection's whole life, only so that
 * socket.io can build `socket.handshake` at each namespace CONNECT and onair can read the
 * headers (token, `X-Forwarded-For`) and query then. socket.io's memory guide drops it outright
 * (`rawSocket.request = null`), which would lose the headers and query of every CONNECT after
 * the engine.io handshake (all of them: the CONNECT packet comes later) and the client address
 * behind a proxy. Instead it is swapped, once the engine.io session is open, for a stand-in with
 * just what is read later: `headers` and `_query` (the same objects, so no copy), `url`,
 * `connection.encrypted` (socket.handshake.secure) and `socket` (the TCP/TLS socket, which ws
 * holds anyway; the shutdown spread waits for its close).
 *
 * That alone frees nothing: engine.io's stand-in response for a websocket upgrade
 * (WebSocketResponse, what its middlewares get as `res`) holds the request too, and lives as long
 * as the TLS socket (a 'close' listener of the socket holds it). An engine middleware notes that
 * response on the request, and its `req` is cleared with the swap.
 *
 * Registered after every other 'connection' listener of the engine, so they see the request
 * itself.
 */
import type { IncomingMessage } from 'node:http';
import type { Server as EngineServer, Socket as EngineSocket } from 'engine.io';

export type SlimRequest = Pick<IncomingMessage, 'headers' | 'url' | 'socket'> & {
  _query: Record<string, string>;
  connection: { encrypted: boolean };
};

export function slimRequest(req: IncomingMessage & { _query?: Record<string, string> }): SlimRequest {
  const socket = req.socket;
  return {
    headers: req.headers,
    _query: req._query ?? {},
    url: req.url,
    socket,
    connection: { encrypted: Boolean((socket as { encrypted?: boolean }).encrypted) },
  };
}

const RESPONSE = Symbol('onair.upgradeResponse');
type Noted = IncomingMessage & { _query?: Record<string, string>; [RESPONSE]?: { req: unknown } };

export function slimRequests(engine: EngineServer): void {
  engine.use((req: Noted, res: unknown, next: (err?: Error) => void) => {
    // Only an upgrade's response is noted: a polling request's is a real ServerResponse that
    // ends with its request.
    if (res && typeof res === 'object' && !('statusCode' in res) && (res as { req?: unknown }).req === req) req[RESPONSE] = res as { req: unknown };
    next();
  });
  engine.on('connection', (conn: EngineSocket) => {
    const req = conn.request as Noted;
    const res = req[RESPONSE];
    if (res) {
      res.req = null;
      delete req[RESPONSE];
    }
    (conn as unknown as { request: SlimRequest }).request = slimRequest(req);
  });
}
