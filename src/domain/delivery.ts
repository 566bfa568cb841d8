/**
 * How the domain reaches clients, without knowing the transport. The socket.io implementation
 * lives in `server/delivery.ts`; with many servers each call reaches sockets on all of them.
 */
import type { SystemCode } from '../protocol/index.js';
import type { Announcer } from './announcer.js';

export type { EventArgs } from './announcer.js';

/** Why a session ends for good. */
export interface SessionEnd {
  code: Extract<SystemCode, 'DUPLICATE_SESSION' | 'KICKED' | 'BANNED'>;
  message: string;
}

/** Broadcasts (`toLobby`, `toRoom`, `toSocket`) as an `Announcer`, so that a store of this
 * process can announce through it, plus the routing of sockets. */
export interface Delivery extends Announcer {
  /** Route the socket's deliveries to the room only (out of the lobby and any other room). */
  enterRoom(p: string, socketId: string, roomId: string): void;
  /** Route the socket's deliveries to the lobby only. */
  enterLobby(p: string, socketId: string): void;
  /**
   * End the session for good: the socket gets `system` with `end`, a seed-protocol socket also
   * `insufficient` (so the seed's client does not reconnect at once), then it is disconnected.
   */
  endSession(p: string, socketId: string, end: SessionEnd): void;
}
