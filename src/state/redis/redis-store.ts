/**
 * The shared state of many servers, in Redis. Every decision is one Lua script (`scripts.ts`),
 * so it is atomic across servers exactly as the in-memory store is within one process. Keys are
 * `<prefix>{<scheduleUID>}:<what>` and expire `idleTtlMs` after a programme's last write or
 * refresh (`touchProgram`, called while it has sockets).
 */
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../../protocol/index.js';
import type { LeaveOutcome, LiveAggro, Member, Room, RoomView } from '../../domain/model.js';
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
import { DEFAULT_VIEW_SIZE, SCAN_BUDGET, searchKey, VIEW_SWAPS_PER_TICK } from '../../domain/lobby.js';
import * as L from './lobby-scripts.js';
import * as S from './scripts.js';
import * as H from './session-scripts.js';
import { programmeKey, serviceKey } from './keys.js';

/** The slice of a node-redis client this store uses. */
export interface RedisCommands {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  set(key: string, value: string, options: { NX?: true; PX: number }): Promise<unknown>;
  pTTL(key: string): Promise<number>;
  sAdd(key: string, member: string): Promise<unknown>;
  sRem(key: string, member: string): Promise<unknown>;
  sMembers(key: string): Promise<string[]>;
  hGet(key: string, field: string): Promise<unknown>;
  hVals(key: string): Promise<string[]>;
  hLen(key: string): Promise<number>;
  zCard(key: string): Promise<number>;
  ping(): Promise<unknown>;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const SHAS = new Map<string, string>();

export interface RedisStoreOptions {
  /** Key prefix, e.g. `onair:`. */
  prefix: string;
  /** How long an idle programme's keys live. */
  idleTtlMs: number;
  /** The channel names of ordered announcements, which go into each programme's own stream
   * (`streamKey`, read by `StreamsAdapter`; see `scripts.ts`). */
  announce: { lobbyChannel: string; roomChannelPrefix: string };
  /** The featured view's size (`LOBBY_VIEW_SIZE`). @default 100 */
  viewSize?: number;
  /** What readiness asks (`ping()`), when a plain PING is not the question: on a Redis Cluster a
   * PING goes to any one node, so `createBackends` asks the shard of the service slot instead. */
  ping?: () => Promise<unknown>;
}

export class RedisStore implements StateStore {
  readonly shared = true;

  constructor(
    private readonly redis: RedisCommands,
    private readonly options: RedisStoreOptions,
  ) {}

  /** The programme's key prefix; the hash tag keeps a programme on one cluster slot. */
  key(p: string, what = ''): string {
    return programmeKey(this.options.prefix, p, what);
  }

  /** The programme's stream of broadcasts, in its slot: the scripts append to it inside their
   * decisions and every server's adapter reads it (`StreamsAdapter`). */
  streamKey(p: string): string {
    return this.key(p, 'stream');
  }

  /** Where the adapter keeps a disconnected socket's session for its recovery. */
  sessionKeyPrefix(p: string): string {
    return this.key(p, 'sio:');
  }

  /** Service-wide, in the service slot (`keys.ts`): written beside a programme's scripts, never
   * inside one, so it may live on another shard. */
  private get programsKey(): string {
    return serviceKey(this.options.prefix, 'programs');
  }

  private async run(script: string, p: string, ...args: (string | number)[]): Promise<string | null> {
    let sha = SHAS.get(script);
    if (!sha) {
      sha = sha1(script);
      SHAS.set(script, sha);
    }
    const a = this.options.announce;
    const options = {
      keys: [this.key(p), this.streamKey(p)],
      arguments: [String(this.options.idleTtlMs), a.lobbyChannel, a.roomChannelPrefix, ...args.map(String)],
    };
    try {
      return (await this.redis.evalSha(sha, options)) as string | null;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return (await this.redis.eval(script, options)) as string | null;
    }
  }

  private async json<T>(script: string, p: string, ...args: (string | number)[]): Promise<T> {
    const reply = await this.run(script, p, ...args);
    return JSON.parse(reply ?? 'null') as T;
  }

  async createRoom(p: string, room: Room, creator: Member | null, roomLimit: number): Promise<CreateRoomOutcome> {
    const out = await this.json<CreateRoomOutcome>(
      S.CREATE_ROOM,
      p,
      room.roomId,
      JSON.stringify({ ...room, search: searchKey(room.title) }),
      roomLimit,
      creator?.socketId ?? '',
      creator ? JSON.stringify(creator) : '',
      this.viewSize,
    );
    if (out.ok) await this.redis.sAdd(this.programsKey, p);
    return out;
  }

  async deleteRoom(p: string, roomId: string): Promise<DeleteRoomOutcome | null> {
    const out = await this.json<DeleteRoomOutcome | null>(S.DELETE_ROOM, p, roomId);
    // Lua's cjson cannot tell an empty list from an empty object: it encodes both as `{}`.
    if (out && !Array.isArray(out.members)) out.members = [];
    return out;
  }

  async listRooms(p: string): Promise<RoomView[]> {
    return this.json<RoomView[]>(S.LIST_ROOMS, p);
  }

  async roomCount(p: string): Promise<number> {
    return this.redis.zCard(this.key(p, 'rooms'));
  }

  async getRoom(p: string, roomId: string): Promise<RoomView | null> {
    return this.json<RoomView | null>(S.GET_ROOM, p, roomId);
  }

  private get viewSize(): number {
    return this.options.viewSize ?? DEFAULT_VIEW_SIZE;
  }

  async viewRooms(p: string): Promise<RoomView[]> {
    return this.json<RoomView[]>(L.VIEW_ROOMS, p);
  }

  async refreshView(p: string, now: number, intervalMs: number): Promise<RoomView[]> {
    return this.json<RoomView[]>(L.REFRESH_VIEW, p, now, intervalMs, this.viewSize, VIEW_SWAPS_PER_TICK);
  }

  async pageRooms(p: string, query: RoomPageQuery): Promise<RoomPage> {
    const page = await this.json<RoomPage>(L.PAGE_ROOMS, p, query.after ?? '', query.limit, query.q ?? '', query.open ? '1' : '0', SCAN_BUDGET);
    // cjson encodes an empty list as `{}`.
    if (!Array.isArray(page.rooms)) page.rooms = [];
    return page;
  }

  async quickJoin(p: string, member: Member, q: string | null, now?: number): Promise<QuickJoinOutcome> {
    return this.json<QuickJoinOutcome>(L.QUICK_JOIN, p, member.socketId, JSON.stringify(member), q ?? '', SCAN_BUDGET, member.userUID, now ?? '');
  }

  async roomCounts(p: string, roomIds: readonly string[]): Promise<Record<string, number | null>> {
    if (roomIds.length === 0) return {};
    return this.json<Record<string, number | null>>(L.ROOM_COUNTS, p, JSON.stringify(roomIds));
  }

  async join(p: string, member: Member, roomId: string, check: JoinCheck = {}): Promise<JoinOutcome> {
    const pw = check.passwordHash === undefined ? '' : `=${check.passwordHash ?? ''}`;
    return this.json<JoinOutcome>(S.JOIN, p, roomId, member.socketId, JSON.stringify(member), check.now ?? '', pw, member.userUID);
  }

  async removeMember(p: string, caller: Member, userUID: string, now: number, blockUntil: number): Promise<RemoveMemberOutcome> {
    return this.json<RemoveMemberOutcome>(S.REMOVE_MEMBER, p, caller.socketId, caller.userUID, userUID, blockUntil, now);
  }

  async updateRoom(p: string, caller: Member, change: RoomChange): Promise<UpdateRoomOutcome> {
    const pwMode = change.passwordHash === undefined ? 'keep' : change.passwordHash === null ? 'clear' : 'set';
    return this.json<UpdateRoomOutcome>(
      S.UPDATE_ROOM,
      p,
      caller.socketId,
      caller.userUID,
      change.title ?? '',
      change.title === undefined ? '' : searchKey(change.title),
      pwMode,
      change.passwordHash ?? '',
    );
  }

  async leave(p: string, socketId: string, roomId?: string): Promise<LeaveOutcome | null> {
    return this.json<LeaveOutcome | null>(S.LEAVE, p, socketId, roomId ?? '');
  }

  async roomOf(p: string, socketId: string): Promise<string | null> {
    return ((await this.redis.hGet(this.key(p, 'seats'), socketId)) as string | null) ?? null;
  }

  async members(p: string, roomId: string): Promise<Member[]> {
    return (await this.redis.hVals(this.key(p, `members:${roomId}`))).map((m) => JSON.parse(m) as Member);
  }
  async chat(p: string, socketId: string, roomId: string, message: ChatMessage, historySize: number): Promise<boolean> {
    return (await this.run(S.CHAT, p, roomId, socketId, JSON.stringify(message), historySize)) === 'true';
  }

  async removeChat(p: string, roomId: string, id: string): Promise<boolean> {
    return (await this.run(S.REMOVE_CHAT, p, roomId, id)) === 'true';
  }

  async history(p: string, roomId: string, before: string | null, limit: number): Promise<ChatMessage[]> {
    return this.json<ChatMessage[]>(S.HISTORY, p, roomId, before ?? '', limit);
  }


  async startAggro(p: string, socketId: string, aggro: LiveAggro, cooldownMs: number): Promise<StartAggroOutcome> {
    const reply = await this.run(S.START_AGGRO, p, socketId, JSON.stringify(aggro), cooldownMs);
    if (reply === 'OK') return { ok: true };
    return { ok: false, code: reply as 'EM001' | 'EA001' | 'EA002' };
  }

  async vote(p: string, socketId: string, userUID: string, aggroUID: string, delta: 1 | -1): Promise<VoteOutcome> {
    return this.json<VoteOutcome>(S.VOTE, p, socketId, userUID, aggroUID, delta);
  }

  async liveAggros(p: string): Promise<LiveAggro[]> {
    return this.json<LiveAggro[]>(S.LIVE_AGGROS, p);
  }

  async endAggro(p: string, roomId: string, aggroUID: string): Promise<LiveAggro | null> {
    return this.json<LiveAggro | null>(S.END_AGGRO, p, roomId, aggroUID);
  }

  async claimCountWindow(p: string, roomId: string, ttlMs: number): Promise<boolean> {
    return this.claim(this.key(p, S.COUNT_WINDOW + roomId), ttlMs);
  }

  async claimPointWindow(p: string, aggroUID: string, ttlMs: number): Promise<boolean> {
    return this.claim(this.key(p, S.POINT_WINDOW + aggroUID), ttlMs);
  }

  private async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(key, '1', { NX: true, PX: ttlMs })) === 'OK';
  }

  async flushCount(p: string, roomId: string): Promise<number | null> {
    return this.json<number | null>(S.FLUSH_COUNT, p, roomId);
  }

  async flushPoint(p: string, roomId: string, aggroUID: string, now: number): Promise<number | null> {
    return this.json<number | null>(S.FLUSH_POINT, p, roomId, aggroUID, now);
  }

  async claimSession(p: string, userUID: string, socketId: string): Promise<string | null> {
    const previous = await this.json<string | null>(S.CLAIM_SESSION, p, userUID, socketId);
    await this.redis.sAdd(this.programsKey, p);
    return previous;
  }

  async sessionOf(p: string, userUID: string): Promise<string | null> {
    return ((await this.redis.hGet(this.key(p, 'sessions'), userUID)) as string | null) ?? null;
  }

  async sessionCount(p: string): Promise<number> {
    return this.redis.hLen(this.key(p, 'sessions'));
  }

  async releaseSession(p: string, userUID: string, socketId: string): Promise<void> {
    await this.run(S.RELEASE_SESSION, p, userUID, socketId);
  }

  async resumeSession(p: string, member: Member, conn: string): Promise<ResumeOutcome> {
    const out = await this.json<{ previous?: string; roomId?: string; heldSince?: number }>(H.RESUME_SESSION, p, member.userUID, member.socketId, JSON.stringify(member), conn);
    await this.redis.sAdd(this.programsKey, p);
    return { previous: out.previous ?? null, roomId: out.roomId ?? null, heldSince: out.heldSince ?? null };
  }

  async holdSession(p: string, userUID: string, socketId: string, conn: string | null, since: number, until: number): Promise<'held' | 'replaced' | 'none'> {
    return (await this.run(H.HOLD_SESSION, p, userUID, socketId, conn ?? '', JSON.stringify({ socketId, since, until }))) as 'held' | 'replaced' | 'none';
  }

  async expireSession(p: string, userUID: string, socketId: string, now: number): Promise<{ state: 'expired'; left: LeaveOutcome | null } | { state: 'not-due' | 'gone' }> {
    const out = await this.json<{ state: 'expired'; left?: LeaveOutcome } | { state: 'not-due' | 'gone' }>(
      H.EXPIRE_SESSION,
      p,
      userUID,
      socketId,
      Number.isFinite(now) ? now : 'inf',
    );
    return out.state === 'expired' ? { state: 'expired', left: 'left' in out && out.left ? out.left : null } : out;
  }

  async heldSessions(p: string): Promise<{ userUID: string; socketId: string; until: number }[]> {
    return this.json(H.HELD_SESSIONS, p);
  }

  /** A key of its own with a PX expiry: Redis forgets the kick when it runs out, and the
   * programme's hash tag keeps it on the programme's cluster slot. */
  async kick(p: string, userUID: string, forMs: number): Promise<void> {
    await this.redis.set(this.key(p, `kick:${userUID}`), '1', { PX: forMs });
  }

  async kickedFor(p: string, userUID: string): Promise<number> {
    // -2: no such key; -1 cannot happen (always set with an expiry).
    return Math.max(0, await this.redis.pTTL(this.key(p, `kick:${userUID}`)));
  }

  async programs(): Promise<string[]> {
    return this.redis.sMembers(this.programsKey);
  }

  async releaseIfIdle(p: string): Promise<boolean> {
    if ((await this.run(S.IS_IDLE, p)) !== 'true') return false;
    // Best effort: a programme that comes back at once is added again by its next write.
    await this.redis.sRem(this.programsKey, p);
    return true;
  }

  async announceEnd(p: string, roomId: string, aggroUID: string, finalPoint: number | null, event: 'stopAggro' | 'deleteAggro'): Promise<void> {
    await this.run(S.ANNOUNCE_END, p, roomId, aggroUID, finalPoint ?? '', event);
  }

  /** Refresh the expiry of every key of a programme that still has sockets. */
  async touchProgram(p: string): Promise<void> {
    await this.run(S.TOUCH_PROGRAM, p);
  }

  async ping(): Promise<boolean> {
    try {
      return (await (this.options.ping ?? (() => this.redis.ping()))()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Nothing of its own to release: the connection is its maker's to close (`createBackends`). */
  async close(): Promise<void> {}
}
