/**
 * One programme as this server serves it, from its first need to its release: its socket.io
 * namespace, the handshakes under way into it, its activation (persistent rooms restored once)
 * and its ending (off air, under way). `dispose()` lets go of all of it at once, as a Colyseus
 * `Room` disposes its clock: nothing of a released programme stays behind on this server.
 *
 * `ProgrammeRuntimes` is the only maker of programmes' namespaces (the server's own, whose names
 * start with `_` and which `SCHEDULE_UID_PATTERN` keeps from every programme, are made by their
 * modules: `/_programs` by `app-api/feed.ts`). Every namespace gets its middleware and
 * its connection handler from `serve()` the moment it is made, whether a client asked for it or
 * the domain needs to broadcast to it (letting `io.of(name)` make one elsewhere would make a
 * namespace without middleware). A client's handshake into a programme with no runtime here yet
 * is decided by `admitNew` before anything is made, so a refused one leaves nothing behind.
 *
 * What the domain keeps of a programme on this process (its timers, its in-memory state) is the
 * domain's to let go of (`OnAirService.releaseIfIdle`), which `Connections` asks before it
 * disposes the runtime.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { SCHEDULE_UID_PATTERN } from '../protocol/index.js';
import { LobbyPacer } from './lobby-pacing.js';
import type { OnAirNamespace, OnAirServer, OnAirSocket } from './types.js';

/** Decides on a handshake into a programme without a runtime here: calls `accept` to make it
 * and go on, or answers the client itself and never calls back. */
export type AdmitNew = (program: string, auth: Record<string, unknown>, accept: () => void) => void;

export interface Serving {
  admitNew: AdmitNew;
  /** Installs the handshake middleware and the connection handler of a new runtime. */
  setup(runtime: ProgrammeRuntime): void;
}

export interface RuntimeHooks {
  /** A disposed programme's metric series go with it (any client can name a programme in open
   * mode, so they would otherwise grow for ever). */
  metrics: { released(p: string): void };
  /** Told `program-released` (scheduleUID) once a runtime is disposed. */
  events: EventEmitter;
  log: Logger;
}

export class ProgrammeRuntime {
  /** Off air and being ended here (`Programmes.end`), so the schedule's sweep does not end it twice. */
  ending = false;
  private handshakes = 0;
  private activation: Promise<void> | null = null;
  private disposed = false;

  /** The per-room lobby's frames, a chunk of sockets per turn (`lobby-pacing.ts`). */
  readonly pacer: LobbyPacer;

  constructor(
    readonly program: string,
    readonly nsp: OnAirNamespace,
    private readonly io: OnAirServer,
    log: Logger,
  ) {
    this.pacer = LobbyPacer.install(nsp.adapter, { onError: (err) => log.warn({ err, program }, 'lobby frame not written') });
  }

  /** This server's sockets in the programme. */
  get sockets(): ReadonlyMap<string, OnAirSocket> {
    return this.nsp.sockets;
  }

  handshakeStarted(): void {
    this.handshakes += 1;
  }

  handshakeEnded(): void {
    this.handshakes = Math.max(0, this.handshakes - 1);
  }

  /** No socket and no handshake under way here: the runtime may be disposed. */
  get idle(): boolean {
    return this.nsp.sockets.size === 0 && this.handshakes === 0;
  }

  /** Runs `restore` before the programme's first socket here is served, once; a failed
   * activation is tried again by the next socket. */
  activate(restore: () => Promise<void>): Promise<void> {
    if (!this.activation) {
      const a = restore();
      a.catch(() => {
        if (this.activation === a) this.activation = null;
      });
      this.activation = a;
    }
    return this.activation;
  }

  /** Drop the namespace and its adapter; the runtime is not used again. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pacer.stop();
    this.nsp.removeAllListeners();
    // socket.io's own clean-up of empty child namespaces does the same two steps.
    void this.nsp.adapter.close();
    this.io._nsps.delete(this.nsp.name);
  }
}

export class ProgrammeRuntimes {
  private readonly byProgram = new Map<string, ProgrammeRuntime>();
  private serving: Serving | null = null;

  constructor(
    private readonly io: OnAirServer,
    private readonly hooks: RuntimeHooks,
  ) {
    // The root namespace always exists in socket.io; no programme lives there.
    io.of('/').use((_socket, next) => next(new Error('Invalid namespace')));
  }

  /**
   * Open the doors: from now on clients may name programmes, and every runtime is made with
   * `serving`'s middleware and handler. Called once, when everything those need exists; making
   * a runtime before it is an error (it would be a namespace without middleware).
   */
  serve(serving: Serving): void {
    if (this.serving) throw new Error('ProgrammeRuntimes.serve() called twice');
    this.serving = serving;
    // Dynamic namespaces: a valid name is made on demand; anything else, a reserved `_` name
    // included, gets socket.io's own "Invalid namespace".
    this.io.of((name, auth, next) => {
      const program = name.slice(1);
      if (!SCHEDULE_UID_PATTERN.test(program)) return next(null, false);
      // A refusal never calls `next`: socket.io keeps nothing for a pending check, and its own
      // answer ("Invalid namespace") would follow the refusal's code.
      serving.admitNew(program, auth, () => {
        this.get(program);
        next(null, true);
      });
    });
  }

  /** The programme's runtime, made (with its namespace) when it has none here. */
  get(program: string): ProgrammeRuntime {
    let runtime = this.byProgram.get(program);
    if (!runtime) {
      if (!this.serving) throw new Error(`programme ${program} needed before the server serves`);
      runtime = new ProgrammeRuntime(program, this.io.of(`/${program}`), this.io, this.hooks.log);
      this.byProgram.set(program, runtime);
      this.serving.setup(runtime);
    }
    return runtime;
  }

  find(program: string): ProgrammeRuntime | undefined {
    return this.byProgram.get(program);
  }

  has(program: string): boolean {
    return this.byProgram.has(program);
  }

  programs(): string[] {
    return [...this.byProgram.keys()];
  }

  /** Whether the programme has no runtime here, or one with no socket and no handshake. */
  idle(program: string): boolean {
    return this.byProgram.get(program)?.idle ?? true;
  }

  /** Every socket of every programme on this server. */
  *sockets(): Iterable<OnAirSocket> {
    for (const r of this.byProgram.values()) yield* r.sockets.values();
  }

  /** Release an idle programme's runtime and everything it holds; `false` when it is not idle. */
  dispose(program: string): boolean {
    const runtime = this.byProgram.get(program);
    if (!runtime) return false;
    if (!runtime.idle) return false;
    this.byProgram.delete(program);
    runtime.dispose();
    this.hooks.metrics.released(program);
    this.hooks.log.debug({ program }, 'programme released');
    this.hooks.events.emit('program-released', program);
    return true;
  }
}
