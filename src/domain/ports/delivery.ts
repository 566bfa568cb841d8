/**
 * How the domain reaches clients, without knowing the transport. The socket.io implementation
 * lives in `transport/delivery.ts`; with many servers each call reaches sockets on all of them.
 */
import type { ServerEventName, SystemCode } from '../../protocol/index.js';
import type { Announcer, EventArgs } from './announcer.js';

export type { EventArgs } from './announcer.js';

/** Why a session ends for good. */
export interface SessionEnd {
  code: Extract<SystemCode, 'DUPLICATE_SESSION' | 'KICKED' | 'BANNED'>;
  message: string;
}

/** Why every session of a programme ends for good. */
export interface ProgrammeEnd {
  code: Extract<SystemCode, 'PROGRAM_ENDED'>;
  message: string;
}

/** This server's sockets of the programme, or every server's. */
export type Reach = 'here' | 'everywhere';

/** Broadcasts (`toLobby`, `toRoom`, `toSocket`) as an `Announcer`, so that a store of this
 * process can announce through it, plus the routing of sockets. */
export interface Delivery extends Announcer {
  /** Route the socket's deliveries to the room only (out of the lobby and any other room). */
  enterRoom(p: string, socketId: string, roomId: string): void;
  /** Route the socket's deliveries to the lobby only. `fromRoom`: the room it is taken out of
   * while that room carries on (a removal), which a socket on another server must leave too. */
  enterLobby(p: string, socketId: string, fromRoom?: string): void;
  /**
   * End the session for good: the socket gets `system` with `end`, a seed-protocol socket also
   * `insufficient` (so the seed's client does not reconnect at once), then it is disconnected.
   */
  endSession(p: string, socketId: string, end: SessionEnd): void;
  /** Every socket of the programme, lobby and rooms alike. */
  toProgramme<E extends ServerEventName>(p: string, reach: Reach, event: E, ...args: EventArgs<E>): void;
  /** End every session of the programme for good, as `endSession` does one (`told`: the
   * `system` notice went out already, with `toProgramme`). */
  endProgramme(p: string, reach: Reach, end: ProgrammeEnd, told: boolean): void;
  /** Disconnect every socket of every programme on this server, not for good: they may come
   * straight back (this server was declared dead, or it is closing). */
  disconnectHere(): void;
}
