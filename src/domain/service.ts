/**
 * The rules of onair: rooms, seats, chat, aggros and votes, over any `StateStore` and any
 * `Delivery`. Every decision that could race is one atomic store call; this class only decides
 * what follows from its outcome and who hears about it. Caller replies (acks, `createRoomReq`,
 * ...) are the transport's job; broadcasts are made here, but for the events whose order across
 * servers matters, which the store announces inside the decision (see `StateStore`).
 */
import type { Logger } from 'pino';
import { HISTORY_PAGE_DEFAULT, ROOM_PAGE_DEFAULT, type ChatMessage, type RoomDetails, type RoomSummary, type UserInfo } from '../protocol/index.js';
import { decodeCursor, encodeCursor, searchKey } from './lobby.js';
import type { Deadline, DeadlineIndex } from './ports/cluster.js';
import type { RoomChange, StateStore } from './ports/store.js';
import { aggroRecord, finalPointDelay, newAggro } from './aggro.js';
import { Batcher } from './batcher.js';
import type { Clock } from './clock.js';
import type { Delivery } from './ports/delivery.js';
import type { IdSource } from './ids.js';
import { fail, type EndReason, type LeaveOutcome, type LiveAggro, type Member, type Result, type Room, type RoomView } from './model.js';
import { quietObserver, type DomainObserver } from './ports/observer.js';
import { defaultPasswordLimits, PasswordGuard } from './password-guard.js';
import { aggroMessage, roomDetails, roomSummary } from './payloads.js';
import type { ModerationRecords } from './ports/moderation-records.js';
import type { RecordSink } from './ports/records.js';
import { TimerSet } from './timers.js';
import type { ChatGuard } from './moderation/moderation.js';

export interface ServiceOptions {
  /** @default 20000 */
  roomsPerProgramMax: number;
  /** @default 30000 */
  aggroTtlMs: number;
  /** @default 60000 */
  aggroCooldownMs: number;
  /** @default 500; 0 turns batching off */
  batchIntervalMs: number;
  /** How long a kicked user's handshakes into the programme are refused. @default 0 (off) */
  kickCooldownMs?: number;
  /** How many chat messages each room keeps for newcomers (`HISTORY_SIZE`). @default 0 (none) */
  historySize?: number;
  /** How long a session whose socket went away unchosen keeps its seat (`RECONNECT_GRACE_MS`,
   * spec 7.1; which departures: `grace.ts`). @default 0 (off) */
  reconnectGraceMs?: number;
  /** How long a member a room's owner removed may not rejoin it (`ROOM_REMOVAL_BLOCK_MS`,
   * EJ005). @default 600000 (spec 9: ten minutes) */
  removalBlockMs?: number;
}

/** A session that came back within its grace (or took over a still-open one). */
export interface Resumed {
  /** The room it sits in again (`null`: it was in the lobby). */
  roomId: string | null;
  /** Since when it may have missed messages (`null`: unknown, the old socket looked alive). */
  since: number | null;
}

/** Spec 9's ten minutes. */
export const DEFAULT_REMOVAL_BLOCK_MS = 600_000;

export interface ServiceDeps {
  store: StateStore;
  delivery: Delivery;
  records: RecordSink;
  clock: Clock;
  ids: IdSource;
  log: Logger;
  /** The programme's "title_broadcaster" when a schedule knows it. */
  titleBroadOf?: (p: string) => string | undefined;
  /** Deadlines any server can honour should the one that set them die (in memory with one
   * process, where this process's own timers are the only ones to act on them). */
  deadlines: DeadlineIndex;
  observer?: DomainObserver;
  /** Every password hash goes through it; bounded with the default limits when absent. */
  passwords?: PasswordGuard;
  /** Moderation (spec 9): the word filter on every text, mutes, slow mode, duplicates. */
  guard?: ChatGuard;
  /** Where room owners' actions are audited (spec 9); not audited when absent. */
  audit?: Pick<ModerationRecords, 'audit'>;
}

/** Timers of one programme on this process, stopped together when it is released. */
class ProgramRuntime {
  readonly timers = new TimerSet();
}

/** Where an operator's room is kept durable (the database), so that it outlives the state. */
export interface RoomPersistence {
  save(room: Room): Promise<void>;
  /** Take back a room that was saved but then refused. */
  discard(room: Room): Promise<void>;
}

const inStateOnly: RoomPersistence = { save: async () => {}, discard: async () => {} };

/** Persistent rooms looked up (and the missing ones put back) per store call when a programme
 * is restored: a few round trips for a big programme, none of which holds Redis for long. */
const RESTORE_BATCH = 500;

/** `ownerUID` for an acknowledgement, when the room has an owner. */
function owned(ownerUID: string | undefined): { ownerUID?: string } {
  return ownerUID ? { ownerUID } : {};
}

function userInfo(m: Member): UserInfo {
  const u: UserInfo = { userUID: m.userUID, displayName: m.displayName };
  if (m.photoURL) u.photoURL = m.photoURL;
  return u;
}

export class OnAirService {
  private readonly runtimes = new Map<string, ProgramRuntime>();
  private readonly batcher: Batcher;
  private readonly observer: DomainObserver;
  private readonly passwords: PasswordGuard;
  private stopped = false;

  constructor(
    private readonly deps: ServiceDeps,
    readonly options: ServiceOptions,
  ) {
    this.observer = deps.observer ?? quietObserver;
    this.passwords = deps.passwords ?? new PasswordGuard(defaultPasswordLimits, deps.clock);
    this.batcher = new Batcher(deps.store, deps.clock, options.batchIntervalMs, deps.log, deps.deadlines, this.observer);
  }

  private runtime(p: string): ProgramRuntime {
    if (this.stopped) {
      // After stop nothing may be scheduled here; with shared state, windows opened while
      // sockets leave are flushed by another server through their deadlines.
      const idle = new ProgramRuntime();
      idle.timers.stop();
      return idle;
    }
    let r = this.runtimes.get(p);
    if (!r) {
      r = new ProgramRuntime();
      this.runtimes.set(p, r);
    }
    return r;
  }

  /** Programmes with a runtime on this process (timers that may still fire). */
  get programsWithRuntime(): string[] {
    return [...this.runtimes.keys()];
  }

  // ---- sessions -------------------------------------------------------------------------

  /** The reconnect grace, 0 when off. */
  get graceMs(): number {
    return this.options.reconnectGraceMs ?? 0;
  }

  /**
   * A socket has been accepted: it becomes the user's only session in the programme. With the
   * reconnect grace on, on connection `conn`, it takes over what the previous session held (its
   * seat, without `leaveRoom`/`joinRoom`): `Resumed` when there was one, held or still open.
   */
  async openSession(p: string, m: Member, conn?: string): Promise<Resumed | null> {
    this.runtime(p);
    let previous: string | null;
    let resumed: Resumed | null = null;
    if (this.graceMs > 0 && conn !== undefined) {
      const out = await this.deps.store.resumeSession(p, m, conn);
      previous = out.previous;
      // A recovered socket keeps its id: found in its seat, it is resumed even if its hold was
      // not written yet.
      if (out.heldSince !== null || out.previous !== null || out.roomId !== null) resumed = { roomId: out.roomId, since: out.heldSince };
      // Its grace is over; a deadline left behind finds nothing held and is dropped.
      if (out.heldSince !== null) this.observer.sessionResumed?.(p);
    } else previous = await this.deps.store.claimSession(p, m.userUID, m.socketId);
    // A held session's socket is gone already: there is nobody to tell.
    if (previous && !(resumed && resumed.since !== null)) {
      this.deps.log.info({ program: p, userUID: m.userUID, previous, socketId: m.socketId }, 'duplicate session replaced');
      this.deps.delivery.endSession(p, previous, {
        code: 'DUPLICATE_SESSION',
        message: 'You connected to this programme from another session.',
      });
      this.observer.sessionEnded(p, 'DUPLICATE_SESSION');
    }
    if (resumed) {
      // Its room's deliveries reach the new socket from now on (a recovered one is there already).
      if (resumed.roomId) this.deps.delivery.enterRoom(p, m.socketId, resumed.roomId);
      this.deps.log.info({ program: p, userUID: m.userUID, socketId: m.socketId, roomId: resumed.roomId }, 'session resumed');
    }
    return resumed;
  }

  /**
   * What a resumed session gets when its client could not recover the missed events itself
   * (spec 7.1): `session`, the room's messages since `since` (all it keeps when unknown: the
   * client tells repeats apart by `id`), then the room's live aggro with its point.
   */
  async catchUp(p: string, socketId: string, resumed: Resumed): Promise<void> {
    const { delivery, store } = this.deps;
    delivery.toSocket(p, socketId, 'session', { resumed: true, roomId: resumed.roomId });
    if (!resumed.roomId) return;
    const since = resumed.since;
    for (const message of await this.recent(p, resumed.roomId)) {
      if (since === null || message.ts >= since) delivery.toSocket(p, socketId, 'chat', message);
    }
    const live = (await store.liveAggros(p)).find((a) => a.roomId === resumed.roomId);
    if (live) delivery.toSocket(p, socketId, 'aggro', aggroMessage(live));
  }

  /**
   * The socket went away without anyone choosing it (`grace.ts`): its session keeps its seat
   * until the grace runs out, when it ends on whichever server is alive (the deadline goes in
   * first, as an aggro's). `since`: from when it may have missed messages. `conn`: its
   * connection (`null`: any, for a dead server's socket). `false` when there was nothing left to
   * hold (the session was already gone): the caller then closes it as usual.
   */
  async holdSession(p: string, m: Member, conn: string | null, since: number): Promise<boolean> {
    const until = this.deps.clock.now() + this.graceMs;
    const deadline: Deadline = { kind: 'session', p, userUID: m.userUID, socketId: m.socketId };
    await this.deps.deadlines.add(deadline, until);
    const out = await this.deps.store.holdSession(p, m.userUID, m.socketId, conn, since, until);
    if (out !== 'held') {
      await this.deps.deadlines.remove(deadline);
      // `replaced`: a newer socket (or this one, recovered on a new connection) is the session.
      return out === 'replaced';
    }
    this.runtime(p).timers.at(until, () => this.deps.clock.now(), () => void this.expireSession(p, m.userUID, m.socketId, until).catch(() => {}));
    this.observer.sessionHeld?.(p);
    this.deps.log.info({ program: p, userUID: m.userUID, socketId: m.socketId, until }, 'session held');
    return true;
  }

  /**
   * End a held session whose grace ran out by `now` (`Infinity`: at once, as a kick or the
   * programme's end does): it leaves its room as on `leaveRoom`. Exactly one caller, on any
   * server, does it; the others find it `gone`.
   */
  async expireSession(p: string, userUID: string, socketId: string, now: number = this.deps.clock.now()): Promise<'expired' | 'not-due' | 'gone'> {
    const out = await this.deps.store.expireSession(p, userUID, socketId, now);
    if (out.state === 'not-due') return out.state;
    await this.deps.deadlines.remove({ kind: 'session', p, userUID, socketId }).catch(() => {});
    if (out.state === 'expired') {
      this.deps.log.info({ program: p, userUID, socketId }, 'held session ended: grace over');
      if (out.left) await this.afterLeave(p, out.left);
    }
    return out.state;
  }

  /** Every held session of the programme ends now (its programme ended). */
  async expireHeldSessions(p: string): Promise<void> {
    for (const h of await this.deps.store.heldSessions(p)) await this.expireSession(p, h.userUID, h.socketId, Number.POSITIVE_INFINITY);
  }

  /** The socket is gone: it leaves its room as on `leaveRoom`. */
  async closeSession(p: string, m: Member): Promise<void> {
    const left = await this.deps.store.leave(p, m.socketId);
    if (left) await this.afterLeave(p, left);
    await this.deps.store.releaseSession(p, m.userUID, m.socketId);
  }

  /**
   * Stop the programme's timers on this process when it may let go of them; `true` if released.
   * Own state (memory): when nothing of the programme is left. Shared state: when this process
   * has no timer pending for it, whatever other servers hold (they and the deadlines carry on).
   */
  async releaseIfIdle(p: string): Promise<boolean> {
    const runtime = this.runtimes.get(p);
    if (this.deps.store.shared) {
      if (runtime && runtime.timers.size > 0) return false;
    } else if (!(await this.deps.store.releaseIfIdle(p))) return false;
    else await this.forgetDeadlines(p);
    runtime?.timers.stop();
    this.runtimes.delete(p);
    return true;
  }

  // ---- lobby and rooms ------------------------------------------------------------------

  /** What the lobby lists (`loadRooms`): the featured view, which in a programme with no more
   * rooms than the view is every room. */
  async listRooms(p: string): Promise<RoomSummary[]> {
    return (await this.deps.store.viewRooms(p)).map(roomSummary);
  }

  // ---- a big programme's lobby (spec 3.1) ----------------------------------------------------

  /** How often the featured view may be recomputed: the batching interval (a tenth of a second
   * when batching is off, so the view still settles). */
  get lobbyIntervalMs(): number {
    return this.options.batchIntervalMs > 0 ? this.options.batchIntervalMs : 100;
  }

  /** Once per interval on each server serving the programme: the view recomputed when due (by
   * whichever server comes first), and as it then is. */
  async lobbyTick(p: string): Promise<RoomSummary[]> {
    return (await this.deps.store.refreshView(p, this.deps.clock.now(), this.lobbyIntervalMs)).map(roomSummary);
  }

  async roomCounts(p: string, roomIds: readonly string[]): Promise<Record<string, number | null>> {
    return this.deps.store.roomCounts(p, roomIds);
  }

  /** A page of every room; a cursor that is none of ours is EV001. */
  async pageRooms(
    p: string,
    input: { cursor?: string | undefined; limit?: number | undefined; q?: string | undefined; open?: boolean | undefined },
  ): Promise<Result<{ rooms: RoomDetails[]; next: string | null }>> {
    const after = input.cursor === undefined ? null : decodeCursor(input.cursor);
    if (input.cursor !== undefined && after === null) return fail('EV001');
    const page = await this.deps.store.pageRooms(p, {
      after,
      limit: input.limit ?? ROOM_PAGE_DEFAULT,
      q: input.q ? searchKey(input.q) : null,
      open: input.open ?? false,
    });
    return { ok: true, rooms: page.rooms.map(roomDetails), next: page.next === null ? null : encodeCursor(page.next) };
  }

  /**
   * Seat the caller in the fullest open room (the store decides which, and the seat, in one
   * step); what follows is a join's. With `create` and no room free, the room is made as by
   * `createRoom` (`created`). Not atomic with the search: two callers finding nothing may make
   * two rooms, which is what they asked for.
   */
  async quickJoin(
    p: string,
    m: Member,
    input: { q?: string | undefined; create?: { title: string; max: number } | undefined },
  ): Promise<Result<{ roomId: string; title: string; history: ChatMessage[]; created?: true; ownerUID?: string }>> {
    const out = await this.deps.store.quickJoin(p, m, input.q ? searchKey(input.q) : null, this.deps.clock.now());
    if (!out.ok) {
      if (!input.create) return fail('EJ004');
      const made = await this.createRoom(p, m, input.create);
      return made.ok ? { ok: true, roomId: made.roomId, title: made.title, history: [], created: true, ownerUID: made.ownerUID } : made;
    }
    const history = await this.entered(p, m, out.roomId, out.left);
    this.deps.log.debug({ program: p, roomId: out.roomId, userUID: m.userUID, count: out.count }, 'quick-joined room');
    return { ok: true, roomId: out.roomId, title: out.title, history, ...owned(out.ownerUID) };
  }

  /** The members of the socket's room, and its owner (for the acknowledgement only). */
  async listUsers(p: string, socketId: string): Promise<{ users: UserInfo[]; ownerUID?: string }> {
    const roomId = await this.deps.store.roomOf(p, socketId);
    if (!roomId) return { users: [] };
    const [members, room] = await Promise.all([this.deps.store.members(p, roomId), this.deps.store.getRoom(p, roomId)]);
    return { users: members.map(userInfo), ...(room?.ownerUID ? { ownerUID: room.ownerUID } : {}) };
  }

  async createRoom(
    p: string,
    m: Member,
    input: { title: string; max: number; password?: string | undefined; scheduleUID?: string | undefined },
  ): Promise<Result<{ roomId: string; title: string; ownerUID: string }>> {
    if (input.scheduleUID !== undefined && input.scheduleUID !== p) return fail('EC001');
    const title = this.deps.guard ? this.deps.guard.screen(p, input.title) : input.title;
    if (title === null) return fail('EC001');
    input = { ...input, title };
    let passwordHash: string | null = null;
    if (input.password) {
      // Hashing is the costly step, so what refuses cheaply comes first; the atomic create
      // below still decides the room limit.
      if ((await this.deps.store.roomCount(p)) >= this.options.roomsPerProgramMax) return fail('EC002');
      passwordHash = await this.passwords.hash(input.password);
      if (passwordHash === null) return fail('ER001');
    }
    // The creator of a user room is its owner (spec 9).
    const room: Room = { ...this.newRoom(input, false, passwordHash), ownerUID: m.userUID };
    const out = await this.deps.store.createRoom(p, room, m, this.options.roomsPerProgramMax);
    if (!out.ok) return fail(out.code);
    this.deps.delivery.enterRoom(p, m.socketId, room.roomId);
    if (out.left) await this.afterLeave(p, out.left);
    this.observer.roomCreated(p, false);
    this.observer.joined(p);
    this.deps.log.info({ program: p, roomId: room.roomId, userUID: m.userUID }, 'room created');
    return { ok: true, roomId: room.roomId, title: room.title, ownerUID: m.userUID };
  }

  private newRoom(input: { title: string; max: number }, persistent: boolean, passwordHash: string | null): Room {
    const room: Room = { roomId: this.deps.ids.roomId(), title: input.title, max: input.max, persistent, createdAt: this.deps.clock.now() };
    if (passwordHash) room.passwordHash = passwordHash;
    return room;
  }

  /**
   * An operator's room: persistent, empty, announced with `count: 0`. `persistence.save` keeps
   * it durable before anyone can see it; the room limit is then decided by the atomic create,
   * and a room it refuses (concurrent creates took the last places meanwhile) is discarded again.
   */
  async createPersistentRoom(
    p: string,
    input: { title: string; max: number; password?: string | undefined },
    persistence: RoomPersistence = inStateOnly,
  ): Promise<Result<{ room: RoomView }>> {
    const limit = this.options.roomsPerProgramMax;
    // Refused cheaply before hashing and saving; the atomic create below still decides.
    if ((await this.deps.store.roomCount(p)) >= limit) return fail('EC002');
    // An operator's hash waits for its turn rather than being refused.
    const passwordHash = input.password ? await this.passwords.hash(input.password, true) : null;
    const room = this.newRoom(input, true, passwordHash);
    await persistence.save(room);
    const out = await this.deps.store.createRoom(p, room, null, limit);
    if (!out.ok) {
      await persistence.discard(room).catch((err: unknown) => {
        // Left in the database, it would come back over the limit at the next restore.
        this.observer.backendError('database');
        this.deps.log.error({ err, program: p, roomId: room.roomId }, 'discarding a refused persistent room failed');
      });
      return fail(out.code);
    }
    this.runtime(p);
    this.observer.roomCreated(p, true);
    this.deps.log.info({ program: p, roomId: room.roomId }, 'persistent room created');
    return { ok: true, room: out.room };
  }

  /** Put back a programme's persistent rooms (kept in the database) that the state lacks: after
   * the programme was released, or on a fresh state backend. */
  async restoreRooms(p: string, rooms: readonly Room[]): Promise<void> {
    // Runs before the programme's first socket here is served, again after every release, and
    // on a shared store the rooms are usually all there already: one look-up per batch, not a
    // round trip per room (20,000 of them kept a server's first viewer waiting for seconds).
    for (let i = 0; i < rooms.length; i += RESTORE_BATCH) {
      const batch = rooms.slice(i, i + RESTORE_BATCH);
      const counts = await this.deps.store.roomCounts(p, batch.map((r) => r.roomId));
      const missing = batch.filter((r) => counts[r.roomId] == null);
      // Issued together so that a shared store pipelines them; the store takes them in order.
      await Promise.all(missing.map((room) => this.deps.store.createRoom(p, room, null, Number.MAX_SAFE_INTEGER)));
    }
  }

  /**
   * An operator deletes a room: its live aggro ends as removed, its members hear each other
   * leave and go back to the lobby with a fresh room list, the lobby gets `deleteRoom`.
   * `false` when there is no such room.
   */
  async deleteRoom(p: string, roomId: string): Promise<boolean> {
    const out = await this.deps.store.deleteRoom(p, roomId);
    if (!out) return false;
    if (out.endedAggro) await this.finishAggro(p, out.endedAggro, 'removed', true);
    for (const m of out.members) {
      this.deps.delivery.toRoom(p, roomId, m.socketId, 'leaveRoom', { userUID: m.userUID, displayName: m.displayName });
      this.observer.left(p);
    }
    for (const m of out.members) this.deps.delivery.enterLobby(p, m.socketId);
    const rooms = out.members.length > 0 ? await this.listRooms(p) : [];
    for (const m of out.members) this.deps.delivery.toSocket(p, m.socketId, 'loadRooms', rooms);
    this.observer.roomDeleted(p);
    this.deps.log.info({ program: p, roomId, members: out.members.length }, 'room deleted by an operator');
    return true;
  }

  /** Tell the user's session in the programme why, then disconnect it for good; `false` when
   * offline. */
  async endSession(p: string, userUID: string, code: 'KICKED' | 'BANNED', message: string): Promise<boolean> {
    const socketId = await this.deps.store.sessionOf(p, userUID);
    if (!socketId) return false;
    // A session held through a blip has no socket to tell: it ends here, with no resume.
    if (this.graceMs > 0 && (await this.expireSession(p, userUID, socketId, Number.POSITIVE_INFINITY)) === 'expired') {
      this.observer.sessionEnded(p, code);
      this.deps.log.info({ program: p, userUID, code }, 'held session ended by an operator');
      return true;
    }
    this.deps.delivery.endSession(p, socketId, { code, message });
    this.observer.sessionEnded(p, code);
    this.deps.log.info({ program: p, userUID, code }, 'session ended by an operator');
    return true;
  }

  /**
   * An operator kicks the user out of the programme: the cooldown starts first, so the client's
   * reconnect right after the disconnect is already refused; then the session ends. The cooldown
   * is kept even when the user is offline (`false`): a seed client between two of its immediate
   * reconnects looks offline for a moment, and the kick must still hold.
   */
  async kick(p: string, userUID: string, message: string): Promise<boolean> {
    const cooldownMs = this.options.kickCooldownMs ?? 0;
    if (cooldownMs > 0) await this.deps.store.kick(p, userUID, cooldownMs);
    return this.endSession(p, userUID, 'KICKED', message);
  }

  /** How much longer the user's handshakes into the programme are refused after a kick; 0 when
   * they are not. */
  async kickedFor(p: string, userUID: string): Promise<number> {
    if (!(this.options.kickCooldownMs ?? 0)) return 0;
    return this.deps.store.kickedFor(p, userUID);
  }

  /** An operator removes a live aggro: recorded as removed, its room gets `deleteAggro`. */
  async removeAggro(p: string, aggroUID: string): Promise<boolean> {
    const live = (await this.deps.store.liveAggros(p)).find((a) => a.aggroUID === aggroUID);
    return live ? this.endAggro(p, live.roomId, aggroUID, 'removed') : false;
  }

  /** The programme went off air: its live aggros end and are recorded before its sockets go. */
  async endProgrammeAggros(p: string): Promise<void> {
    for (const a of await this.deps.store.liveAggros(p)) await this.endAggro(p, a.roomId, a.aggroUID, 'program_ended');
  }

  async joinRoom(
    p: string,
    m: Member,
    input: { roomId: string; password?: string | undefined },
  ): Promise<Result<{ roomId: string; history: ChatMessage[]; ownerUID?: string }>> {
    const [room, mine] = await Promise.all([this.deps.store.getRoom(p, input.roomId), this.deps.store.roomOf(p, m.socketId)]);
    if (!room) return fail('EJ001');
    // Re-joining one's own room succeeds as it is, password or not.
    if (mine === input.roomId) return { ok: true, roomId: input.roomId, history: await this.recent(p, input.roomId), ...owned(room.ownerUID) };
    // A full room is refused before any hashing; the atomic join still decides the last seat.
    if (room.count >= room.max) return fail('EJ002');
    // The password is checked before the atomic join, which then holds it to the hash checked:
    // should the owner change the password meanwhile (`updateRoom`), the join is EJ003.
    if (room.passwordHash) {
      const check = await this.passwords.check(p, input.roomId, m.userUID, input.password, room.passwordHash);
      if (check !== 'ok') return fail(check === 'wrong' ? 'EJ003' : 'ER001');
    }
    const out = await this.deps.store.join(p, m, input.roomId, { now: this.deps.clock.now(), passwordHash: room.passwordHash ?? null });
    if (!out.ok) return fail(out.code);
    if (out.already) return { ok: true, roomId: input.roomId, history: await this.recent(p, input.roomId), ...owned(out.ownerUID) };
    const history = await this.entered(p, m, input.roomId, out.left);
    this.deps.log.debug({ program: p, roomId: input.roomId, userUID: m.userUID, count: out.count }, 'joined room');
    return { ok: true, roomId: input.roomId, history, ...owned(out.ownerUID) };
  }

  /**
   * A join decided by the store: the joiner is in the room's channel, the room hears it, and
   * the room left (if any) hears that first (`afterLeave` broadcasts before its first wait).
   * Then the bookkeeping of both rooms' count windows and the joiner's history read go to the
   * store side by side: on Redis each is a round trip, and one after another they were most of
   * a room switch's time. The history is read once the joiner hears the room, so a message is
   * in its history, live, or (kept just before and delivered just after) both: clients tell
   * them apart by `id`.
   */
  private async entered(p: string, m: Member, roomId: string, left: LeaveOutcome | undefined): Promise<ChatMessage[]> {
    this.deps.delivery.enterRoom(p, m.socketId, roomId);
    const leaving = left ? this.afterLeave(p, left) : undefined;
    this.deps.delivery.toRoom(p, roomId, null, 'joinRoom', userInfo(m));
    this.observer.joined(p);
    const [, , history] = await Promise.all([leaving, this.batcher.countChanged(p, roomId, this.runtime(p).timers), this.recent(p, roomId)]);
    return history;
  }

  // ---- room owners (spec 9) -------------------------------------------------------------

  private async auditOwner(m: Member, action: string, p: string, target: string, detail: Record<string, unknown>): Promise<void> {
    // The action has happened by now: a database that fails the audit is logged, not turned
    // into ES001, which would tell the owner that nothing changed.
    await this.deps.audit?.audit({ at: this.deps.clock.now(), actor: `owner:${m.userUID}`, action, scheduleUID: p, target, reason: null, detail }).catch((err: unknown) => {
      this.observer.backendError('database');
      this.deps.log.error({ err, program: p, action, userUID: m.userUID }, 'auditing a room owner failed');
    });
  }

  /**
   * The owner of the caller's room takes a member out: the member (every socket of theirs in
   * the room) is back in the lobby with `REMOVED_FROM_ROOM` and a fresh room list, may not come
   * back for `removalBlockMs` (EJ005), and the room hears it leave.
   */
  async removeMember(p: string, m: Member, input: { userUID: string }): Promise<Result> {
    const now = this.deps.clock.now();
    const blockMs = this.options.removalBlockMs ?? DEFAULT_REMOVAL_BLOCK_MS;
    const roomId = await this.deps.store.roomOf(p, m.socketId);
    if (!roomId) return fail('EM001');
    const out = await this.deps.store.removeMember(p, m, input.userUID, now, now + blockMs);
    if (!out.ok) return fail(out.code);
    for (const r of out.removed) this.deps.delivery.enterLobby(p, r.socketId, roomId);
    const gone = out.removed[0]!;
    this.deps.delivery.toRoom(p, roomId, null, 'leaveRoom', { userUID: gone.userUID, displayName: gone.displayName });
    const rooms = await this.listRooms(p);
    for (const r of out.removed) {
      this.observer.left(p);
      this.deps.delivery.toSocket(p, r.socketId, 'system', { code: 'REMOVED_FROM_ROOM', message: "The room's owner removed you from the room.", roomId });
      this.deps.delivery.toSocket(p, r.socketId, 'loadRooms', rooms);
    }
    await this.batcher.countChanged(p, roomId, this.runtime(p).timers);
    await this.auditOwner(m, 'remove_member', p, input.userUID, { roomId, until: now + blockMs });
    this.deps.log.info({ program: p, roomId, userUID: m.userUID, removed: input.userUID }, 'member removed by the owner');
    return { ok: true };
  }

  /**
   * The owner of the caller's room changes its title (through the word filter, as any room
   * title) or password (`null` opens it); the lobby sees it. Whether the caller is the owner is
   * looked at before a new password is hashed (the costly step) and decided by the store.
   */
  async updateRoom(p: string, m: Member, input: { title?: string | undefined; password?: string | null | undefined }): Promise<Result<{ room: RoomDetails }>> {
    const change: RoomChange = {};
    if (input.title !== undefined) {
      const title = this.deps.guard ? this.deps.guard.screen(p, input.title) : input.title;
      if (title === null) return fail('EC001');
      change.title = title;
    }
    if (input.password === null) change.passwordHash = null;
    else if (input.password !== undefined) {
      const roomId = await this.deps.store.roomOf(p, m.socketId);
      const room = roomId ? await this.deps.store.getRoom(p, roomId) : null;
      if (!room) return fail('EM001');
      if (room.ownerUID !== m.userUID) return fail('EO001');
      const hash = await this.passwords.hash(input.password);
      if (hash === null) return fail('ER001');
      change.passwordHash = hash;
    }
    const out = await this.deps.store.updateRoom(p, m, change);
    if (!out.ok) return fail(out.code);
    const detail: Record<string, unknown> = {};
    if (change.title !== undefined) detail.title = change.title;
    if (change.passwordHash !== undefined) detail.password = change.passwordHash === null ? 'removed' : 'set';
    await this.auditOwner(m, 'update_room', p, out.room.roomId, detail);
    this.deps.log.info({ program: p, roomId: out.room.roomId, userUID: m.userUID, ...detail }, 'room updated by its owner');
    return { ok: true, room: roomDetails(out.room) };
  }

  /** The room's history as a newcomer gets it. */
  private async recent(p: string, roomId: string): Promise<ChatMessage[]> {
    const size = this.options.historySize ?? 0;
    return size > 0 ? this.deps.store.history(p, roomId, null, size) : [];
  }

  /** Older messages of the caller's room, oldest first. */
  async history(p: string, m: Member, input: { roomId: string; before?: string | undefined; limit?: number | undefined }): Promise<Result<{ messages: ChatMessage[] }>> {
    if ((await this.deps.store.roomOf(p, m.socketId)) !== input.roomId) return fail('EM001');
    const limit = Math.min(input.limit ?? HISTORY_PAGE_DEFAULT, this.options.historySize ?? 0);
    const messages = limit > 0 ? await this.deps.store.history(p, input.roomId, input.before ?? null, limit) : [];
    return { ok: true, messages };
  }

  async leaveRoom(p: string, m: Member, roomId: string): Promise<Result> {
    if ((await this.deps.store.roomOf(p, m.socketId)) !== roomId) return fail('EM001');
    // Back in the lobby before the leave is decided, so the leaver does not hear its own
    // `leaveRoom` but does hear the lobby's news about the room it left: the leave announces
    // the room's deletion inside the decision.
    this.deps.delivery.enterLobby(p, m.socketId);
    const left = await this.deps.store.leave(p, m.socketId, roomId);
    if (!left) {
      // Its own join elsewhere won the race: route it to where it sits now.
      const now = await this.deps.store.roomOf(p, m.socketId);
      if (now) this.deps.delivery.enterRoom(p, m.socketId, now);
      return fail('EM001');
    }
    await this.afterLeave(p, left);
    return { ok: true };
  }

  /** What everyone else hears when a member has left (by `leaveRoom`, a join elsewhere, or
   * disconnecting): the room gets `leaveRoom`, the lobby the new count or the room's deletion. */
  private async afterLeave(p: string, left: LeaveOutcome): Promise<void> {
    this.deps.log.debug({ program: p, roomId: left.roomId, userUID: left.member.userUID, count: left.count }, 'left room');
    // The store announced it (`OWNER`) inside the leave.
    if (left.owner) this.deps.log.info({ program: p, roomId: left.roomId, from: left.member.userUID, userUID: left.owner.userUID }, 'room owner handed over');
    this.observer.left(p);
    this.deps.delivery.toRoom(p, left.roomId, null, 'leaveRoom', {
      userUID: left.member.userUID,
      displayName: left.member.displayName,
    });
    if (left.endedAggro) await this.finishAggro(p, left.endedAggro, 'room_emptied');
    if (left.deleted) {
      this.observer.roomDeleted(p);
      this.deps.log.info({ program: p, roomId: left.roomId }, 'room deleted');
    } else {
      await this.batcher.countChanged(p, left.roomId, this.runtime(p).timers);
    }
  }

  // ---- chat and aggro -------------------------------------------------------------------

  async chat(p: string, m: Member, input: { roomId: string; msg: string }): Promise<Result<{ id: string; ts: number }>> {
    const guard = this.deps.guard;
    const msg = guard ? guard.screen(p, input.msg) : input.msg;
    if (msg === null) return fail('EM003');
    const message: ChatMessage = {
      displayName: m.displayName,
      msg,
      roomId: input.roomId,
      type: 'N',
      userUID: m.userUID,
      id: this.deps.ids.messageId(),
      ts: this.deps.clock.now(),
    };
    if (m.photoURL) message.photoURL = m.photoURL;
    if (guard) {
      // An outsider is refused (EM001) before its post could open a slow-mode window: the
      // guard's store asks the seat in the same step, one round trip fewer per message.
      const refused = await guard.admit(p, message, m.socketId);
      if (refused) return refused;
    }
    // Whether the author sits in the room and keeping the message are one decision: a message
    // never lands in the history of a room its author has left.
    // Kept and announced to the room in one step of the store.
    if (!(await this.deps.store.chat(p, m.socketId, input.roomId, message, this.options.historySize ?? 0))) return fail('EM001');
    this.observer.message(p);
    return { ok: true, id: message.id, ts: message.ts };
  }

  async postAggro(
    p: string,
    m: Member,
    input: { roomId: string; msg: string; type: 'A' | 'AP'; titleBroad?: string | undefined },
  ): Promise<Result<{ aggroUID: string; ts: number; expiresAt: number }>> {
    const guard = this.deps.guard;
    const msg = guard ? guard.screen(p, input.msg) : input.msg;
    if (msg === null) return fail('EM003');
    const muted = guard ? await guard.muted(p, m.userUID) : null;
    if (muted) return muted;
    const aggro = newAggro({
      aggroUID: this.deps.ids.aggroUID(),
      roomId: input.roomId,
      author: m,
      msg,
      type: input.type,
      titleBroad: this.deps.titleBroadOf?.(p) ?? input.titleBroad,
      now: this.deps.clock.now(),
      ttlMs: this.options.aggroTtlMs,
    });
    // The deadline goes in first: should this server die right after the start, another one
    // still ends the aggro on time.
    const deadline: Deadline = { kind: 'aggro', p, roomId: aggro.roomId, aggroUID: aggro.aggroUID };
    await this.deps.deadlines.add(deadline, aggro.expiresAt);
    const out = await this.deps.store.startAggro(p, m.socketId, aggro, this.options.aggroCooldownMs);
    if (!out.ok) {
      await this.deps.deadlines.remove(deadline);
      return fail(out.code);
    }
    this.deps.delivery.toRoom(p, input.roomId, null, 'aggro', aggroMessage(aggro));
    this.runtime(p).timers.at(aggro.expiresAt, () => this.deps.clock.now(), () => {
      void this.endAggro(p, aggro.roomId, aggro.aggroUID, 'expired');
    });
    this.observer.aggroStarted(p);
    this.deps.log.info({ program: p, roomId: input.roomId, aggroUID: aggro.aggroUID, userUID: m.userUID }, 'aggro started');
    return { ok: true, aggroUID: aggro.aggroUID, ts: aggro.startedAt, expiresAt: aggro.expiresAt };
  }

  async vote(p: string, m: Member, aggroUID: string, delta: 1 | -1): Promise<Result<{ point: number }>> {
    const muted = this.deps.guard ? await this.deps.guard.muted(p, m.userUID) : null;
    if (muted) return muted;
    const out = await this.deps.store.vote(p, m.socketId, m.userUID, aggroUID, delta);
    if (!out.ok) return fail(out.code);
    this.observer.voted(p, delta);
    await this.batcher.pointChanged(p, out.roomId, aggroUID, this.runtime(p).timers);
    return { ok: true, point: out.point };
  }

  /** End a live aggro (expiry, an operator, shutdown). Exactly one caller ends it. */
  async endAggro(p: string, roomId: string, aggroUID: string, reason: EndReason): Promise<boolean> {
    return (await this.tryEndAggro(p, roomId, aggroUID, reason)) === 'ended';
  }

  /** `gone`: it was no longer live (someone else ended it); `failed`: the backend failed, so
   * whoever holds its deadline must try again. */
  private async tryEndAggro(p: string, roomId: string, aggroUID: string, reason: EndReason): Promise<'ended' | 'gone' | 'failed'> {
    try {
      const ended = await this.deps.store.endAggro(p, roomId, aggroUID);
      if (!ended) return 'gone';
      await this.finishAggro(p, ended, reason, reason === 'program_ended');
      return 'ended';
    } catch (err) {
      this.observer.backendError('state');
      this.deps.log.error({ err, program: p, aggroUID }, 'ending aggro failed');
      return 'failed';
    }
  }

  /** Record an aggro that has left the live state, then tell its room: the final total first
   * (kept one batching interval after the previous one unless `immediate`: the room is about to
   * go), then `stopAggro` or `deleteAggro`. */
  private async finishAggro(p: string, a: LiveAggro, reason: EndReason, immediate = false): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.deadlines.remove({ kind: 'aggro', p, roomId: a.roomId, aggroUID: a.aggroUID }).catch(() => {});
    try {
      await this.deps.records.record(aggroRecord(p, a, now, reason));
    } catch (err) {
      this.observer.backendError('database');
      this.deps.log.error({ err, program: p, aggroUID: a.aggroUID }, 'recording aggro failed');
    }
    this.observer.aggroEnded(p, reason);
    this.deps.log.info({ program: p, aggroUID: a.aggroUID, point: a.point, reason }, 'aggro ended');
    const finalPoint = a.point !== a.pointSent ? a.point : null;
    const event = reason === 'removed' ? 'deleteAggro' : 'stopAggro';
    const announce = async (): Promise<void> => {
      await this.deps.store.announceEnd(p, a.roomId, a.aggroUID, finalPoint, event).catch((err: unknown) => {
        this.deps.log.error({ err, program: p, aggroUID: a.aggroUID }, 'announcing the end of an aggro failed');
      });
    };
    const delay = a.point !== a.pointSent && !this.stopped && !immediate ? finalPointDelay(a, now, this.batcher.intervalMs) : 0;
    if (delay > 0) this.runtime(p).timers.after(delay, () => void announce());
    // Immediate ends are told before the caller goes on (to disconnect the room, say).
    else await announce();
  }

  // ---- deadlines of other servers ---------------------------------------------------------

  /** State of its own dies with the programme's release, and only this process's timers (about
   * to stop) would ever act on its deadlines: they go with it, or the index would keep them. */
  private async forgetDeadlines(p: string): Promise<void> {
    for (const d of await this.deps.deadlines.due(Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER)) {
      if (d.p === p) await this.deps.deadlines.remove(d);
    }
  }

  /** Act on a deadline whose server may be gone. Idempotent: the store's atomic step decides. */
  async honour(d: Deadline): Promise<void> {
    if (d.kind === 'aggro') {
      if ((await this.tryEndAggro(d.p, d.roomId, d.aggroUID, 'expired')) === 'gone') await this.deps.deadlines.remove(d);
    } else if (d.kind === 'session') await this.expireSession(d.p, d.userUID, d.socketId);
    else await this.batcher.flush(d);
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /**
   * Stop every timer. With `endLiveAggros` (state that dies with the process), live aggros are
   * first ended and recorded with reason `shutdown`.
   */
  async stop(endLiveAggros: boolean): Promise<void> {
    this.stopped = true;
    if (endLiveAggros) {
      for (const p of await this.deps.store.programs()) {
        for (const a of await this.deps.store.liveAggros(p)) await this.endAggro(p, a.roomId, a.aggroUID, 'shutdown');
      }
    }
    for (const r of this.runtimes.values()) r.timers.stop();
    this.runtimes.clear();
  }
}
