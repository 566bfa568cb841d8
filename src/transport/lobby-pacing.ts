/**
 * The seed's per-room lobby events (`addRoom`, `count`, `deleteRoom`) to a big lobby, written a
 * few milliseconds per turn of the event loop, in order (issue 12).
 *
 * **Why.** A batching interval's `count` flush is one broadcast per changed room in the featured
 * view, each to every per-room-mode lobby socket of this server: with 900 of them it was one
 * synchronous block of 30-70 ms on the lobby bench (a TLS write and a syscall per socket), and
 * every call on the server (a `listRooms`, a `quickJoin`) waited behind it. Batched-mode sockets
 * already get their one frame in chunks (`LobbyFeed`); these events cannot simply be split,
 * because the seed's client applies them in order ("never a `count` before its `addRoom`").
 *
 * **How.** The namespace's adapter (memory or the Redis stream's: both deliver to this server's
 * sockets through `apply`) hands a broadcast to lobby channels to the pacer. A small one while
 * nothing waits goes out at once, exactly as before: a small programme sees no difference. A
 * bigger one, or any while others wait, joins one queue per namespace that is written a few
 * milliseconds per turn (`SLICE_MS`, at least `chunk` sockets), the other calls of the server
 * running in between. The queue is written socket by socket, not frame by frame: a socket's
 * turn brings it every frame queued for it, in the order they were made, so an interval's
 * `count`s to one socket leave as one TLS write instead of one each (`write-coalescing.ts`).
 * So every socket still gets its lobby frames in order; a socket that left the lobby (entered a
 * room, went away) before its turn is skipped, as it would have been had it left before the
 * broadcast.
 *
 * **What else a lobby socket hears keeps its place, without waiting.** A listing (`loadRooms`),
 * a notice or a disconnection for one lobby socket is not held behind the queue (a new socket's
 * `loadRooms` waited 150 ms to 1.6 s behind it on the lobby bench): the socket is first caught
 * up (`catchUp`: the frames still queued for it are written to it at once, in order, and
 * skipped later), then it gets what was meant for it. So it sees the frames made before its
 * listing, then the listing, then what comes after, exactly as without pacing.
 */
import type { Adapter, BroadcastOptions } from 'socket.io-adapter';
import { LOBBY } from './channels.js';

/** What of a socket.io socket the pacer reads. */
interface PacedSocket {
  readonly connected: boolean;
  readonly rooms: ReadonlySet<string>;
}

type Apply = (opts: BroadcastOptions, callback: (socket: PacedSocket) => void) => void;

interface Job {
  /** A socket written to ahead of its turn (`catchUp`) is taken out (null). */
  readonly sockets: (PacedSocket | null)[];
  /** Where each socket is in `sockets`, made the first time one is looked for. */
  index?: Map<PacedSocket, number>;
  /** The lobby channels a socket must still be in when it is written to. */
  readonly channels: ReadonlySet<string>;
  readonly run: (socket: PacedSocket) => void;
  next: number;
}

/** The lobby (`LOBBY`) and the per-room watch channels (`lobby/<roomId>`), not `lobby:batched`. */
export function isLobbyChannel(room: string): boolean {
  return room === LOBBY || room.startsWith(`${LOBBY}/`);
}

function inLobby(socket: PacedSocket): boolean {
  for (const r of socket.rooms) if (isLobbyChannel(r)) return true;
  return false;
}

function inAny(socket: PacedSocket, channels: ReadonlySet<string>): boolean {
  for (const c of channels) if (socket.rooms.has(c)) return true;
  return false;
}

/**
 * Sockets written to per turn of the event loop, by the pacer and by `LobbyFeed`'s batched frames.
 * One frame to each of 2,000 lobby sockets was one synchronous block of 100-200 ms on the lobby
 * bench, and every call on the server waited behind it; 128 writes take a few milliseconds.
 */
export const FANOUT_CHUNK = 128;

/** How long one turn's writes may hold the loop; checked every `SLICE_CHECK` writes (the
 * coalescing flush's uncorking is sliced by the same two). */
export const SLICE_MS = 4;
export const SLICE_CHECK = 16;

export interface PacingOptions {
  /** Writes a turn makes whatever the time (`FANOUT_CHUNK`). */
  chunk?: number;
  /** Then more, while the turn has taken less than this (`SLICE_MS`); 0: a chunk per turn. */
  sliceMs?: number;
  onError: (err: unknown) => void;
}

const pacers = new WeakMap<object, LobbyPacer>();

export class LobbyPacer {
  private jobs: Job[] = [];
  private head = 0;
  private scheduled = false;
  private stopped = false;

  private readonly chunk: number;
  private readonly sliceMs: number;
  private readonly onError: (err: unknown) => void;

  private constructor(options: PacingOptions) {
    this.chunk = Math.max(1, options.chunk ?? FANOUT_CHUNK);
    this.sliceMs = Math.max(0, options.sliceMs ?? SLICE_MS);
    this.onError = options.onError;
  }

  /** Routes the adapter's lobby broadcasts through a new pacer (once per adapter). */
  static install(adapter: Adapter, options: PacingOptions): LobbyPacer {
    const existing = pacers.get(adapter);
    if (existing) return existing;
    const pacer = new LobbyPacer(options);
    pacers.set(adapter, pacer);
    // `apply` is private in socket.io-adapter's types; it is what every local delivery goes through.
    const paced = adapter as unknown as { apply: Apply };
    const original: Apply = paced.apply.bind(adapter);
    const sockets = (adapter.nsp as unknown as { sockets: Map<string, PacedSocket> }).sockets;
    paced.apply = (opts, callback) => pacer.apply(opts, callback, original, sockets);
    return pacer;
  }

  /** The pacer of a namespace's adapter, if it has one. */
  static of(adapter: object): LobbyPacer | undefined {
    return pacers.get(adapter);
  }

  /** Whether frames are waiting. */
  get busy(): boolean {
    return this.head < this.jobs.length;
  }

  /**
   * Writes to `socket` at once whatever is still queued for it, in order, before something else
   * is sent to it (a listing): nothing made before that reaches it after it.
   */
  catchUp(socket: PacedSocket): void {
    this.catchUpFrom(this.head, socket);
  }

  /** The frames for `socket` in the jobs from `first` on, each taken out of its job. */
  private catchUpFrom(first: number, socket: PacedSocket): void {
    for (let j = first; j < this.jobs.length; j++) {
      const job = this.jobs[j]!;
      job.index ??= new Map(job.sockets.map((s, i) => [s!, i]));
      const i = job.index.get(socket);
      if (i === undefined || i < job.next || job.sockets[i] !== socket) continue;
      job.sockets[i] = null;
      this.deliver(job, socket);
    }
  }

  /** Drops what waits (the programme is released here). */
  stop(): void {
    this.stopped = true;
    this.jobs = [];
    this.head = 0;
  }

  private apply(opts: BroadcastOptions, callback: (socket: PacedSocket) => void, original: Apply, sockets: ReadonlyMap<string, PacedSocket>): void {
    const rooms = opts.rooms;
    if (this.stopped || rooms.size === 0) return original(opts, callback);
    let lobby = true;
    for (const r of rooms) if (!isLobbyChannel(r)) lobby = false;
    if (lobby) {
      const targets: PacedSocket[] = [];
      original(opts, (s) => targets.push(s));
      if (!this.busy && targets.length <= this.chunk) {
        for (const s of targets) callback(s);
        return;
      }
      this.push({ sockets: targets, channels: rooms, run: callback, next: 0 });
      return;
    }
    if (this.busy && rooms.size === 1) {
      const [id] = rooms;
      const socket = sockets.get(id!);
      if (socket && inLobby(socket)) this.catchUp(socket);
    }
    original(opts, callback);
  }

  /** The first slice runs once the current task is over (a microtask): a batching interval's
   * flush queues all its frames first, so that each socket gets them together (one write). */
  private push(job: Job): void {
    this.jobs.push(job);
    if (this.jobs.length - this.head === 1 && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  /**
   * Writes for about `sliceMs` (at least a chunk), then yields a turn of the loop: the first
   * slice when the task that queued the first frame is over, the rest a turn apart. Time rather
   * than a count bounds a slice, so that the queue keeps up with the lobby on a server whose
   * turns are long (many calls arriving in each) and yields often on one whose turns are short.
   */
  private drain(): void {
    this.scheduled = false;
    const until = performance.now() + this.sliceMs;
    let budget = this.chunk;
    for (;;) {
      this.write(budget);
      if (!this.busy || performance.now() >= until) break;
      budget = SLICE_CHECK;
    }
    if (this.busy) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.drain());
      }
      return;
    }
    this.jobs = [];
    this.head = 0;
  }

  /**
   * Up to `budget` sockets, in the order of the oldest frame; each gets everything queued for
   * it at once (socket-major), so that a turn's frames to one socket leave as one write
   * (`write-coalescing.ts`) rather than one per frame in a turn of its own.
   */
  private write(budget: number): void {
    while (budget > 0 && this.head < this.jobs.length) {
      const job = this.jobs[this.head]!;
      while (budget > 0 && job.next < job.sockets.length) {
        const s = job.sockets[job.next++];
        if (!s) continue;
        budget -= 1;
        this.deliver(job, s);
        if (this.head + 1 < this.jobs.length) this.catchUpFrom(this.head + 1, s);
      }
      if (job.next < job.sockets.length) break;
      this.head += 1;
    }
  }

  /** The frame to one socket, if it is still there to get it. */
  private deliver(job: Job, socket: PacedSocket): void {
    if (!socket.connected || !inAny(socket, job.channels)) return;
    try {
      job.run(socket);
    } catch (err) {
      this.onError(err);
    }
  }
}

/** For a handler about to answer a lobby socket with a listing: the lobby frames made before now
 * reach it first (`LobbyPacer.catchUp`). */
export function lobbyCatchUp(socket: PacedSocket & { nsp: { adapter: object } }): void {
  LobbyPacer.of(socket.nsp.adapter)?.catchUp(socket);
}
