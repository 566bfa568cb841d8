/**
 * Disconnects the server makes that a client must not undo by reconnecting at once: the session
 * was replaced by a newer one, kicked, banned, or its programme ended. Everything that ends
 * sessions for good goes through `endFinally`; a disconnect that is not final (this server left
 * the cluster, a client that stopped reading) does not, and a client may come straight back.
 *
 * Why: the seed's client (socket.io-client 3.1) answers a server-side disconnect by calling
 * `connect()` at once and gives up only on `insufficient`. Without it, two devices of one user
 * replace each other for ever, and a kicked client is back within milliseconds.
 */
import type { SystemCode } from '../protocol/index.js';
import { AUTH_CLIENTS } from './channels.js';

export type FinalCode = Extract<SystemCode, 'DUPLICATE_SESSION' | 'KICKED' | 'BANNED' | 'PROGRAM_ENDED'>;
export interface FinalNotice {
  code: FinalCode;
  message: string;
}

type Emits = { emit(event: 'system' | 'insufficient', notice: FinalNotice): boolean };
/** A namespace or a broadcast operator (`nsp.to(socketId)`, `nsp.local`): through the adapter,
 * so sockets on other servers are reached in the order of these calls. */
export interface FinalTarget extends Emits {
  except(room: string): Emits;
  disconnectSockets(close?: boolean): void;
}

/**
 * Tell the target's sockets why (`system`, unless `told` already), tell its seed-protocol sockets
 * to give up (`insufficient`), then disconnect them all. Both notices are queued on the socket's
 * connection before the disconnect, so they arrive first.
 */
export function endFinally(target: FinalTarget, notice: FinalNotice, told = false): void {
  if (!told) target.emit('system', notice);
  target.except(AUTH_CLIENTS).emit('insufficient', notice);
  target.disconnectSockets(true);
}
