/**
 * A connection to one programme: promise-returning calls over socket.io acknowledgements, and an
 * `OnAirState` fed from the socket's events. Browser-safe: only socket.io-client and the
 * protocol's plain modules.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  AckResult,
  AggroMessage,
  ChatMessage,
  ClientEventName,
  ListRoomsPayload,
  LobbyMode,
  QuickJoinPayload,
  RoomPage,
  RoomDetails,
  ClientToServerEvents,
  RoomSummary,
  ServerToClientEvents,
  UserInfo,
} from './protocol/events.js';
import { serverEventNames } from './protocol/events.js';
import { cleanMessage } from './protocol/text.js';
import { DEFAULT_BACKOFF, type BackoffOptions, type ConnectionState } from './connection.js';
import { connectErrorFrom, OnAirConnectError, OnAirError } from './errors.js';
import { expectedIdentity } from './identity.js';
import { ConnectionKeeper, DEFAULT_REFRESH_BEFORE_MS } from './keeper.js';
import { initialSnapshot, OnAirState } from './state.js';

export type OnAirSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectOptions {
  /** The server's origin, e.g. `https://localhost:8443` (in a browser: `location.origin`). */
  url: string;
  /** The programme's `scheduleUID`; the client joins the namespace `/<program>`. */
  program: string;
  /** JWT mode: sent as `auth.token`. */
  token?: string;
  /** Dev mode: the identity, sent in `auth`. In JWT mode, `displayName` and `photoURL` are
   * used by the server when the token lacks `name` and `picture`. */
  identity?: UserInfo;
  /** `batched`: one `roomCounts` frame per interval instead of per-room lobby events, from the
   * handshake on (`auth.lobby`; spec 3.1). `state.rooms` follows either way. */
  lobby?: LobbyMode;
  /** socket.io path. @default '/socket.io' */
  path?: string;
  /** Websocket only by default: a phone's radio and a load balancer's stickiness both do better
   * without long-polling; give `['polling', 'websocket']` where websockets are blocked.
   * @default ['websocket'] */
  transports?: ('websocket' | 'polling')[];
  /** The waits between reconnection attempts: doubling from `minMs` to `maxMs`, each spread at
   * random by `jitter`. @default { minMs: 1000, maxMs: 30000, jitter: 0.5 } */
  backoff?: BackoffOptions;
  /** Returns a fresh token (for Firebase: `() => user.getIdToken(true)`). Called `refreshBeforeMs`
   * before the current token's `exp`, before a connection attempt whose token has expired or is
   * about to, and after an `AUTH_EXPIRED` refusal. Without `token`, it gives the first one too. */
  refreshToken?: () => Promise<string>;
  /** How long before its `exp` a token is refreshed. @default 300000 (5 minutes) */
  refreshBeforeMs?: number;
  /** For connecting and for each call. @default 10000 */
  timeoutMs?: number;
  /** Passed through to `io()` last, e.g. `{ rejectUnauthorized: false }` or `{ ca }` in Node. */
  socketOptions?: Record<string, unknown>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

type AggroAck = { aggroUID: string; ts: number; expiresAt: number };

export class OnAirClient {
  readonly socket: OnAirSocket;
  readonly state: OnAirState;
  /** The connection's own status: connecting, connected, reconnecting, paused, stopped, closed. */
  readonly connection: ConnectionState;
  readonly program: string;
  private readonly keeper: ConnectionKeeper;
  private readonly timeoutMs: number;
  /** False when `socketOptions.reconnection` is: then nothing reconnects on its own. */
  private readonly reconnects: boolean;
  /** `retryAfterMs` of a `SERVER_SHUTDOWN` notice, until the disconnect that follows it. */
  private shutdownRetryMs: number | null = null;
  private closed = false;

  /** A client that has not connected yet; `connect()` is the usual way to get one. */
  constructor(opts: ConnectOptions) {
    this.program = opts.program;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.reconnects = opts.socketOptions?.reconnection !== false;
    this.state = new OnAirState(initialSnapshot(expectedIdentity(opts)));
    const auth: Record<string, unknown> = { ...opts.identity };
    if (opts.lobby === 'batched') auth.lobby = 'batched';
    const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.keeper = new ConnectionKeeper({
      token: opts.token,
      refreshToken: opts.refreshToken,
      refreshBeforeMs: opts.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS,
      backoff,
      reconnects: this.reconnects,
    });
    this.connection = this.keeper.state;
    this.socket = io(`${opts.url.replace(/\/+$/, '')}/${encodeURIComponent(opts.program)}`, {
      path: opts.path ?? '/socket.io',
      // Asked before every connection attempt, so each carries the token current then.
      auth: (cb: (data: object) => void) => void this.keeper.handshakeAuth(auth).then(cb),
      autoConnect: false,
      // One client per programme connection: sharing socket.io's manager would tie two
      // identities to one transport.
      forceNew: true,
      transports: opts.transports ?? ['websocket'],
      reconnectionDelay: backoff.minMs,
      reconnectionDelayMax: backoff.maxMs,
      randomizationFactor: backoff.jitter,
      ...opts.socketOptions,
    }) as OnAirSocket;
    this.wire();
    this.keeper.attach(this.socket);
  }

  /** The state's listeners go first, so a listener added with `on` sees the state updated. */
  private wire(): void {
    for (const event of serverEventNames) {
      this.socket.on(event, ((data: never) => this.state.apply({ event, data } as never)) as never);
    }
    this.socket.on('connect', () => this.state.apply({ own: 'connected', recovered: this.socket.recovered }));
    this.socket.on('disconnect', (reason) => this.state.apply({ own: 'disconnected', reason }));
    // socket.io does not come back after a server-side disconnect; after a shutdown the server
    // says when to, each client at its own moment, so they do not all land on the others at once.
    this.socket.on('system', (notice) => {
      this.shutdownRetryMs = notice.code === 'SERVER_SHUTDOWN' ? Math.max(0, notice.retryAfterMs ?? 0) : null;
    });
    this.socket.on('disconnect', (reason) => {
      const wait = this.shutdownRetryMs;
      this.shutdownRetryMs = null;
      if (wait === null || reason !== 'io server disconnect' || !this.reconnects || this.closed) return;
      this.keeper.retryIn(wait);
    });
  }

  /** Connect and wait for the first `loadRooms`. Rejects with `OnAirConnectError` and stops
   * the socket when the handshake is refused, fails, or takes longer than `timeoutMs`. */
  open(): Promise<this> {
    const socket = this.socket;
    return new Promise<this>((resolve, reject) => {
      const settle = (err: OnAirConnectError | null) => {
        clearTimeout(timer);
        socket.off('loadRooms', onLoaded);
        socket.off('connect_error', onError);
        socket.off('disconnect', onDisconnect);
        if (!err) {
          this.keeper.opened = true;
          return resolve(this);
        }
        // Stops socket.io's reconnection attempts too.
        socket.disconnect();
        this.keeper.failed(err);
        reject(err);
      };
      const onLoaded = () => settle(null);
      const onError = (err: Error) => settle(connectErrorFrom(err));
      const onDisconnect = (reason: string) =>
        settle(new OnAirConnectError('DISCONNECTED', `disconnected before the room list arrived (${reason})`));
      const timer = setTimeout(
        () => settle(new OnAirConnectError('TIMEOUT', `no connection within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      socket.on('loadRooms', onLoaded);
      socket.on('connect_error', onError);
      socket.on('disconnect', onDisconnect);
      socket.connect();
    });
  }

  /** Emit with an acknowledgement: the result without `ok`, or a rejection. */
  private async call<T extends object>(event: ClientEventName, ...args: unknown[]): Promise<T> {
    // socket.io would buffer the call until a reconnection; an answer is wanted now.
    if (!this.socket.connected) throw new OnAirConnectError('DISCONNECTED', `not connected, "${event}" not sent`);
    let res: AckResult<T>;
    try {
      const timed = this.socket.timeout(this.timeoutMs) as unknown as {
        emitWithAck(event: string, ...args: unknown[]): Promise<AckResult<T>>;
      };
      res = await timed.emitWithAck(event, ...args);
    } catch (err) {
      if (this.socket.connected) {
        throw new OnAirConnectError('TIMEOUT', `no answer to "${event}" within ${this.timeoutMs} ms`, { cause: err });
      }
      throw new OnAirConnectError('DISCONNECTED', `disconnected before "${event}" was answered`, { cause: err });
    }
    if (!res.ok) throw new OnAirError(res.code, res.message, { until: res.until, retryAfterMs: res.retryAfterMs });
    const { ok: _ok, ...result } = res;
    return result as unknown as T;
  }

  /** The current room, or the refusal the server would give a call that needs one. */
  private currentRoom(): string {
    const roomId = this.state.roomId;
    if (roomId === null) throw new OnAirError('EM001', 'not in a room');
    return roomId;
  }

  /** The programme's rooms, also put in `state.rooms` (the server answers an acknowledged call in
   * the ack alone, with no `loadRooms` event). */
  async loadRooms(): Promise<RoomSummary[]> {
    const { rooms } = await this.call<{ rooms: RoomSummary[] }>('loadRooms');
    this.state.apply({ event: 'loadRooms', data: rooms });
    return rooms;
  }

  /** The members of the current room (the caller included); `[]` in the lobby. */
  async loadUsers(): Promise<UserInfo[]> {
    const { users, ownerUID } = await this.call<{ users: UserInfo[]; ownerUID?: string }>('loadUsers');
    this.state.apply({ own: 'owner', ownerUID: ownerUID ?? null });
    return users;
  }

  /** Create a room and enter it (leaving the current one). Resolves with the members loaded. */
  async createRoom(room: { title: string; max: number; password?: string }): Promise<{ roomId: string; title: string }> {
    const created = await this.call<{ roomId: string; title: string }>('createRoom', room);
    const summary: RoomSummary = { roomId: created.roomId, title: created.title, max: room.max, count: 1 };
    if (room.password) summary.password = true;
    this.state.apply({ own: 'created', room: summary });
    await this.refreshMembers();
    // The owner is the creator, in `state.ownerUID`; the result keeps its shape.
    return { roomId: created.roomId, title: created.title };
  }

  /** Enter a room (leaving the current one). Resolves with the members loaded; `history` (the
   * room's last messages, oldest first) is in `state.messages` too. */
  async joinRoom(roomId: string, password?: string): Promise<{ roomId: string; history: ChatMessage[] }> {
    const joined = await this.call<{ roomId: string; history?: ChatMessage[]; ownerUID?: string }>('joinRoom', password === undefined ? { roomId } : { roomId, password });
    // A server older than room history answers without it.
    const history = joined.history ?? [];
    this.state.apply({ own: 'joined', roomId: joined.roomId, history, ...(joined.ownerUID ? { ownerUID: joined.ownerUID } : {}) });
    await this.refreshMembers();
    return { roomId: joined.roomId, history };
  }

  /** A page of every room of the programme (spec 3.1): pass `next` back as `cursor` for the
   * following page (`null` after the last). `q` searches titles; `open` keeps walk-in rooms. */
  async listRooms(query: ListRoomsPayload = {}): Promise<RoomPage> {
    const { rooms, next } = await this.call<RoomPage>('listRooms', query);
    return { rooms, next };
  }

  /** Also follow these rooms' counts and deletion from the lobby (at most 100; `[]` stops), e.g.
   * the page a list shows. Their summaries (from `listRooms`) join `state.rooms`, where the
   * events then keep them current. Entering a room ends the watches. */
  async watchRooms(rooms: readonly RoomSummary[]): Promise<void> {
    await this.call('watchRooms', rooms.map((r) => r.roomId));
    for (const room of rooms) this.state.apply({ event: 'addRoom', data: room });
  }

  /** Switch between per-room lobby events and batched `roomCounts` frames; `state.rooms` starts
   * again from the featured view the server answers with. */
  async setLobbyMode(mode: LobbyMode): Promise<RoomSummary[]> {
    const { rooms } = await this.call<{ rooms: RoomSummary[] }>('setLobbyMode', mode);
    this.state.apply({ event: 'loadRooms', data: rooms });
    return rooms;
  }

  /** Be seated in the fullest open room (titles containing `q`); with `create`, make that room
   * when none is free. Rejects with `EJ004` when none is and there is no `create`. The history
   * lands in `state.messages` as with `joinRoom`. */
  async quickJoin(options: QuickJoinPayload = {}): Promise<{ roomId: string; title: string; history: ChatMessage[]; created: boolean }> {
    const out = await this.call<{ roomId: string; title: string; history?: ChatMessage[]; created?: true; ownerUID?: string }>('quickJoin', options);
    const history = out.history ?? [];
    if (out.created && options.create) this.state.apply({ own: 'created', room: { roomId: out.roomId, title: out.title, max: options.create.max, count: 1 } });
    else this.state.apply({ own: 'joined', roomId: out.roomId, history, ...(out.ownerUID ? { ownerUID: out.ownerUID } : {}) });
    await this.refreshMembers();
    return { roomId: out.roomId, title: out.title, history, created: out.created === true };
  }

  /** Older messages of the current room, oldest first: the `limit` (1-50, default 20) just
   * before the message `before` (an id; without it, the newest). */
  /** Report a message (`id`), the live aggro (`aggroUID`) or a member (`userUID`) of the current
   * room (spec 9); `false` when this user had reported it already. */
  async report(target: { id: string } | { aggroUID: string } | { userUID: string }, reason: string): Promise<boolean> {
    const roomId = this.currentRoom();
    return (await this.call<{ reported: boolean }>('report', { roomId, ...target, reason })).reported;
  }

  /** Room owners (spec 9): take a member out of the current room; they may not come back for
   * a while (`EJ005`). Rejects with `EO001` unless this user owns the room. */
  async removeMember(userUID: string): Promise<void> {
    this.currentRoom();
    await this.call('removeMember', { userUID });
  }

  /** Room owners (spec 9): change the current room's title or password (`null` opens it); the
   * lobby sees it. Resolves with the room as it now is; rejects with `EO001` unless this user
   * owns the room, `EC001` for a title or password out of bounds or refused by the filter. */
  async updateRoom(change: { title?: string; password?: string | null }): Promise<RoomDetails> {
    this.currentRoom();
    const { room } = await this.call<{ room: RoomDetails }>('updateRoom', change);
    this.state.apply({ own: 'updated', room });
    return room;
  }

  async history(options: { before?: string; limit?: number } = {}): Promise<ChatMessage[]> {
    const roomId = this.currentRoom();
    return (await this.call<{ messages: ChatMessage[] }>('history', { roomId, ...options })).messages;
  }

  /** The room is entered whatever happens here; should `loadUsers` fail, members still follow
   * from `joinRoom`/`leaveRoom` events, and `loadUsers()` can be called again. */
  private async refreshMembers(): Promise<void> {
    try {
      await this.loadUsers();
    } catch (err) {
      if (!(err instanceof OnAirError || err instanceof OnAirConnectError)) throw err;
    }
  }

  /** Leave the current room for the lobby; the server then sends a fresh room list. Rejects
   * with `EM001` outside a room, as the server would. */
  async leaveRoom(): Promise<void> {
    await this.call('leaveRoom', this.currentRoom());
    this.state.apply({ own: 'left' });
  }

  /** Say something in the current room. The message joins `state.messages` from the ack (the
   * sender gets no `chat` event of its own). */
  async chat(msg: string): Promise<{ id: string; ts: number }> {
    const roomId = this.currentRoom();
    const { id, ts } = await this.call<{ id: string; ts: number }>('chat', { roomId, msg, type: 'N' });
    const me = this.state.me;
    const message: ChatMessage = {
      displayName: me?.displayName ?? '',
      // As the server cleaned it for the others.
      msg: cleanMessage(msg),
      roomId,
      type: 'N',
      userUID: me?.userUID ?? '',
      id,
      ts,
    };
    if (me?.photoURL) message.photoURL = me.photoURL;
    this.state.apply({ own: 'sent', message });
    return { id, ts };
  }

  /** Post an aggro in the current room; the whole room, sender included, gets `aggro`. */
  async postAggro(msg: string, opts: { titleBroad?: string; type?: AggroMessage['type'] } = {}): Promise<AggroAck> {
    const payload: Record<string, unknown> = { roomId: this.currentRoom(), msg, type: opts.type ?? 'A' };
    if (opts.titleBroad !== undefined) payload.titleBroad = opts.titleBroad;
    return this.call<AggroAck>('chat', payload);
  }

  /** Vote on the live aggro of the current room; resolves with its new total. */
  async vote(aggroUID: string, direction: 'up' | 'down'): Promise<{ point: number }> {
    const result = await this.call<{ point: number }>(direction === 'up' ? 'aggroUp' : 'aggroDown', aggroUID);
    this.state.apply({ own: 'voted', aggroUID, point: result.point });
    return result;
  }

  /** Listen to a server event (after the state has taken it in); returns the function that
   * stops listening. */
  on<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): () => void {
    this.socket.on(event, listener as never);
    return () => {
      this.socket.off(event, listener as never);
    };
  }

  /** For the app's AppState handler, when the app goes to the background: the connection is
   * closed as a lost network would close it, so the server holds the session for its grace
   * (spec 7.1) and `resume()` within it finds it as it was; nothing is tried meanwhile. */
  pause(): void {
    this.keeper.pause();
  }

  /** When the app is back in the foreground: connect again at once (a token about to expire is
   * refreshed first). Does nothing unless paused. */
  resume(): void {
    this.keeper.resume();
  }

  /** Disconnect for good (socket.io does not reconnect after this). */
  close(): void {
    this.closed = true;
    this.keeper.close();
    this.socket.disconnect();
  }
}

/** A connected client: resolves once connected and the first `loadRooms` is in `state.rooms`;
 * rejects with `OnAirConnectError` (`AUTH_REQUIRED`, `BANNED`, `TIMEOUT`, ...). */
export function connect(opts: ConnectOptions): Promise<OnAirClient> {
  return new OnAirClient(opts).open();
}
