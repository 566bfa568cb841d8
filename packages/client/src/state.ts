/**
 * What a client knows of its programme, kept up to date from the server's events. The rules are
 * one pure function, `reduce(snapshot, action)`; `OnAirState` holds the current snapshot and
 * tells subscribers. Nothing here touches the network, so it runs (and is tested) without one.
 */
import type {
  AggroMessage,
  ChatMessage,
  RoomSummary,
  ServerEventName,
  ServerToClientEvents,
  UserInfo,
} from './protocol/events.js';
import { ReducedState, waitForState } from './reduced-state.js';

/** A `system` notice as the server sends it (with `until` for MUTED, `seconds` for SLOW_MODE). */
export type SystemNotice = Parameters<ServerToClientEvents['system']>[0];

/** socket.io disconnect reasons after which the server holds the session (spec 7.1). */
const HELD_REASONS: ReadonlySet<string> = new Set(['transport close', 'transport error', 'ping timeout']);

/** How many chat messages of the current room are kept. */
export const MESSAGES_KEPT = 200;

/** One immutable state: a new object after every change, the same object when nothing changed. */
export interface OnAirSnapshot {
  readonly connected: boolean;
  /** Who this client is: from the connect options or the token, corrected by `loadUsers`. */
  readonly me: UserInfo | null;
  /** The lobby's rooms in creation order. Only the lobby hears of rooms, so this list stands
   * still while the client is in a room; leaving brings a fresh one. */
  readonly rooms: ReadonlyMap<string, RoomSummary>;
  readonly roomId: string | null;
  /** The owner of the current room (spec 9): from the join, `loadUsers` and `OWNER` notices;
   * `null` in the lobby and in an operator's room. */
  readonly ownerUID: string | null;
  readonly members: readonly UserInfo[];
  readonly aggro: AggroMessage | null;
  readonly messages: readonly ChatMessage[];
  readonly lastSystem: SystemNotice | null;
  /** The last connection took the session back within the server's reconnect grace (spec 7.1):
   * by socket.io's own recovery (`recovered`, every missed event replayed) or by the server's
   * `session` notice (the missed chat and the live aggro follow it). */
  readonly resumed: boolean;
  readonly recovered: boolean;
}

/** A server event as the socket delivered it. */
export type ServerEvent = {
  [E in ServerEventName]: { event: E; data: Parameters<ServerToClientEvents[E]>[0] };
}[ServerEventName];

/** What the client itself learnt: its connection, and the outcome of its own calls (the server
 * tells a caller some things only in the acknowledgement). */
export type OwnAction =
  | { own: 'connected'; recovered?: boolean }
  /** `reason`: socket.io's disconnect reason; a line lost (`transport close`, `transport
   * error`, `ping timeout`) or a server restarting may be held by the server (spec 7.1). */
  | { own: 'disconnected'; reason?: string }
  | { own: 'created'; room: RoomSummary }
  | { own: 'joined'; roomId: string; history?: readonly ChatMessage[]; ownerUID?: string }
  /** What `loadUsers` answered about the room's owner. */
  | { own: 'owner'; ownerUID: string | null }
  /** This client, the owner, changed its room (`updateRoom`). */
  | { own: 'updated'; room: RoomSummary }
  | { own: 'left' }
  | { own: 'sent'; message: ChatMessage }
  | { own: 'voted'; aggroUID: string; point: number };

export type StateAction = ServerEvent | OwnAction;

export function initialSnapshot(me: UserInfo | null = null): OnAirSnapshot {
  return {
    connected: false,
    me,
    rooms: new Map(),
    roomId: null,
    ownerUID: null,
    members: [],
    aggro: null,
    messages: [],
    lastSystem: null,
    resumed: false,
    recovered: false,
  };
}

function outOfRoom(s: OnAirSnapshot): OnAirSnapshot {
  if (s.roomId === null && s.ownerUID === null && s.members.length === 0 && s.aggro === null && s.messages.length === 0) return s;
  return { ...s, roomId: null, ownerUID: null, members: [], aggro: null, messages: [] };
}

function withRoom(rooms: ReadonlyMap<string, RoomSummary>, room: RoomSummary): Map<string, RoomSummary> {
  const next = new Map(rooms);
  next.set(room.roomId, room);
  return next;
}

function withPoint(s: OnAirSnapshot, aggroUID: string, point: number): OnAirSnapshot {
  if (s.aggro?.aggroUID !== aggroUID || s.aggro.point === point) return s;
  return { ...s, aggro: { ...s.aggro, point } };
}

function withMessage(s: OnAirSnapshot, message: ChatMessage): OnAirSnapshot {
  // A resume's catch-up may repeat a message that did arrive before the blip (spec 7.1).
  if (s.resumed && s.messages.some((m) => m.id === message.id)) return s;
  const messages = [...s.messages, message];
  return { ...s, messages: messages.length > MESSAGES_KEPT ? messages.slice(-MESSAGES_KEPT) : messages };
}

function reduceEvent(s: OnAirSnapshot, a: ServerEvent): OnAirSnapshot {
  switch (a.event) {
    case 'loadRooms': {
      const rooms = new Map(a.data.map((r) => [r.roomId, r] as const));
      // A room with a member in it exists; missing from a fresh list, it was deleted under us.
      const s2 = { ...s, rooms };
      return s.roomId !== null && !rooms.has(s.roomId) ? outOfRoom(s2) : s2;
    }
    case 'addRoom':
      return { ...s, rooms: withRoom(s.rooms, a.data) };
    case 'roomCounts': {
      // Batched lobby mode: one frame carries what per-room events would have.
      const rooms = new Map(s.rooms);
      for (const id of a.data.deleted) rooms.delete(id);
      for (const r of a.data.added) rooms.set(r.roomId, r);
      for (const [id, count] of Object.entries(a.data.counts)) {
        const room = rooms.get(id);
        if (room && room.count !== count) rooms.set(id, { ...room, count });
      }
      return { ...s, rooms };
    }
    case 'count': {
      const room = s.rooms.get(a.data.roomId);
      if (!room || room.count === a.data.count) return s;
      return { ...s, rooms: withRoom(s.rooms, { ...room, count: a.data.count }) };
    }
    case 'deleteRoom': {
      let next = s;
      if (s.rooms.has(a.data.roomId)) {
        const rooms = new Map(s.rooms);
        rooms.delete(a.data.roomId);
        next = { ...s, rooms };
      }
      return s.roomId === a.data.roomId ? outOfRoom(next) : next;
    }
    case 'loadUsers': {
      const self = s.me && a.data.find((u) => u.userUID === s.me!.userUID);
      return { ...s, members: a.data, me: self ?? s.me };
    }
    case 'joinRoom':
      return { ...s, members: [...s.members.filter((u) => u.userUID !== a.data.userUID), a.data] };
    case 'leaveRoom': {
      const members = s.members.filter((u) => u.userUID !== a.data.userUID);
      return members.length === s.members.length ? s : { ...s, members };
    }
    // The server sends room events only for the room this socket is in, and they may arrive
    // before the ack of the join that put it there: they are kept, and `joined` sorts them.
    case 'chat':
      return withMessage(s, a.data);
    case 'aggro':
      return { ...s, aggro: a.data };
    case 'aggroPoint':
      return withPoint(s, a.data.aggroUID, a.data.point);
    case 'stopAggro':
    case 'deleteAggro':
      return s.aggro?.aggroUID === a.data ? { ...s, aggro: null } : s;
    case 'deleteChat': {
      // Removed by a moderator or hidden by reports (section 9): it leaves the conversation.
      const messages = s.messages.filter((m) => m.id !== a.data.id);
      return messages.length === s.messages.length ? s : { ...s, messages };
    }
    case 'system': {
      const next = { ...s, lastSystem: a.data };
      // Spec 9: the room changed hands, or its owner took this client out (back in the lobby,
      // where a fresh room list follows).
      if (a.data.code === 'OWNER' && a.data.userUID !== undefined && s.roomId !== null) return { ...next, ownerUID: a.data.userUID };
      if (a.data.code === 'REMOVED_FROM_ROOM' && s.roomId !== null && (a.data.roomId === undefined || a.data.roomId === s.roomId)) return outOfRoom(next);
      return next;
    }
    case 'createRoomReq':
    case 'joinRoomReq':
    case 'aggroErr':
      // Replies for clients without acknowledgements; the calls here use the acks.
      return s;
    case 'insufficient':
      // For seed-protocol sockets only; this client sends `auth`, so the server never sends it.
      return s;
    case 'session':
      // Back in the room it sat in before the blip; the missed chat and the aggro follow.
      if (a.data.roomId === null) return { ...outOfRoom(s), resumed: true };
      return { ...s, resumed: true, roomId: a.data.roomId, members: s.roomId === a.data.roomId ? s.members : [] };
  }
}

function reduceOwn(s: OnAirSnapshot, a: OwnAction): OnAirSnapshot {
  switch (a.own) {
    case 'connected':
      // Recovered: socket.io replays what was missed, the room and its messages stay. Else a
      // new session starts in the lobby, unless the server's `session` notice says otherwise.
      if (a.recovered) return { ...s, connected: true, recovered: true, resumed: true };
      return { ...outOfRoom(s), connected: true, recovered: false, resumed: false };
    case 'disconnected':
      // A line lost, or a server restarting: the server may hold the seat (spec 7.1), so the
      // room is kept until the next connection says whether it did. Any other disconnect is
      // final: the session is over and the server has taken it out of its room.
      if (a.reason !== undefined && (HELD_REASONS.has(a.reason) || (a.reason === 'io server disconnect' && s.lastSystem?.code === 'SERVER_SHUTDOWN'))) {
        return s.connected ? { ...s, connected: false } : s;
      }
      return outOfRoom({ ...s, connected: false });
    case 'created':
      // The creator is in the room at once and, no longer in the lobby, hears no `addRoom`.
      return {
        ...s,
        rooms: withRoom(s.rooms, a.room),
        roomId: a.room.roomId,
        // The creator of a user room is its owner.
        ownerUID: s.me?.userUID ?? null,
        members: s.me ? [s.me] : [],
        aggro: null,
        messages: [],
      };
    case 'joined': {
      if (s.roomId === a.roomId && !a.history) return s;
      // The room's history first, then what arrived live meanwhile; a message in both (sent
      // during the join) is kept once.
      const live = s.messages.filter((m) => m.roomId === a.roomId);
      const seen = new Set((a.history ?? []).map((m) => m.id));
      const messages = [...(a.history ?? []), ...live.filter((m) => !seen.has(m.id))];
      return {
        ...s,
        roomId: a.roomId,
        ownerUID: a.ownerUID ?? (s.roomId === a.roomId ? s.ownerUID : null),
        // Members come from `loadUsers`, asked for once the join is acknowledged.
        members: s.roomId === a.roomId ? s.members : [],
        aggro: s.aggro?.roomId === a.roomId ? s.aggro : null,
        messages: messages.length > MESSAGES_KEPT ? messages.slice(-MESSAGES_KEPT) : messages,
      };
    }
    case 'left':
      return outOfRoom(s);
    case 'owner':
      return s.roomId === null || s.ownerUID === a.ownerUID ? s : { ...s, ownerUID: a.ownerUID };
    case 'updated':
      return { ...s, rooms: withRoom(s.rooms, a.room) };
    case 'sent':
      // The sender gets no `chat` event for its own message.
      return withMessage(s, a.message);
    case 'voted':
      return withPoint(s, a.aggroUID, a.point);
  }
}

/** The next snapshot after `action`; `s` itself when nothing changed. */
export function reduce(s: OnAirSnapshot, action: StateAction): OnAirSnapshot {
  return 'event' in action ? reduceEvent(s, action) : reduceOwn(s, action);
}

export type StateListener = (state: OnAirState) => void;

/** The current snapshot, its fields as properties, and change notifications. */
export class OnAirState extends ReducedState<OnAirSnapshot, StateAction> {
  constructor(initial: OnAirSnapshot = initialSnapshot()) {
    super(initial, reduce);
  }

  get connected(): boolean {
    return this.current.connected;
  }
  get me(): UserInfo | null {
    return this.current.me;
  }
  get rooms(): ReadonlyMap<string, RoomSummary> {
    return this.current.rooms;
  }
  get roomId(): string | null {
    return this.current.roomId;
  }
  get ownerUID(): string | null {
    return this.current.ownerUID;
  }
  get members(): readonly UserInfo[] {
    return this.current.members;
  }
  get aggro(): AggroMessage | null {
    return this.current.aggro;
  }
  get messages(): readonly ChatMessage[] {
    return this.current.messages;
  }
  get lastSystem(): SystemNotice | null {
    return this.current.lastSystem;
  }
  get resumed(): boolean {
    return this.current.resumed;
  }
  get recovered(): boolean {
    return this.current.recovered;
  }
}

/** Resolves once `predicate` holds (checked now and after every change); rejects after
 * `timeoutMs`. */
export function waitFor(state: OnAirState, predicate: (state: OnAirState) => boolean, timeoutMs = 5000): Promise<OnAirState> {
  return waitForState(state, predicate, timeoutMs, 'state');
}
