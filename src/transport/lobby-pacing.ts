/**
 * The seed's per-room lobby events (`addRoom`, `count`, `deleteRoom`) to a big lobby, written a
 * chunk of sockets per turn of the event loop, in order (issue 12).
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
 * bigger one, or any while others wait, joins one queue per namespace that is written
 * `chunk` sockets per turn, frames strictly in the order they were made. So every socket still
 * gets its lobby frames in order; a socket that left the lobby (entered a room, went away)
 * before its chunk is skipped, as it would have been had it left before the broadcast.
 *
 * **What else a lobby socket hears keeps its place.** While frames wait, anything else the
 * adapter addresses to one socket that sits in the lobby (a `loadRooms` after an operator
 * deleted its room, a notice, its disconnection) waits behind them; a handler that answers a
 * lobby socket with a listing waits for `turn()` first. Either way the socket applies the
 * frames made before its listing, then the listing, then what came after, as without pacing.
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
  readonly sockets: readonly PacedSocket[];
  /** The lobby channels a socket must still be in at its chunk; null: a frame to one socket. */
  readonly channels: ReadonlySet<string> | null;
  readonly run: ((socket: PacedSocket) => void) | null;
  readonly done: (() => void) | null;
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

/**
 * Sockets written to per turn of the event loop, by the pacer and by `LobbyFeed`'s batched frames.
 * One frame to each of 2,000 lobby sockets was one synchronous block of 100-200 ms on the lobby
 * bench, and every call on the server waited behind it; 128 writes take a few milliseconds.
 */
export const FANOUT_CHUNK = 128;

const pacers = new WeakMap<object, LobbyPacer>();

export class LobbyPacer {
  private jobs: Job[] = [];
  private head = 0;
  private scheduled = false;
  private stopped = false;

  private constructor(
    private readonly chunk: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Routes the adapter's lobby broadcasts through a new pacer (once per adapter). */
  static install(adapter: Adapter, chunk: number, onError: (err: unknown) => void): LobbyPacer {
    const existing = pacers.get(adapter);
    if (existing) return existing;
    const pacer = new LobbyPacer(Math.max(1, chunk), onError);
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

  /** Resolves once every frame queued before now has been written (at once when none waits). */
  turn(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((done) => this.push({ sockets: [], channels: null, run: null, done, next: 0 }));
  }

  /** Drops what waits (the programme is released here); `turn()` callers are let go. */
  stop(): void {
    this.stopped = true;
    for (let i = this.head; i < this.jobs.length; i++) this.jobs[i]!.done?.();
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
      this.push({ sockets: targets, channels: rooms, run: callback, done: null, next: 0 });
      return;
    }
    if (this.busy && rooms.size === 1) {
      const [id] = rooms;
      const socket = sockets.get(id!);
      if (socket && inLobby(socket)) {
        this.push({ sockets: [socket], channels: null, run: callback, done: null, next: 0 });
        return;
      }
    }
    original(opts, callback);
  }

  private push(job: Job): void {
    this.jobs.push(job);
    if (this.jobs.length - this.head === 1) this.drain();
  }

  /** One chunk: the first at once (nothing was waiting), the rest a turn of the loop apart. */
  private drain(): void {
    this.scheduled = false;
    let budget = this.chunk;
    while (budget > 0 && this.head < this.jobs.length) {
      const job = this.jobs[this.head]!;
      while (budget > 0 && job.next < job.sockets.length) {
        const s = job.sockets[job.next++]!;
        budget -= 1;
        if (!s.connected || (job.channels && !this.stillIn(s, job.channels))) continue;
        try {
          job.run!(s);
        } catch (err) {
          this.onError(err);
        }
      }
      if (job.next < job.sockets.length) break;
      this.head += 1;
      job.done?.();
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

  private stillIn(socket: PacedSocket, channels: ReadonlySet<string>): boolean {
    for (const c of channels) if (socket.rooms.has(c)) return true;
    return false;
  }
}

/** For a handler about to answer a lobby socket with a listing: resolves once the lobby frames
 * made before now have been written, so that the listing arrives after them. */
export function lobbyTurn(socket: { nsp: { adapter: object } }): Promise<void> {
  return LobbyPacer.of(socket.nsp.adapter)?.turn() ?? Promise.resolve();
}
