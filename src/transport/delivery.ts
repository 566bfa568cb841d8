/** The domain's `Delivery` over socket.io: broadcasts go through the namespace's adapter, so
 * with a cluster adapter they reach sockets on every server. This is the one way from the rest
 * of the server to clients; only the transport's own replies (acks, handshakes, the shutdown
 * spread) touch sockets directly. */
import type { Delivery, EventArgs, ProgrammeEnd, Reach, SessionEnd } from '../domain/ports/delivery.js';
import type { ServerEventName } from '../protocol/index.js';
import { AUTH_CLIENTS, LOBBY, LOBBY_BATCHED, roomChannel, watchChannel } from './channels.js';
import { endFinally } from './final-disconnect.js';
import type { ProgrammeRuntimes } from './programme-runtime.js';
import type { OnAirNamespace } from './types.js';

type Emitter = { emit(event: string, ...args: unknown[]): boolean };

export class SocketIoDelivery implements Delivery {
  constructor(private readonly runtimes: ProgrammeRuntimes) {}

  private nsp(p: string): OnAirNamespace {
    return this.runtimes.get(p).nsp;
  }

  toLobby<E extends ServerEventName>(p: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    const target = this.nsp(p).to(LOBBY);
    (((except ? target.except(except) : target) as unknown) as Emitter).emit(event, ...args);
  }

  toLobbyOf<E extends ServerEventName>(p: string, roomId: string, inView: boolean, event: E, ...args: EventArgs<E>): void {
    ((this.nsp(p).to(inView ? LOBBY : watchChannel(roomId)) as unknown) as Emitter).emit(event, ...args);
  }

  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    const target = this.nsp(p).to(roomChannel(roomId));
    (((except ? target.except(except) : target) as unknown) as Emitter).emit(event, ...args);
  }

  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void {
    (this.nsp(p).to(socketId) as unknown as Emitter).emit(event, ...args);
  }

  toProgramme<E extends ServerEventName>(p: string, reach: Reach, event: E, ...args: EventArgs<E>): void {
    const nsp = this.nsp(p);
    ((reach === 'everywhere' ? nsp : nsp.local) as unknown as Emitter).emit(event, ...args);
  }

  enterRoom(p: string, socketId: string, roomId: string): void {
    this.move(p, socketId, roomChannel(roomId));
  }

  enterLobby(p: string, socketId: string, fromRoom?: string): void {
    this.move(p, socketId, LOBBY, fromRoom);
  }

  endSession(p: string, socketId: string, end: SessionEnd): void {
    endFinally(this.nsp(p).to(socketId), end);
  }

  endProgramme(p: string, reach: Reach, end: ProgrammeEnd, told: boolean): void {
    const nsp = this.nsp(p);
    endFinally(reach === 'everywhere' ? nsp : nsp.local, end, told);
  }

  disconnectHere(): void {
    for (const p of this.runtimes.programs()) this.nsp(p).local.disconnectSockets(true);
  }

  /** A socket on this server is left in one channel besides its own id and `AUTH_CLIENTS`: the
   * lobby or its room. One on another server is only taken out of the lobby: its server is not
   * asked which room it sits in, so after `enterLobby` (an operator deleting its room) it keeps
   * that room's channel, which nothing uses again (room ids are never reused), until it joins
   * another room on its own server. */
  private move(p: string, socketId: string, channel: string, fromRoom?: string): void {
    const nsp = this.nsp(p);
    const socket = nsp.sockets.get(socketId);
    if (socket) {
      // A batched-mode socket's lobby is its own channel; watches end on entering a room.
      const target = channel === LOBBY && socket.data.lobby?.batched ? LOBBY_BATCHED : channel;
      if (target !== LOBBY && target !== LOBBY_BATCHED && socket.data.lobby) socket.data.lobby.watched.clear();
      for (const r of socket.rooms) if (r !== socketId && r !== target && r !== AUTH_CLIENTS) void socket.leave(r);
      void socket.join(target);
      return;
    }
    // A socket on another server: ask its server through the adapter.
    const sockets = nsp.in(socketId);
    if (fromRoom !== undefined) sockets.socketsLeave(roomChannel(fromRoom));
    sockets.socketsLeave(LOBBY);
    sockets.socketsJoin(channel);
  }
}
