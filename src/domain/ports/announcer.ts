/**
 * How a state store delivers the events whose order across servers matters, inside the decision
 * that causes them (see `StateStore`). A port of the domain so that the store never needs the
 * transport: the transport's `Delivery` is one, and a store of this process is handed one
 * through its broker (`src/state/memory/memory-broker.ts`); a shared store appends to the socket.io
 * adapter's stream instead and needs none.
 */
import type { ServerEventName, ServerToClientEvents } from '../../protocol/index.js';

export type EventArgs<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>;

export interface Announcer {
  /** Every socket of the programme that sits in no room, except `except` when given. The
   * creator of a room is excepted from its `addRoom`: it may still be in the lobby when the
   * decision announces it. */
  toLobby<E extends ServerEventName>(p: string, except: string | null, event: E, ...args: EventArgs<E>): void;
  /** A room's lobby news (`count`, `deleteRoom`): the lobby when the room is in the featured
   * view (`inView`), else the sockets watching the room (`watchRooms`). Watches last while a
   * socket sits in the lobby, so a watcher hears the news of a room in view with the lobby. */
  toLobbyOf<E extends ServerEventName>(p: string, roomId: string, inView: boolean, event: E, ...args: EventArgs<E>): void;
  /** Every socket in the room, except `except` when given. */
  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void;
  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void;
}
