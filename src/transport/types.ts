import type { Namespace, Server, Socket } from 'socket.io';
import type { Identity } from '../domain/model.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../protocol/index.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InterServerEvents {}

export interface SocketData {
  identity: Identity;
  /** The programme, i.e. the namespace name without its slash. */
  program: string;
  /** The socket's lobby mode and watched rooms (`lobby-feed.ts`); absent until it sets either. */
  lobby?: LobbyState;
}

export interface LobbyState {
  /** `roomCounts` frames instead of per-room lobby events. */
  batched: boolean;
  /** Watched rooms: in batched mode with the count last sent in a frame (`-1`: none yet). */
  watched: Map<string, number>;
}

export type OnAirServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type OnAirNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type OnAirSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
