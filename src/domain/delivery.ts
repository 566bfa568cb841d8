/**
 * How the domain reaches clients, without knowing the transport. The socket.io implementation
 * lives in `server/delivery.ts`; with many servers each call reaches sockets on all of them.
 */
import type { ServerEventName, ServerToClientEvents } from '../protocol/index.js';

export type EventArgs<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>;

export interface Delivery {
  /** Every socket of the programme that sits in no room. */
  toLobby<E extends ServerEventName>(p: string, event: E, ...args: EventArgs<E>): void;
  /** Every socket in the room, except `except` when given. */
  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void;
  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void;
  /** Route the socket's deliveries to the room only (out of the lobby and any other room). */
  enterRoom(p: string, socketId: string, roomId: string): void;
  /** Route the socket's deliveries to the lobby only. */
  enterLobby(p: string, socketId: string): void;
  disconnect(p: string, socketId: string): void;
}
