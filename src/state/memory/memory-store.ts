/**
 * The state of one process, in memory. Every method runs to completion without awaiting, which
 * is what makes each one atomic: Node never interleaves two synchronous blocks. Announcements go
 * to the broker in the same block, after the state has changed. (`refreshView` alone makes its
 * changes in several such blocks, each atomic; see there.)
 */
import type { Clock } from '../../domain/clock.js';
import type { LeaveOutcome, LiveAggro, Member, Room, RoomView } from '../../domain/model.js';
import type { ChatMessage } from '../../protocol/index.js';
import { aggroMessage, countUpdate, ownerNotice, pointUpdate, roomGone, roomSummary } from '../../domain/payloads.js';
import type {
  CreateRoomOutcome,
  DeleteRoomOutcome,
  JoinCheck,
  JoinOutcome,
  RemoveMemberOutcome,
  RoomChange,
  UpdateRoomOutcome,
  QuickJoinOutcome,
  ResumeOutcome,
  RoomPage,
  RoomPageQuery,
  StartAggroOutcome,
  StateStore,
  VoteOutcome,
} from '../../domain/ports/store.js';
import { DEFAULT_VIEW_SIZE, isOpen, nextView, rankScore, SCAN_BUDGET, searchKey, topScored, type Rankable } from '../../domain/lobby.js';
import { OpenRooms } from './open-rooms.js';
import { MemoryBroker } from './memory-broker.js';

interface RoomState {
  room: Room;
  /** In the order they came in (a Map keeps insertion order): the first is the longest present,
   * who becomes owner when the owner leaves. */
  members: Map<string, Member>;
  countSent: number;
  /** The last messages, oldest first; it goes with the room. */
  history: ChatMessage[];
  /** Creation sequence in the programme: the order of `listRooms` and the cursor of pages. */
  seq: number;
  /** The title's `searchKey`. */
  search: string;
}

interface AggroState {
  aggro: LiveAggro;
  voters: Set<string>;
}

class ProgramState {
  /** Insertion order is creation order, which `listRooms` promises. */
  readonly rooms = new Map<string, RoomState>();
  readonly seatOf = new Map<string, string>();
  readonly aggros = new Map<string, AggroState>();
  readonly cooldownUntil = new Map<string, number>();
  readonly kickedUntil = new Map<string, number>();
  /** Members a room's owner removed (`removalKey`), until when they may not come back. */
  readonly removedUntil = new Map<string, number>();
  /** Open batching windows, by `windowKey`, with the time each closes by itself. */
  readonly windows = new Map<string, number>();
  readonly sessions = new Map<string, string>();
  /** The connection of each user's session, and the sessions held through a blip. */
  readonly conns = new Map<string, string>();
  readonly holds = new Map<string, { socketId: string; since: number; until: number }>();
  /** The rooms by creation sequence, for pages (a binary search finds a cursor's place). */
  order: RoomState[] = [];
  seq = 0;
  /** The open rooms, best quickJoin candidate first. */
  readonly open = new OpenRooms<RoomState>();
  /** The featured view (room ids) and when it was last recomputed. */
  readonly view = new Set<string>();
  viewAt = Number.NEGATIVE_INFINITY;
}

/** The index of the first room of `order` with a sequence above `seq`. */
function after(order: readonly RoomState[], seq: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What the lobby's rules look at, without copying the room: the view and quickJoin pass over
 * every room of a programme, 20,000 of them, so a copy of each (title, hash) per pass showed. */
function rankable(r: RoomState): Rankable {
  const x: Rankable = { persistent: r.room.persistent, max: r.room.max, count: r.members.size, seq: r.seq };
  if (r.room.passwordHash) x.passwordHash = r.room.passwordHash;
  return x;
}

const rankOf = (r: RoomState) => rankScore(rankable(r));

/** Whether the session's connection `current` is `conn`, or of server `<nodeId>/*`. */
function onConnection(current: string | undefined, conn: string): boolean {
  if (!conn.endsWith('/*')) return current === conn;
  return current === undefined || current.startsWith(conn.slice(0, -1));
}

/** After anything that can change whether, or how well, a room is open: its count, its lock. */
function reindex(s: ProgramState, r: RoomState): void {
  const x = rankable(r);
  s.open.set(r, isOpen(x) ? x : null);
}

/** The one place the names of batching windows are made. */
const countWindow = (roomId: string) => `count:${roomId}`;
const removalKey = (roomId: string, userUID: string) => `${roomId}\n${userUID}`;
const pointWindow = (aggroUID: string) => `point:${aggroUID}`;

function view(r: RoomState): RoomView {
  return { ...r.room, count: r.members.size };
}

export class MemoryStore implements StateStore {
  readonly shared = false;
  private readonly state = new Map<string, ProgramState>();

  /** `broker`: where announcements go; the transport registers with it (`Backends.announceThrough`).
   * `viewSize`: the featured view's size (`LOBBY_VIEW_SIZE`). */
  constructor(
    private readonly clock: Clock,
    readonly broker: MemoryBroker = new MemoryBroker(),
    private readonly viewSize: number = DEFAULT_VIEW_SIZE,
  ) {}

  /** The room goes, with its place in the view; its `deleteRoom` is announced. */
  private dropRoom(p: string, s: ProgramState, r: RoomState): void {
    const roomId = r.room.roomId;
    s.rooms.delete(roomId);
    s.open.set(r, null);
    const i = after(s.order, r.seq) - 1;
    if (s.order[i] === r) s.order.splice(i, 1);
    s.windows.delete(countWindow(roomId));
    const inView = s.view.delete(roomId);
    this.broker.toLobbyOf(p, roomId, inView, 'deleteRoom', roomGone(roomId));
  }

  private program(p: string): ProgramState {
    let s = this.state.get(p);
    if (!s) {
      s = new ProgramState();
      this.state.set(p, s);
    }
    return s;
  }

  private leaveNow(p: string, s: ProgramState, socketId: string, onlyRoom?: string): LeaveOutcome | null {
    const roomId = s.seatOf.get(socketId);
    if (roomId === undefined || (onlyRoom !== undefined && onlyRoom !== roomId)) return null;
    const r = s.rooms.get(roomId);
    s.seatOf.delete(socketId);
    const member = r?.members.get(socketId);
    if (!r || !member) return null;
    r.members.delete(socketId);
    reindex(s, r);
    const outcome: LeaveOutcome = { roomId, member, count: r.members.size, deleted: false };
    // The members are listed only when the owner left: every room switch is a leave.
    const members = r.room.ownerUID === member.userUID ? [...r.members.values()] : [];
    if (members.length > 0 && !members.some((m) => m.userUID === member.userUID)) {
      const next = members[0]!;
      r.room.ownerUID = next.userUID;
      outcome.owner = { userUID: next.userUID, displayName: next.displayName };
      this.broker.toRoom(p, roomId, null, 'system', ownerNotice(outcome.owner));
    }
    if (r.members.size === 0) {
      const live = s.aggros.get(roomId);
      if (live) {
        s.aggros.delete(roomId);
        outcome.endedAggro = { ...live.aggro };
      }
      if (!r.room.persistent) {
        outcome.deleted = true;
        this.dropRoom(p, s, r);
      }
    }
    return outcome;
  }

  private seat(s: ProgramState, r: RoomState, member: Member): void {
    r.members.set(member.socketId, { ...member });
    s.seatOf.set(member.socketId, r.room.roomId);
    reindex(s, r);
  }

  async createRoom(p: string, room: Room, creator: Member | null, roomLimit: number): Promise<CreateRoomOutcome> {
    const s = this.program(p);
    const existing = s.rooms.get(room.roomId);
    if (existing) return { ok: true, room: view(existing), existed: true };
    if (s.rooms.size >= roomLimit) return { ok: false, code: 'EC002' };
    const left = creator ? this.leaveNow(p, s, creator.socketId) : null;
    const r: RoomState = { room: { ...room }, members: new Map(), countSent: creator ? 1 : 0, history: [], seq: ++s.seq, search: searchKey(room.title) };
    s.rooms.set(room.roomId, r);
    s.order.push(r);
    if (creator) this.seat(s, r, creator);
    else reindex(s, r);
    // A full view takes the room at its next recompute, if the room earns a place.
    if (s.view.size < this.viewSize) {
      s.view.add(room.roomId);
      this.broker.toLobby(p, creator?.socketId ?? null, 'addRoom', roomSummary(view(r)));
    }
    return left ? { ok: true, room: view(r), left } : { ok: true, room: view(r) };
  }

  async deleteRoom(p: string, roomId: string): Promise<DeleteRoomOutcome | null> {
    const s = this.state.get(p);
    const r = s?.rooms.get(roomId);
    if (!s || !r) return null;
    const outcome: DeleteRoomOutcome = { members: [...r.members.values()].map((m) => ({ ...m })) };
    for (const sid of r.members.keys()) s.seatOf.delete(sid);
    const live = s.aggros.get(roomId);
    if (live) {
      s.aggros.delete(roomId);
      s.windows.delete(pointWindow(live.aggro.aggroUID));
      outcome.endedAggro = { ...live.aggro };
    }
    this.dropRoom(p, s, r);
    return outcome;
  }

  async listRooms(p: string): Promise<RoomView[]> {
    const s = this.state.get(p);
    return s ? [...s.rooms.values()].map(view) : [];
  }

  async roomCount(p: string): Promise<number> {
    return this.state.get(p)?.rooms.size ?? 0;
  }

  async getRoom(p: string, roomId: string): Promise<RoomView | null> {
    const r = this.state.get(p)?.rooms.get(roomId);
    return r ? view(r) : null;
  }

  async viewRooms(p: string): Promise<RoomView[]> {
    const s = this.state.get(p);
    if (!s) return [];
    return [...s.view].map((id) => s.rooms.get(id)!).sort((a, b) => a.seq - b.seq).map(view);
  }

  /** One pass over the programme's rooms per interval: 20,000 rooms take about a millisecond.
   * The changes it decides are then made one swap (a room out, one in) per turn of the event
   * loop, each with its announcements in the same block: every `addRoom`/`deleteRoom` is a write
   * to each seed lobby socket, and ten swaps to 900 of them were one block of 100-200 ms on the
   * lobby bench that every other call waited behind. Between turns the state and what was
   * announced agree, as after any other method; the view is complete when the call resolves. */
  async refreshView(p: string, now: number, intervalMs: number): Promise<RoomView[]> {
    const s = this.state.get(p);
    if (!s) return [];
    if (now - s.viewAt >= intervalMs) {
      s.viewAt = now;
      if (s.rooms.size > s.view.size) {
        const best = topScored(s.rooms.values(), this.viewSize, rankOf).map(({ item, score }) => ({ roomId: item.room.roomId, score }));
        const { enter, leave } = nextView(s.view, best, (id) => rankOf(s.rooms.get(id)!), this.viewSize);
        // `nextView` lists the rooms taking free places first, then the swaps in pairs.
        const free = enter.length - leave.length;
        const steps: (() => void)[] = [];
        for (let i = 0; i < free; i++) steps.push(() => this.enterView(p, s, enter[i]!));
        for (let j = 0; j < leave.length; j++) {
          steps.push(() => {
            // A room deleted meanwhile has left already, and freed its place all the same.
            this.leaveView(p, s, leave[j]!);
            this.enterView(p, s, enter[free + j]!);
          });
        }
        for (let k = 0; k < steps.length; k++) {
          if (k > 0) await new Promise<void>((resolve) => setImmediate(resolve));
          // Released meanwhile (its last socket gone): nothing left to change.
          if (this.state.get(p) !== s) break;
          steps[k]!();
        }
      }
    }
    return this.viewRooms(p);
  }

  /** `roomId` leaves the view, if it is still there (a deletion takes it out by itself). */
  private leaveView(p: string, s: ProgramState, roomId: string): void {
    if (s.view.delete(roomId)) this.broker.toLobby(p, null, 'deleteRoom', roomGone(roomId));
  }

  /** `roomId` enters the view, if it still exists, is not in it and a place is free (a room
   * created meanwhile may have taken it). */
  private enterView(p: string, s: ProgramState, roomId: string): void {
    const r = s.rooms.get(roomId);
    if (!r || s.view.has(roomId) || s.view.size >= this.viewSize) return;
    s.view.add(roomId);
    // The room's count as announced now; a window still open sends any change later.
    r.countSent = r.members.size;
    this.broker.toLobby(p, null, 'addRoom', roomSummary(view(r)));
  }

  async pageRooms(p: string, query: RoomPageQuery): Promise<RoomPage> {
    const s = this.state.get(p);
    if (!s) return { rooms: [], next: null };
    const rooms: RoomView[] = [];
    const start = query.after === null ? 0 : after(s.order, query.after);
    const end = Math.min(s.order.length, start + SCAN_BUDGET);
    let i = start;
    for (; i < end && rooms.length < query.limit; i++) {
      const r = s.order[i]!;
      // Filtered before the copy: a search passes over up to SCAN_BUDGET rooms for a page of
      // 20, and a copy of each room passed over was the lobby bench's largest surviving
      // allocation (scavenges, which every call waits behind, grow with what survives).
      if (query.open && !isOpen(rankable(r))) continue;
      if (query.q !== null && !r.search.includes(query.q)) continue;
      rooms.push(view(r));
    }
    return { rooms, next: i < s.order.length ? s.order[i - 1]!.seq : null };
  }

  /** The first open room from the front of the index that is not the caller's, matches, and
   * has not removed the caller. */
  async quickJoin(p: string, member: Member, q: string | null, now?: number): Promise<QuickJoinOutcome> {
    const s = this.state.get(p);
    if (!s) return { ok: false, code: 'EJ004' };
    const mine = s.seatOf.get(member.socketId);
    let best: RoomState | null = null;
    for (const r of s.open.best()) {
      if (r.room.roomId === mine) continue;
      if (q !== null && !r.search.includes(q)) continue;
      if (now !== undefined && this.removed(s, r.room.roomId, member.userUID, now)) continue;
      best = r;
      break;
    }
    if (!best) return { ok: false, code: 'EJ004' };
    const out = await this.join(p, member, best.room.roomId, now === undefined ? {} : { now });
    if (!out.ok) return { ok: false, code: 'EJ004' };
    const { ok: _ok, already: _already, ...rest } = out;
    return { ok: true, roomId: best.room.roomId, title: best.room.title, ...rest };
  }

  async roomCounts(p: string, roomIds: readonly string[]): Promise<Record<string, number | null>> {
    const s = this.state.get(p);
    const out: Record<string, number | null> = {};
    for (const id of roomIds) out[id] = s?.rooms.get(id)?.members.size ?? null;
    return out;
  }

  private removed(s: ProgramState, roomId: string, userUID: string, now: number): boolean {
    return (s.removedUntil.get(removalKey(roomId, userUID)) ?? 0) > now;
  }

  async join(p: string, member: Member, roomId: string, check: JoinCheck = {}): Promise<JoinOutcome> {
    const s = this.program(p);
    const r = s.rooms.get(roomId);
    if (!r) return { ok: false, code: 'EJ001' };
    const owner = r.room.ownerUID === undefined ? {} : { ownerUID: r.room.ownerUID };
    if (s.seatOf.get(member.socketId) === roomId) return { ok: true, already: true, count: r.members.size, ...owner };
    if (check.now !== undefined && this.removed(s, roomId, member.userUID, check.now)) return { ok: false, code: 'EJ005' };
    if (check.passwordHash !== undefined && (r.room.passwordHash ?? null) !== check.passwordHash) return { ok: false, code: 'EJ003' };
    if (r.members.size >= r.room.max) return { ok: false, code: 'EJ002' };
    const left = this.leaveNow(p, s, member.socketId);
    this.seat(s, r, member);
    const outcome: JoinOutcome = { ok: true, already: false, count: r.members.size };
    if (left) outcome.left = left;
    if (r.room.ownerUID !== undefined) outcome.ownerUID = r.room.ownerUID;
    const live = s.aggros.get(roomId);
    if (live) {
      outcome.aggro = { ...live.aggro };
      this.broker.toSocket(p, member.socketId, 'aggro', aggroMessage(live.aggro));
    }
    return outcome;
  }

  async leave(p: string, socketId: string, roomId?: string): Promise<LeaveOutcome | null> {
    const s = this.state.get(p);
    return s ? this.leaveNow(p, s, socketId, roomId) : null;
  }

  async removeMember(p: string, caller: Member, userUID: string, now: number, blockUntil: number): Promise<RemoveMemberOutcome> {
    const s = this.state.get(p);
    const roomId = s?.seatOf.get(caller.socketId);
    const r = roomId === undefined ? undefined : s?.rooms.get(roomId);
    if (!s || !r || roomId === undefined) return { ok: false, code: 'EM001' };
    if (r.room.ownerUID !== caller.userUID) return { ok: false, code: 'EO001' };
    if (userUID === caller.userUID) return { ok: false, code: 'EV001' };
    const removed = [...r.members.values()].filter((m) => m.userUID === userUID);
    if (removed.length === 0) return { ok: false, code: 'EV001' };
    // The owner stays, so the room neither empties nor changes hands.
    for (const m of removed) {
      r.members.delete(m.socketId);
      s.seatOf.delete(m.socketId);
    }
    for (const [key, until] of s.removedUntil) if (until <= now) s.removedUntil.delete(key);
    s.removedUntil.set(removalKey(roomId, userUID), blockUntil);
    return { ok: true, removed: removed.map((m) => ({ ...m })), count: r.members.size };
  }

  async updateRoom(p: string, caller: Member, change: RoomChange): Promise<UpdateRoomOutcome> {
    const s = this.state.get(p);
    const roomId = s?.seatOf.get(caller.socketId);
    const r = roomId === undefined ? undefined : s?.rooms.get(roomId);
    if (!s || !r || roomId === undefined) return { ok: false, code: 'EM001' };
    if (r.room.ownerUID !== caller.userUID) return { ok: false, code: 'EO001' };
    if (change.title !== undefined) {
      r.room.title = change.title;
      r.search = searchKey(change.title);
    }
    if (change.passwordHash === null) delete r.room.passwordHash;
    else if (change.passwordHash !== undefined) r.room.passwordHash = change.passwordHash;
    // A lock takes the room out of quickJoin's index, an unlock puts it back.
    reindex(s, r);
    // Where its `deleteRoom` would go: the lobby while in view, else its watchers.
    const inView = s.view.has(roomId);
    this.broker.toLobbyOf(p, roomId, inView, 'deleteRoom', roomGone(roomId));
    this.broker.toLobbyOf(p, roomId, inView, 'addRoom', roomSummary(view(r)));
    r.countSent = r.members.size;
    return { ok: true, room: view(r) };
  }

  async roomOf(p: string, socketId: string): Promise<string | null> {
    return this.seatOf(p, socketId);
  }

  /** `roomOf` without the promise, for the moderation store of the same process. */
  seatOf(p: string, socketId: string): string | null {
    return this.state.get(p)?.seatOf.get(socketId) ?? null;
  }

  async members(p: string, roomId: string): Promise<Member[]> {
    const r = this.state.get(p)?.rooms.get(roomId);
    return r ? [...r.members.values()].map((m) => ({ ...m })) : [];
  }

  async chat(p: string, socketId: string, roomId: string, message: ChatMessage, historySize: number): Promise<boolean> {
    const s = this.state.get(p);
    if (!s || s.seatOf.get(socketId) !== roomId) return false;
    const r = s.rooms.get(roomId);
    if (!r) return false;
    if (historySize > 0) {
      r.history.push({ ...message });
      if (r.history.length > historySize) r.history.splice(0, r.history.length - historySize);
    }
    this.broker.toRoom(p, roomId, socketId, 'chat', message);
    return true;
  }

  async history(p: string, roomId: string, before: string | null, limit: number): Promise<ChatMessage[]> {
    const h = this.state.get(p)?.rooms.get(roomId)?.history ?? [];
    const end = before === null ? h.length : h.findIndex((m) => m.id === before);
    if (end < 0) return [];
    return h.slice(Math.max(0, end - limit), end).map((m) => ({ ...m }));
  }


  async removeChat(p: string, roomId: string, id: string): Promise<boolean> {
    const h = this.state.get(p)?.rooms.get(roomId)?.history;
    const i = h ? h.findIndex((m) => m.id === id) : -1;
    if (i < 0) return false;
    h!.splice(i, 1);
    return true;
  }

  async startAggro(p: string, socketId: string, aggro: LiveAggro, cooldownMs: number): Promise<StartAggroOutcome> {
    const s = this.program(p);
    if (s.seatOf.get(socketId) !== aggro.roomId) return { ok: false, code: 'EM001' };
    if (s.aggros.has(aggro.roomId)) return { ok: false, code: 'EA001' };
    const until = s.cooldownUntil.get(aggro.userUID);
    if (until !== undefined && until > aggro.startedAt) return { ok: false, code: 'EA002' };
    s.aggros.set(aggro.roomId, { aggro: { ...aggro }, voters: new Set() });
    s.cooldownUntil.set(aggro.userUID, aggro.startedAt + cooldownMs);
    return { ok: true };
  }

  async vote(p: string, socketId: string, userUID: string, aggroUID: string, delta: 1 | -1): Promise<VoteOutcome> {
    const s = this.state.get(p);
    const roomId = s?.seatOf.get(socketId);
    const live = roomId === undefined ? undefined : s?.aggros.get(roomId);
    if (!live || roomId === undefined || live.aggro.aggroUID !== aggroUID) return { ok: false, code: 'EA003' };
    if (live.aggro.userUID === userUID || live.voters.has(userUID)) return { ok: false, code: 'EA004' };
    live.voters.add(userUID);
    live.aggro.point += delta;
    if (delta > 0) live.aggro.up++;
    else live.aggro.down++;
    return { ok: true, point: live.aggro.point, roomId };
  }

  async liveAggros(p: string): Promise<LiveAggro[]> {
    const s = this.state.get(p);
    return s ? [...s.aggros.values()].map((a) => ({ ...a.aggro })) : [];
  }

  async endAggro(p: string, roomId: string, aggroUID: string): Promise<LiveAggro | null> {
    const s = this.state.get(p);
    const live = s?.aggros.get(roomId);
    if (!s || !live || live.aggro.aggroUID !== aggroUID) return null;
    s.aggros.delete(roomId);
    s.windows.delete(pointWindow(aggroUID));
    return { ...live.aggro };
  }

  async announceEnd(p: string, roomId: string, aggroUID: string, finalPoint: number | null, event: 'stopAggro' | 'deleteAggro'): Promise<void> {
    if (finalPoint !== null) this.broker.toRoom(p, roomId, null, 'aggroPoint', pointUpdate(aggroUID, finalPoint));
    this.broker.toRoom(p, roomId, null, event, aggroUID);
  }

  async claimCountWindow(p: string, roomId: string, ttlMs: number): Promise<boolean> {
    return this.claim(p, countWindow(roomId), ttlMs);
  }

  async claimPointWindow(p: string, aggroUID: string, ttlMs: number): Promise<boolean> {
    return this.claim(p, pointWindow(aggroUID), ttlMs);
  }

  private claim(p: string, key: string, ttlMs: number): boolean {
    const s = this.program(p);
    const now = this.clock.now();
    const open = s.windows.get(key);
    if (open !== undefined && open > now) return false;
    s.windows.set(key, now + ttlMs);
    return true;
  }

  async flushCount(p: string, roomId: string): Promise<number | null> {
    const s = this.state.get(p);
    if (!s) return null;
    s.windows.delete(countWindow(roomId));
    const r = s.rooms.get(roomId);
    if (!r || r.members.size === r.countSent) return null;
    r.countSent = r.members.size;
    this.broker.toLobbyOf(p, roomId, s.view.has(roomId), 'count', countUpdate(roomId, r.countSent));
    return r.countSent;
  }

  async flushPoint(p: string, roomId: string, aggroUID: string, now: number): Promise<number | null> {
    const s = this.state.get(p);
    if (!s) return null;
    s.windows.delete(pointWindow(aggroUID));
    const live = s.aggros.get(roomId);
    if (!live || live.aggro.aggroUID !== aggroUID || live.aggro.point === live.aggro.pointSent) return null;
    live.aggro.pointSent = live.aggro.point;
    live.aggro.pointSentAt = now;
    this.broker.toRoom(p, roomId, null, 'aggroPoint', pointUpdate(aggroUID, live.aggro.point));
    return live.aggro.point;
  }

  async claimSession(p: string, userUID: string, socketId: string): Promise<string | null> {
    const s = this.program(p);
    const previous = s.sessions.get(userUID) ?? null;
    s.sessions.set(userUID, socketId);
    return previous === socketId ? null : previous;
  }

  async sessionOf(p: string, userUID: string): Promise<string | null> {
    return this.state.get(p)?.sessions.get(userUID) ?? null;
  }

  async sessionCount(p: string): Promise<number> {
    return this.state.get(p)?.sessions.size ?? 0;
  }

  async releaseSession(p: string, userUID: string, socketId: string): Promise<void> {
    const s = this.state.get(p);
    if (s?.sessions.get(userUID) === socketId) {
      s.sessions.delete(userUID);
      s.conns.delete(userUID);
      s.holds.delete(userUID);
    }
  }

  async resumeSession(p: string, member: Member, conn: string): Promise<ResumeOutcome> {
    const s = this.program(p);
    const { userUID, socketId } = member;
    const prev = s.sessions.get(userUID) ?? null;
    const hold = s.holds.get(userUID);
    s.sessions.set(userUID, socketId);
    s.conns.set(userUID, conn);
    s.holds.delete(userUID);
    if (prev !== null && prev !== socketId) {
      // The seat passes on in place: same room, same count, no announcement.
      const roomId = s.seatOf.get(prev);
      const r = roomId === undefined ? undefined : s.rooms.get(roomId);
      if (r && roomId !== undefined && r.members.has(prev) && !s.seatOf.has(socketId)) {
        // In its place in the arrival order: the owner's heir is the longest-present member.
        r.members = new Map([...r.members].map(([id, m]) => (id === prev ? [socketId, { ...member }] : [id, m])));
        s.seatOf.delete(prev);
        s.seatOf.set(socketId, roomId);
      }
    }
    return {
      previous: prev !== null && prev !== socketId ? prev : null,
      roomId: s.seatOf.get(socketId) ?? null,
      heldSince: hold ? hold.since : null,
    };
  }

  async holdSession(p: string, userUID: string, socketId: string, conn: string | null, since: number, until: number): Promise<'held' | 'replaced' | 'none'> {
    const s = this.state.get(p);
    const current = s?.sessions.get(userUID);
    if (!s || current === undefined) return 'none';
    if (current !== socketId || (conn !== null && !onConnection(s.conns.get(userUID), conn))) return 'replaced';
    s.holds.set(userUID, { socketId, since, until });
    return 'held';
  }

  async expireSession(p: string, userUID: string, socketId: string, now: number): Promise<{ state: 'expired'; left: LeaveOutcome | null } | { state: 'not-due' | 'gone' }> {
    const s = this.state.get(p);
    const hold = s?.holds.get(userUID);
    if (!s || !hold || hold.socketId !== socketId || s.sessions.get(userUID) !== socketId) return { state: 'gone' };
    if (hold.until > now) return { state: 'not-due' };
    const left = this.leaveNow(p, s, socketId);
    s.sessions.delete(userUID);
    s.conns.delete(userUID);
    s.holds.delete(userUID);
    return { state: 'expired', left };
  }

  async heldSessions(p: string): Promise<{ userUID: string; socketId: string; until: number }[]> {
    const s = this.state.get(p);
    return s ? [...s.holds].map(([userUID, h]) => ({ userUID, socketId: h.socketId, until: h.until })) : [];
  }

  async kick(p: string, userUID: string, forMs: number): Promise<void> {
    this.program(p).kickedUntil.set(userUID, this.clock.now() + forMs);
  }

  async kickedFor(p: string, userUID: string): Promise<number> {
    const until = this.state.get(p)?.kickedUntil.get(userUID);
    return until === undefined ? 0 : Math.max(0, until - this.clock.now());
  }

  async programs(): Promise<string[]> {
    return [...this.state.keys()];
  }

  async releaseIfIdle(p: string): Promise<boolean> {
    const s = this.state.get(p);
    if (!s) return true;
    if (s.sessions.size > 0) return false;
    for (const r of s.rooms.values()) if (r.members.size > 0 || !r.room.persistent) return false;
    s.rooms.clear();
    s.open.clear();
    s.order = [];
    s.view.clear();
    // Cooldowns and kicks outlive the programme's last socket: a user reconnecting at once must
    // not post again early, nor a kicked one get back in. Keep them until they have run out.
    const now = this.clock.now();
    for (const [user, until] of s.cooldownUntil) if (until <= now) s.cooldownUntil.delete(user);
    for (const [user, until] of s.kickedUntil) if (until <= now) s.kickedUntil.delete(user);
    // Only user rooms have owners, and an idle programme has none left: their removals are moot.
    s.removedUntil.clear();
    if (s.cooldownUntil.size === 0 && s.kickedUntil.size === 0) this.state.delete(p);
    return true;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.state.clear();
  }
}
