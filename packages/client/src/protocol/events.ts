// GENERATED from src/protocol/events.ts by scripts/sync-protocol.mjs: do not edit; edit the source and run npm run build.
/**
 * The typed event maps of the wire protocol, shared by the server and client code.
 * Field names follow the seed's client so it keeps working; fields marked "new" are additions.
 */
import type { ErrorCode, SystemCode } from './errors.js';

/** What every acknowledgement receives: a result or a documented error code. */
export type AckResult<T extends object = object> =
  | ({ ok: true } & T)
  | { ok: false; code: ErrorCode; message: string; until?: number; retryAfterMs?: number };
export type Ack<T extends object = object> = (result: AckResult<T>) => void;

export interface UserInfo {
  userUID: string;
  displayName: string;
  photoURL?: string;
}

export interface RoomSummary {
  roomId: string;
  title: string;
  max: number;
  count: number;
  /** Present (and `true`) only for locked rooms; the password itself is never sent. */
  password?: true;
}

/** new (spec 9): a room as a v4 client asks for it (`listRooms`, acks): the summary and, for a
 * user-made room, its owner. Broadcasts (`addRoom`, the seed's `loadRooms`) never carry it. */
export interface RoomDetails extends RoomSummary {
  ownerUID?: string;
}

/** new (spec 9): the room's owner takes a member out of the room. */
export interface RemoveMemberPayload {
  userUID: string;
}
/** new (spec 9): the room's owner changes its title or password (`null` or `''` opens it). */
export interface UpdateRoomPayload {
  title?: string;
  password?: string | null;
}

export type ChatType = 'N' | 'A' | 'AP';

/** new (spec 3.1): a page of every room of the programme. */
export interface ListRoomsPayload {
  /** `next` of the previous page; without it, the first page. */
  cursor?: string;
  /** 1-100, default 20. */
  limit?: number;
  /** Titles containing this, compared after NFKC and case folding. */
  q?: string;
  /** Only rooms with a free seat and no password. */
  open?: boolean;
}
export interface RoomPage {
  rooms: RoomDetails[];
  /** Opaque; `null` when there is nothing after this page. */
  next: string | null;
}
/** new (spec 3.1): seat me in the fullest open room (titles containing `q`); with `create`,
 * make this room when none is free. */
export interface QuickJoinPayload {
  q?: string;
  create?: { title: string; max: number };
}
/** `roomCounts` (batched lobby mode): what changed in the featured view and the watched rooms
 * since the socket's last frame or list. */
export interface RoomCounts {
  counts: Record<string, number>;
  added: RoomSummary[];
  deleted: string[];
}
export type LobbyMode = 'batched' | 'rooms';

export interface CreateRoomPayload {
  title: string;
  max: number;
  password?: string;
  scheduleUID?: string;
}
export interface JoinRoomPayload {
  roomId: string;
  password?: string;
}
/** new: a page of the caller's room history (section 4.1). */
export interface HistoryPayload {
  roomId: string;
  /** The id of the oldest message the caller has; without it, the newest messages. */
  before?: string;
  /** 1-50, default 20. */
  limit?: number;
}
/** new: a viewer reports a message (`id`), an aggro (`aggroUID`) or a member (`userUID`) of
 * the room it sits in (section 9); exactly one of the three. */
export interface ReportPayload {
  roomId: string;
  id?: string;
  aggroUID?: string;
  userUID?: string;
  /** 1-200 characters. */
  reason: string;
}
export interface ChatPayload {
  roomId: string;
  msg: string;
  type: ChatType;
  titleBroad?: string;
}

export interface ChatMessage {
  displayName: string;
  msg: string;
  roomId: string;
  type: 'N';
  userUID: string;
  photoURL?: string;
  /** new: server-made message id */
  id: string;
  /** new: server time, epoch ms */
  ts: number;
}

export interface AggroMessage {
  displayName: string;
  msg: string;
  roomId: string;
  type: 'A' | 'AP';
  userUID: string;
  aggroUID: string;
  photoURL?: string;
  point: number;
  ts: number;
  expiresAt: number;
}

export type CreateRoomReply =
  | { result: true; roomId: string; title: string }
  | { result: false; err: ErrorCode };
export type JoinRoomReply = { result: true } | { result: false; err: ErrorCode };

export interface ClientToServerEvents {
  loadRooms: (ack?: Ack<{ rooms: RoomSummary[] }>) => void;
  /** new in the ack: `ownerUID`, the owner of the caller's room (spec 9). */
  loadUsers: (ack?: Ack<{ users: UserInfo[]; ownerUID?: string }>) => void;
  /** new in the ack: `ownerUID` (the creator). */
  createRoom: (payload: CreateRoomPayload, ack?: Ack<{ roomId: string; title: string; ownerUID?: string }>) => void;
  /** new in the ack: `history`, the room's last messages, oldest first (section 4.1), and
   * `ownerUID` (absent for an operator's room, which has no owner). */
  joinRoom: (payload: JoinRoomPayload, ack?: Ack<{ roomId: string; history: ChatMessage[]; ownerUID?: string }>) => void;
  leaveRoom: (roomId: string | { roomId: string }, ack?: Ack) => void;
  chat: (
    payload: ChatPayload,
    ack?: Ack<{ id: string; ts: number } | { aggroUID: string; ts: number; expiresAt: number }>,
  ) => void;
  aggroUp: (aggroUID: string | { aggroUID: string }, ack?: Ack<{ point: number }>) => void;
  aggroDown: (aggroUID: string | { aggroUID: string }, ack?: Ack<{ point: number }>) => void;
  /** new: older messages of the caller's room, oldest first. */
  history: (payload: HistoryPayload, ack?: Ack<{ messages: ChatMessage[] }>) => void;
  /** new: `reported: false` when this viewer had reported the same target already. */
  report: (payload: ReportPayload, ack?: Ack<{ reported: boolean }>) => void;
  /** new (spec 3.1): every room of the programme, paged. */
  listRooms: (payload?: ListRoomsPayload, ack?: Ack<RoomPage>) => void;
  /** new: also get the lobby events of these rooms (at most 100; `[]` to stop). */
  watchRooms: (roomIds: string[], ack?: Ack) => void;
  /** new: `batched` for one `roomCounts` frame per interval instead of per-room events; the ack
   * carries the featured view as it is now. */
  setLobbyMode: (mode: LobbyMode | { mode: LobbyMode }, ack?: Ack<{ mode: LobbyMode; rooms: RoomSummary[] }>) => void;
  /** new: seat me in the fullest open room. `created`: none was free and `create` made one. */
  quickJoin: (payload: QuickJoinPayload, ack?: Ack<{ roomId: string; title: string; history: ChatMessage[]; created?: true; ownerUID?: string }>) => void;
  /** new (spec 9): the owner of the caller's room takes a member out (EO001 for anyone else). */
  removeMember: (payload: RemoveMemberPayload, ack?: Ack) => void;
  /** new (spec 9): the owner of the caller's room changes its title or password; the ack
   * carries the room as it now is. */
  updateRoom: (payload: UpdateRoomPayload, ack?: Ack<{ room: RoomDetails }>) => void;
}

export interface ServerToClientEvents {
  loadRooms: (rooms: RoomSummary[]) => void;
  loadUsers: (users: UserInfo[]) => void;
  createRoomReq: (reply: CreateRoomReply) => void;
  addRoom: (room: RoomSummary) => void;
  joinRoomReq: (reply: JoinRoomReply) => void;
  count: (update: { roomId: string; count: number }) => void;
  joinRoom: (user: UserInfo) => void;
  leaveRoom: (user: { userUID: string; displayName: string }) => void;
  deleteRoom: (room: { roomId: string }) => void;
  chat: (message: ChatMessage) => void;
  aggro: (aggro: AggroMessage) => void;
  aggroErr: (code: ErrorCode) => void;
  aggroPoint: (update: { aggroUID: string; point: number }) => void;
  stopAggro: (aggroUID: string) => void;
  deleteAggro: (aggroUID: string) => void;
  /** new: batched lobby mode's frame, at most one per interval. */
  roomCounts: (frame: RoomCounts) => void;
  /** `retryAfterMs` comes with `SERVER_SHUTDOWN`: wait that long before reconnecting (section 7.1). */
  /** new with moderation: `until` comes with `MUTED`, `seconds` (0: ended) and `roomId` (absent:
   * every room of the programme) with `SLOW_MODE`; `userUID` (the new owner) with `OWNER`;
   * `roomId` (the room left) with `REMOVED_FROM_ROOM`. */
  system: (notice: { code: SystemCode; message: string; retryAfterMs?: number; until?: number; seconds?: number; roomId?: string; userUID?: string }) => void;
  /** new: a message was removed (by a moderator, or hidden by viewers' reports). */
  deleteChat: (removed: { roomId: string; id: string }) => void;
  /** new: sent only to seed-protocol sockets, just before a disconnect they must not undo at
   * once; the seed's client gives up on it (its reconnect-at-once would otherwise loop). */
  insufficient: (notice: { code: SystemCode; message: string }) => void;
  /** new (section 7.1): the session came back within its reconnect grace (or took over the
   * user's still-open one), in `roomId` (`null`: the lobby); the missed `chat` and the live
   * `aggro` follow. Not sent when socket.io's own recovery (`socket.recovered`) did the work. */
  session: (state: { resumed: true; roomId: string | null }) => void;
}

export type ClientEventName = keyof ClientToServerEvents;
export type ServerEventName = keyof ServerToClientEvents;

export const clientEventNames = [
  'loadRooms',
  'loadUsers',
  'createRoom',
  'joinRoom',
  'leaveRoom',
  'chat',
  'aggroUp',
  'aggroDown',
  'history',
  'report',
  'listRooms',
  'watchRooms',
  'setLobbyMode',
  'quickJoin',
  'removeMember',
  'updateRoom',
] as const satisfies readonly ClientEventName[];

/** Fails to compile when an event of `ClientToServerEvents` is missing from `clientEventNames`:
 * the server takes that list as the set of events it answers. */
type ClientEventNamesComplete = [Exclude<ClientEventName, (typeof clientEventNames)[number]>] extends [never] ? true : never;
const clientEventNamesComplete: ClientEventNamesComplete = true;
void clientEventNamesComplete;

export const serverEventNames = [
  'loadRooms',
  'loadUsers',
  'createRoomReq',
  'addRoom',
  'joinRoomReq',
  'count',
  'joinRoom',
  'leaveRoom',
  'deleteRoom',
  'chat',
  'aggro',
  'aggroErr',
  'aggroPoint',
  'stopAggro',
  'deleteAggro',
  'roomCounts',
  'system',
  'insufficient',
  'deleteChat',
  'session',
] as const satisfies readonly ServerEventName[];
