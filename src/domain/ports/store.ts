/**
 * The state of every programme, behind one asynchronous interface. Each method is one atomic
 * decision: whatever other calls run at the same time, on this process or on others sharing
 * the backend, they observe it as having happened entirely or not at all. Implementations:
 * `src/state/memory/` (one process) and, with `REDIS_URL`, `src/state/redis/` (shared).
 *
 * `p` is always the programme's `scheduleUID`; nothing crosses programmes.
 *
 * **Announcements.** The store itself delivers the events whose order across servers matters,
 * inside the decision that causes them, so they reach clients in the order they were decided:
 * `addRoom` (createRoom, to the lobby except the creator; not for a room that `existed`),
 * `deleteRoom` (a leave that deletes a room, also within join and createRoom, and deleteRoom),
 * `count` (flushCount), `aggroPoint` (flushPoint), the joiner's `aggro` (join) and the end of an
 * aggro (`announceEnd`). The domain never sends these itself. The in-memory store hands them
 * synchronously to an `Announcer` (its broker); the Redis store appends them to the socket.io
 * adapter's stream. Their payloads are made from one table (`domain/payloads.ts`).
 */
import type { ChatMessage } from '../../protocol/index.js';
import type { LiveAggro, LeaveOutcome, Member, Room, RoomView } from '../model.js';

/** What a join checks besides the seat (spec 9), in the same step. */
export interface JoinCheck {
  /** The caller's clock: a member the owner removed less than the block ago is EJ005. */
  now?: number;
  /** The password hash the caller's password was checked against (`null`: the room was open).
   * The owner may change it meanwhile (`updateRoom`); a join checked against another is EJ003. */
  passwordHash?: string | null;
}

export type RemoveMemberOutcome =
  /** The member's sockets taken out of the room (more than one during a duplicate-session
   * handover), and the count left. */
  | { ok: true; removed: Member[]; count: number }
  /** EM001: the caller sits in no room; EO001: it is not the owner; EV001: no such member, or
   * the caller itself. */
  | { ok: false; code: 'EM001' | 'EO001' | 'EV001' };

/** A change to a room; `passwordHash: null` opens it, absent fields stay as they are. */
export interface RoomChange {
  title?: string;
  passwordHash?: string | null;
}

export type UpdateRoomOutcome = { ok: true; room: RoomView } | { ok: false; code: 'EM001' | 'EO001' };

export type CreateRoomOutcome =
  /** `existed`: a room with that id was there already (restoring a persistent room); nothing changed. */
  | { ok: true; room: RoomView; left?: LeaveOutcome; existed?: true }
  | { ok: false; code: 'EC002' };

export type JoinOutcome =
  | { ok: true; already: boolean; count: number; left?: LeaveOutcome; aggro?: LiveAggro; ownerUID?: string }
  | { ok: false; code: 'EJ001' | 'EJ002' | 'EJ003' | 'EJ005' };

/** An operator deleted a room: who sat in it (now in the lobby) and its live aggro, ended. */
export interface DeleteRoomOutcome {
  members: Member[];
  endedAggro?: LiveAggro;
}

/** A page of `pageRooms`: the rooms in creation order, and the sequence to carry on after
 * (`null`: nothing after). */
export interface RoomPage {
  rooms: RoomView[];
  next: number | null;
}

/** What `pageRooms` pages: after the room of creation sequence `after` (`null`: from the
 * start); `q`, a `searchKey`, keeps titles that contain it; `open` rooms with a free seat and
 * no password. */
export interface RoomPageQuery {
  after: number | null;
  limit: number;
  q: string | null;
  open: boolean;
}

export type QuickJoinOutcome =
  | { ok: true; roomId: string; title: string; count: number; left?: LeaveOutcome; aggro?: LiveAggro; ownerUID?: string }
  | { ok: false; code: 'EJ004' };

/** What `resumeSession` took over. */
export interface ResumeOutcome {
  previous: string | null;
  roomId: string | null;
  heldSince: number | null;
}

export type StartAggroOutcome = { ok: true } | { ok: false; code: 'EM001' | 'EA001' | 'EA002' };

export type VoteOutcome = { ok: true; point: number; roomId: string } | { ok: false; code: 'EA003' | 'EA004' };

export interface StateStore {
  /** Whether the state outlives this process and is seen by other servers. */
  readonly shared: boolean;

  /**
   * Deliver the end of an aggro (the final total unless `null`, then `stopAggro` or
   * `deleteAggro`) after everything its room was already sent.
   */
  announceEnd(p: string, roomId: string, aggroUID: string, finalPoint: number | null, event: 'stopAggro' | 'deleteAggro'): Promise<void>;

  /**
   * Make a room, unless the programme already holds `roomLimit` rooms: the limit is decided
   * here, in the same step, however many creates run at once. When `creator` is given it leaves
   * its current room (as `leave` would) and becomes the only member, in the same step. A new
   * room is announced (`addRoom`).
   */
  createRoom(p: string, room: Room, creator: Member | null, roomLimit: number): Promise<CreateRoomOutcome>;

  /**
   * Delete the room whatever it holds (an operator's decision): its members go back to the
   * lobby and its live aggro ends, in one step; the lobby's `deleteRoom` is announced inside it. `null` when there is no such room.
   */
  deleteRoom(p: string, roomId: string): Promise<DeleteRoomOutcome | null>;

  /** Rooms in creation order with their member counts. */
  listRooms(p: string): Promise<RoomView[]>;

  /** How many rooms the programme holds, without reading them (a programme may hold 20,000). */
  roomCount(p: string): Promise<number>;

  getRoom(p: string, roomId: string): Promise<RoomView | null>;

  // ---- the lobby of a big programme (spec 3.1; the rules are `domain/lobby.ts`) -----------
  //
  // Every store keeps one featured view per programme of at most its `viewSize` rooms. A room
  // made while the view has a free place enters it at once (its `addRoom` goes to the lobby); a
  // room deleted leaves it at once (its `deleteRoom` goes to the lobby). `count` and
  // `deleteRoom` of a room go to the lobby only while it is in the view, and always to the
  // room's watchers (`Announcer.toLobbyOf`). A programme with no more rooms than `viewSize`
  // therefore announces exactly what it did before there was a view.

  /** The featured view, in creation order. */
  viewRooms(p: string): Promise<RoomView[]>;

  /**
   * Recompute the featured view unless it was recomputed less than `intervalMs` before `now`
   * (by any server): free places are filled, clearly beaten rooms swapped (`nextView`), and
   * each room entering is announced to the lobby (`addRoom`), each leaving (`deleteRoom`), in
   * the same step. Returns the view as it then is, in creation order.
   */
  refreshView(p: string, now: number, intervalMs: number): Promise<RoomView[]>;

  /** A page of the programme's rooms in creation order, looking at no more than `SCAN_BUDGET`. */
  pageRooms(p: string, query: RoomPageQuery): Promise<RoomPage>;

  /**
   * Seat `member` in the open room (free seat, no password; not the one it sits in) with the
   * most members, among those whose title contains `q` (a `searchKey`) when given, as `join`
   * would, in one step: with N free seats left, N concurrent calls get one each. EJ004 when
   * there is none (among the `SCAN_BUDGET` fullest open rooms, with `q`). Rooms the member's
   * owner removed it from less than the block ago (at `now`) are passed over.
   */
  quickJoin(p: string, member: Member, q: string | null, now?: number): Promise<QuickJoinOutcome>;

  /** The member counts of these rooms; `null` for a room that no longer exists. */
  roomCounts(p: string, roomIds: readonly string[]): Promise<Record<string, number | null>>;

  /**
   * Seat `member` in `roomId` if the room exists and has a free seat; if the member sat in
   * another room it leaves that room in the same step. With `max` = N, exactly N of any number
   * of concurrent joins succeed. Joining the room one is in is `already: true` and changes nothing.
   * The room's live aggro, if any, comes back, and is announced to the joiner alone; its
   * owner comes back too. `check` adds the removal block (EJ005) and the password checked (EJ003).
   */
  join(p: string, member: Member, roomId: string, check?: JoinCheck): Promise<JoinOutcome>;

  /**
   * Take the socket out of its room (only if that room is `roomId`, when given). The last
   * member leaving ends the room's live aggro and deletes a non-persistent room (announced). `null` when
   * the socket was in no room (or not in `roomId`).
   *
   * **Owners** (spec 9): when the member leaving is the room's owner and no other socket of the
   * same user sits in it, the room passes to its longest-present member, announced to the room
   * (`system` `OWNER`) in the same step. Every leave (a join or create elsewhere, a removal, a
   * disconnect, however late it is decided) goes through this one decision, so two leaves at
   * once still end with exactly one owner, the same on every server.
   */
  leave(p: string, socketId: string, roomId?: string): Promise<LeaveOutcome | null>;

  /**
   * The owner of the room the caller sits in takes every socket of `userUID` out of it (spec
   * 9), and the user may not join it again until `blockUntil` (EJ005; `now` is the caller's
   * clock), in one step. Nothing is announced: the domain tells the member and the room.
   */
  removeMember(p: string, caller: Member, userUID: string, now: number, blockUntil: number): Promise<RemoveMemberOutcome>;

  /**
   * The owner of the room the caller sits in changes its title or password, in one step: the
   * lobby's lists see it (announced as `deleteRoom` then `addRoom` with the new summary, where
   * the room's `deleteRoom` would go, so that clients that know no update event, the seed's,
   * replace it).
   */
  updateRoom(p: string, caller: Member, change: RoomChange): Promise<UpdateRoomOutcome>;

  /** The room the socket sits in, or `null` in the lobby. */
  roomOf(p: string, socketId: string): Promise<string | null>;

  members(p: string, roomId: string): Promise<Member[]>;

  /**
   * A chat message from the socket to `roomId`: kept as the newest of the room's history (which
   * holds its last `historySize` messages; 0 keeps none) and announced as `chat` to the room,
   * the author left out, if the socket sits in that room, all in the same step (on Redis, the
   * announcement rides in the same script: no round trip of its own). `false` (nothing kept,
   * nothing announced) when it does not. A room's history goes with the room.
   */
  chat(p: string, socketId: string, roomId: string, message: ChatMessage, historySize: number): Promise<boolean>;

  /** At most `limit` messages of the room's history just before the message `before` (an id;
   * `null`: the newest), oldest first; none when `before` is no longer in the history. */
  history(p: string, roomId: string, before: string | null, limit: number): Promise<ChatMessage[]>;

  /** Take the message out of the room's history (spec 9: a removed message leaves it); `false`
   * when it is not there (any more). */
  removeChat(p: string, roomId: string, id: string): Promise<boolean>;

  /**
   * Make `aggro` the live aggro of its room if the author's socket sits in that room (EM001),
   * the room has no live aggro (EA001) and the author posted none in the last `cooldownMs`
   * (EA002). On success the author's cooldown starts.
   */
  startAggro(p: string, socketId: string, aggro: LiveAggro, cooldownMs: number): Promise<StartAggroOutcome>;

  /**
   * Add `delta` to the live aggro `aggroUID` of the room the socket sits in: EA003 when there is
   * no such live aggro there, EA004 when the voter is its author or has voted on it already.
   * Exactly one vote per user counts, however many arrive at once.
   */
  vote(p: string, socketId: string, userUID: string, aggroUID: string, delta: 1 | -1): Promise<VoteOutcome>;

  /** Every live aggro of the programme. */
  liveAggros(p: string): Promise<LiveAggro[]>;

  /** End the aggro if it is still live, returning it; exactly one caller gets it back. */
  endAggro(p: string, roomId: string, aggroUID: string): Promise<LiveAggro | null>;

  /**
   * Open the room's `count` batching window unless one is open. `true` means the caller owns it
   * and must flush it (`flushCount`); the window closes by itself after `ttlMs` should its owner
   * never flush, and with the room.
   */
  claimCountWindow(p: string, roomId: string, ttlMs: number): Promise<boolean>;

  /** The same for the aggro's `aggroPoint` window (`flushPoint`); it closes with the aggro. */
  claimPointWindow(p: string, aggroUID: string, ttlMs: number): Promise<boolean>;

  /** Close the room's `count` window; the count if it differs from the last one sent, which it
   * becomes, and is announced. `null` when unchanged or when the room no longer exists. */
  flushCount(p: string, roomId: string): Promise<number | null>;

  /** Close the aggro's point window; the point if it differs from the last one sent, and is
   * announced. `now` becomes the time it was sent. `null` when unchanged or the aggro is no longer live. */
  flushPoint(p: string, roomId: string, aggroUID: string, now: number): Promise<number | null>;

  /** Register `socketId` as the user's session in the programme; the session it replaces. */
  claimSession(p: string, userUID: string, socketId: string): Promise<string | null>;

  /** The user's current session (socket id) in the programme, if any. */
  sessionOf(p: string, userUID: string): Promise<string | null>;

  /** How many sessions the programme has, on every server. */
  sessionCount(p: string): Promise<number>;

  /** Forget the session, only if it is still the user's current one. */
  releaseSession(p: string, userUID: string, socketId: string): Promise<void>;

  // ---- sessions held through a blip (spec 7.1; which departures are held: domain/grace.ts) ----
  //
  // A session is the user's socket id and the connection (`conn`, a token per connection: a
  // socket.io recovery reuses the socket id on a new connection). A held session keeps its
  // seat, its place in `sessionCount` and its room's membership; only `expireSession` (or
  // `releaseSession`) ends it.

  /**
   * Register `member` as the user's session on connection `conn`, taking over what the user's
   * previous session held, in one step: if the previous socket (another id) sat in a room, the
   * seat passes to `member` (the room's count and membership do not change), and a hold ends.
   * `previous`: the replaced socket id (not the caller's own); `roomId`: where `member` now sits;
   * `heldSince`: when the session was held, if it was.
   */
  resumeSession(p: string, member: Member, conn: string): Promise<ResumeOutcome>;

  /**
   * Hold the user's session `socketId` from `since` until `until`: only if it is still the
   * user's session on connection `conn` (`null`: any connection). `conn` ending in `/*` is a
   * server's prefix (connection tokens are `<nodeId>/<uuid>`): a dead server's socket is held
   * only while its session is still on a connection of that server, so a client that socket.io
   * already recovered elsewhere, under the same socket id, is not held again. `held`; `replaced` (another socket or connection is the session now); `none` (no session).
   */
  holdSession(p: string, userUID: string, socketId: string, conn: string | null, since: number, until: number): Promise<'held' | 'replaced' | 'none'>;

  /**
   * End the user's held session `socketId` if its hold ran out by `now` (`Infinity`: whatever is
   * left of it): it leaves its room as `leave` would (announced alike) and the session is
   * forgotten, in one step, so exactly one caller gets `expired`. `not-due`: held until later;
   * `gone`: not held (resumed, released, or another session).
   */
  expireSession(p: string, userUID: string, socketId: string, now: number): Promise<{ state: 'expired'; left: LeaveOutcome | null } | { state: 'not-due' | 'gone' }>;

  /** The programme's held sessions. */
  heldSessions(p: string): Promise<{ userUID: string; socketId: string; until: number }[]>;

  /** Record a kick of the user from the programme lasting `forMs` from now, seen by every
   * server sharing the backend (their handshakes refuse the user meanwhile); a later kick
   * replaces the time left. */
  kick(p: string, userUID: string, forMs: number): Promise<void>;

  /** How many ms of the user's kick from the programme are left; 0 when not kicked. */
  kickedFor(p: string, userUID: string): Promise<number>;

  /** Programmes that have any state at all. */
  programs(): Promise<string[]>;

  /** `true` when the programme has no sessions and no room but empty persistent ones (they are
   * restored from the database when it comes back), so its runtime can be released;
   * the store then forgets what is left of it (windows, cooldowns and kicks once they have run
   * out). */
  releaseIfIdle(p: string): Promise<boolean>;

  /** Whether the backend answers; `/readyz` reports it. */
  ping(): Promise<boolean>;

  /** Release what the store itself holds. Called by whoever made it (`createBackends`), never
   * beside it: a connection handed to the store stays its maker's. */
  close(): Promise<void>;
}
