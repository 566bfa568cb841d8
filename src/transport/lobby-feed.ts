/**
 * A big programme's lobby on this server (spec 3.1): the lobby modes and watched rooms of its
 * sockets, and one tick per batching interval for every programme it serves.
 *
 * **The tick.** For each programme with sockets here: one store call recomputes the featured
 * view when it is due (whichever server comes first; the store announces what enters and leaves
 * to the per-room lobby) and returns the view. Batched-mode sockets (in `LOBBY_BATCHED`) then
 * get one `roomCounts` frame with what changed since the previous tick: the view's part is one
 * broadcast, encoded once for all of them; a socket that watches rooms gets its own frame, with
 * its watched rooms' counts read in one more store call for all such sockets of the programme.
 * The Redis work per interval is thus two calls per programme and server, whatever the number
 * of lobby sockets.
 *
 * **Consistency.** A frame's counts are absolute, `added` is an upsert and `deleted` of an
 * unknown room is nothing, so a frame that overlaps a fresh `loadRooms` (a socket that just
 * entered the lobby) is harmless. Per-room mode keeps the seed's ordered events: the store
 * announces `count` and `deleteRoom` to a room's watchers (`watchChannel`) with the lobby's.
 */
import type { Logger } from 'pino';
import type { OnAirService } from '../domain/service.js';
import type { LobbyMode, RoomCounts, RoomSummary } from '../protocol/index.js';
import { LOBBY, LOBBY_BATCHED, watchChannel } from './channels.js';
import { FANOUT_CHUNK } from './lobby-pacing.js';
import type { ProgrammeRuntimes } from './programme-runtime.js';
import type { LobbyState, OnAirSocket } from './types.js';

type Namespace = NonNullable<ReturnType<LobbyFeedDeps['runtimes']['find']>>['nsp'];

export interface LobbyFeedDeps {
  service: Pick<OnAirService, 'lobbyTick' | 'roomCounts' | 'lobbyIntervalMs'>;
  runtimes: Pick<ProgrammeRuntimes, 'programs' | 'find'>;
  log: Logger;
  /** Sockets written to per turn of the event loop (`FANOUT_CHUNK` by default). */
  fanoutChunk?: number;
}

const NOT_SENT = -1;

/* A tick's frames go out `FANOUT_CHUNK` sockets at a time, with a turn of the event loop between.
 * Safe because a batched frame is idempotent (see **Consistency** above) and the next tick
 * waits for this one, so a socket's frames stay in order. */

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function lobbyState(socket: OnAirSocket): LobbyState {
  return (socket.data.lobby ??= { batched: false, watched: new Map() });
}

/** Whether the socket sits in the lobby (in either mode). */
function inLobby(socket: OnAirSocket): boolean {
  return socket.rooms.has(LOBBY) || socket.rooms.has(LOBBY_BATCHED);
}

export class LobbyFeed {
  /** Per programme: the featured view as the previous tick saw it. */
  private readonly last = new Map<string, Map<string, RoomSummary>>();
  /** Per programme: batched sockets with watched rooms (checked, and dropped when done, each tick). */
  private readonly watchers = new Map<string, Set<OnAirSocket>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private readonly chunk: number;

  constructor(private readonly deps: LobbyFeedDeps) {
    this.chunk = Math.max(1, deps.fanoutChunk ?? FANOUT_CHUNK);
  }

  /** The channel a socket's lobby is, for its first join (`auth.lobby = 'batched'`). */
  static lobbyChannel(socket: OnAirSocket): string {
    const auth: unknown = socket.handshake.auth;
    const batched = typeof auth === 'object' && auth !== null && (auth as { lobby?: unknown }).lobby === 'batched';
    if (batched) lobbyState(socket).batched = true;
    return batched ? LOBBY_BATCHED : LOBBY;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tickAll(), this.deps.service.lobbyIntervalMs).unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  setMode(socket: OnAirSocket, mode: LobbyMode): void {
    const s = lobbyState(socket);
    const batched = mode === 'batched';
    if (s.batched === batched) return;
    s.batched = batched;
    if (inLobby(socket)) {
      void socket.leave(batched ? LOBBY : LOBBY_BATCHED);
      void socket.join(batched ? LOBBY_BATCHED : LOBBY);
    }
    // The watched rooms move from channels to the frame, or back.
    for (const id of s.watched.keys()) {
      if (batched) void socket.leave(watchChannel(id));
      else void socket.join(watchChannel(id));
      s.watched.set(id, NOT_SENT);
    }
    if (batched && s.watched.size > 0) this.register(socket);
  }

  /** Replace the socket's watched rooms. */
  watch(socket: OnAirSocket, roomIds: readonly string[]): void {
    const s = lobbyState(socket);
    const next = new Set(roomIds);
    for (const id of s.watched.keys()) {
      if (next.has(id)) continue;
      s.watched.delete(id);
      if (!s.batched) void socket.leave(watchChannel(id));
    }
    for (const id of next) {
      if (s.watched.has(id)) continue;
      s.watched.set(id, NOT_SENT);
      if (!s.batched) void socket.join(watchChannel(id));
    }
    if (s.batched && s.watched.size > 0) this.register(socket);
  }

  private register(socket: OnAirSocket): void {
    const p = socket.data.program;
    let set = this.watchers.get(p);
    if (!set) this.watchers.set(p, (set = new Set()));
    set.add(socket);
  }

  private async tickAll(): Promise<void> {
    // A tick slower than the interval skips the next one rather than piling up.
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const p of this.deps.runtimes.programs()) {
        const runtime = this.deps.runtimes.find(p);
        if (!runtime || runtime.sockets.size === 0) {
          this.last.delete(p);
          this.watchers.delete(p);
          continue;
        }
        await this.tick(p, runtime.nsp).catch((err: unknown) => this.deps.log.warn({ err, program: p }, 'lobby tick failed'));
      }
    } finally {
      this.ticking = false;
    }
  }

  private async tick(p: string, nsp: Namespace): Promise<void> {
    const view = await this.deps.service.lobbyTick(p);
    const now = new Map(view.map((r) => [r.roomId, r]));
    // The first tick reports the whole view as added: sockets that listed it meanwhile upsert.
    const prev = this.last.get(p) ?? new Map<string, RoomSummary>();
    this.last.set(p, now);
    if ((nsp.adapter.rooms.get(LOBBY_BATCHED)?.size ?? 0) === 0) return;
    const frame: RoomCounts = { counts: {}, added: [], deleted: [] };
    for (const [id, r] of now) {
      const before = prev.get(id);
      // `added` is an upsert: a room its owner retitled or (un)locked is sent again whole.
      if (!before || before.title !== r.title || before.password !== r.password) frame.added.push(r);
      else if (before.count !== r.count) frame.counts[id] = r.count;
    }
    for (const id of prev.keys()) if (!now.has(id)) frame.deleted.push(id);

    const watchers = [...(this.watchers.get(p) ?? [])].filter((s) => s.connected && s.data.lobby?.batched && s.data.lobby.watched.size > 0 && inLobby(s));
    this.watchers.set(p, new Set(watchers));
    const sharedFrame = frame.added.length > 0 || frame.deleted.length > 0 || Object.keys(frame.counts).length > 0;
    if (sharedFrame) await this.fanOut(nsp, frame, new Set(watchers.map((s) => s.id)));
    if (watchers.length === 0) return;
    const ids = new Set<string>();
    for (const s of watchers) for (const id of s.data.lobby!.watched.keys()) ids.add(id);
    const counts = await this.deps.service.roomCounts(p, [...ids]);
    let written = 0;
    for (const s of watchers) {
      if (++written % this.chunk === 0) await nextTurn();
      // It may have left the lobby, or gone, while earlier sockets were written to.
      if (!s.connected || !inLobby(s)) continue;
      const own: RoomCounts = { counts: { ...frame.counts }, added: frame.added, deleted: [...frame.deleted] };
      let changed = sharedFrame;
      const watched = s.data.lobby!.watched;
      for (const [id, sent] of watched) {
        const c = counts[id];
        if (c === null || c === undefined) {
          watched.delete(id);
          if (!own.deleted.includes(id)) own.deleted.push(id);
          changed = true;
        } else if (c !== sent) {
          watched.set(id, c);
          own.counts[id] = c;
          changed = true;
        }
      }
      if (changed) s.emit('roomCounts', own);
    }
  }

  /** `frame` to the batched lobby on this server except `skip`, a chunk of sockets per turn.
   * A socket is taken if it was in the lobby when the tick began and still is at its chunk. */
  private async fanOut(nsp: Namespace, frame: RoomCounts, skip: ReadonlySet<string>): Promise<void> {
    const members = nsp.adapter.rooms.get(LOBBY_BATCHED);
    if (!members) return;
    const ids = skip.size > 0 ? [...members].filter((id) => !skip.has(id)) : [...members];
    for (let i = 0; i < ids.length; i += this.chunk) {
      if (i > 0) await nextTurn();
      const now = nsp.adapter.rooms.get(LOBBY_BATCHED);
      const chunk = ids.slice(i, i + this.chunk).filter((id) => now?.has(id));
      // Each socket id is that socket's own channel: `to(chunk)` is these sockets and no other.
      if (chunk.length > 0) nsp.local.to(chunk).emit('roomCounts', frame);
    }
  }
}
