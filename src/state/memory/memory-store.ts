/**
 * The state of one process, in memory. Every method runs to completion without awaiting, which
 * is what makes each one atomic: Node never interleaves two synchronous blocks.
 */
import type { Clock } from '../../domain/clock.js';
import type { LeaveOutcome, LiveAggro, Member, Room, RoomView } from '../../domain/model.js';
import type { CreateRoomOutcome, DeleteRoomOutcome, JoinOutcome, StartAggroOutcome, StateStore, VoteOutcome } from '../../domain/ports/store.js';

interface RoomState {
  room: Room;
  members: Map<string, Member>;
  countSent: number;
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
  readonly windows = new Map<string, number>();
  readonly sessions = new Map<string, string>();
}

function view(r: RoomState): RoomView {
  return { ...r.room, count: r.members.size };
}

export class MemoryStore implements StateStore {
  /** One process delivers in the order it decides: the domain sends every event itself. */
  readonly announces = false;
  readonly shared = false;
  private readonly state = new Map<string, ProgramState>();

  constructor(private readonly clock: Clock) {}

  private program(p: string): ProgramState {
    let s = this.state.get(p);
    if (!s) {
      s = new ProgramState();
      this.state.set(p, s);
    }
    return s;
  }

  private leaveNow(s: ProgramState, socketId: string, onlyRoom?: string): LeaveOutcome | null {
    const roomId = s.seatOf.get(socketId);
    if (roomId === undefined || (onlyRoom !== undefined && onlyRoom !== roomId)) return null;
    const r = s.rooms.get(roomId);
    s.seatOf.delete(socketId);
    const member = r?.members.get(socketId);
    if (!r || !member) return null;
    r.members.delete(socketId);
    const outcome: LeaveOutcome = { roomId, member, count: r.members.size, deleted: false };
    if (r.members.size === 0) {
      const live = s.aggros.get(roomId);
      if (live) {
        s.aggros.delete(roomId);
        outcome.endedAggro = { ...live.aggro };
      }
      if (!r.room.persistent) {
        s.rooms.delete(roomId);
        s.windows.delete(`count:${roomId}`);
        outcome.deleted = true;
      }
    }
    return outcome;
  }

  private seat(s: ProgramState, r: RoomState, member: Member): void {
    r.members.set(member.socketId, { ...member });
    s.seatOf.set(member.socketId, r.room.roomId);
  }

  async createRoom(p: string, room: Room, creator: Member | null, roomLimit: number): Promise<CreateRoomOutcome> {
    const s = this.program(p);
    const existing = s.rooms.get(room.roomId);
    if (existing) return { ok: true, room: view(existing), existed: true };
    if (s.rooms.size >= roomLimit) return { ok: false, code: 'EC002' };
    const left = creator ? this.leaveNow(s, creator.socketId) : null;
    const r: RoomState = { room: { ...room }, members: new Map(), countSent: creator ? 1 : 0 };
    s.rooms.set(room.roomId, r);
    if (creator) this.seat(s, r, creator);
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
      s.windows.delete(`point:${live.aggro.aggroUID}`);
      outcome.endedAggro = { ...live.aggro };
    }
    s.rooms.delete(roomId);
    s.windows.delete(`count:${roomId}`);
    return outcome;
  }

  async listRooms(p: string): Promise<RoomView[]> {
    const s = this.state.get(p);
    return s ? [...s.rooms.values()].map(view) : [];
  }

  async getRoom(p: string, roomId: string): Promise<RoomView | null> {
    const r = this.state.get(p)?.rooms.get(roomId);
    return r ? view(r) : null;
  }

  async join(p: string, member: Member, roomId: string): Promise<JoinOutcome> {
    const s = this.program(p);
    const r = s.rooms.get(roomId);
    if (!r) return { ok: false, code: 'EJ001' };
    if (s.seatOf.get(member.socketId) === roomId) return { ok: true, already: true, count: r.members.size };
    if (r.members.size >= r.room.max) return { ok: false, code: 'EJ002' };
    const left = this.leaveNow(s, member.socketId);
    this.seat(s, r, member);
    const outcome: JoinOutcome = { ok: true, already: false, count: r.members.size };
    if (left) outcome.left = left;
    const live = s.aggros.get(roomId);
    if (live) outcome.aggro = { ...live.aggro };
    return outcome;
  }

  async leave(p: string, socketId: string, roomId?: string): Promise<LeaveOutcome | null> {
    const s = this.state.get(p);
    return s ? this.leaveNow(s, socketId, roomId) : null;
  }

  async roomOf(p: string, socketId: string): Promise<string | null> {
    return this.state.get(p)?.seatOf.get(socketId) ?? null;
  }

  async members(p: string, roomId: string): Promise<Member[]> {
    const r = this.state.get(p)?.rooms.get(roomId);
    return r ? [...r.members.values()].map((m) => ({ ...m })) : [];
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
    s.windows.delete(`point:${aggroUID}`);
    return { ...live.aggro };
  }

  async claimWindow(p: string, key: string, ttlMs: number): Promise<boolean> {
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
    s.windows.delete(`count:${roomId}`);
    const r = s.rooms.get(roomId);
    if (!r || r.members.size === r.countSent) return null;
    r.countSent = r.members.size;
    return r.countSent;
  }

  async flushPoint(p: string, roomId: string, aggroUID: string, now: number): Promise<number | null> {
    const s = this.state.get(p);
    if (!s) return null;
    s.windows.delete(`point:${aggroUID}`);
    const live = s.aggros.get(roomId);
    if (!live || live.aggro.aggroUID !== aggroUID || live.aggro.point === live.aggro.pointSent) return null;
    live.aggro.pointSent = live.aggro.point;
    live.aggro.pointSentAt = now;
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
    if (s?.sessions.get(userUID) === socketId) s.sessions.delete(userUID);
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
    // Cooldowns and kicks outlive the programme's last socket: a user reconnecting at once must
    // not post again early, nor a kicked one get back in. Keep them until they have run out.
    const now = this.clock.now();
    for (const [user, until] of s.cooldownUntil) if (until <= now) s.cooldownUntil.delete(user);
    for (const [user, until] of s.kickedUntil) if (until <= now) s.kickedUntil.delete(user);
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
