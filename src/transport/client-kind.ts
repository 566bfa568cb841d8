/**
 * Which client is on the other end. The seed app (socket.io-client 3.1) sends its identity in the
 * handshake query and no `auth` payload; onair's own clients (the SDK, the console, any v4 client
 * written against docs/protocol.md) send their identity or token in `auth`. The seed app's
 * reactions to a disconnect differ (it reconnects at once after a server-side disconnect), so the
 * server needs to know which one it is talking to before it drops a socket.
 */
import type { Socket } from 'socket.io';

/** True when the handshake carried no `auth` payload: identity or token came from the query or a
 * header. (The socket.io client version is no help: 3.1 and 4.x speak the same engine.io
 * protocol, EIO=4.) */
export function isSeedProtocol(socket: Pick<Socket, 'handshake'>): boolean {
  const auth: unknown = socket.handshake.auth;
  return typeof auth !== 'object' || auth === null || Object.keys(auth).length === 0;
}
