/**
 * The programme namespaces of this process. Every namespace is made here, with its middleware
 * and handlers installed once, whether a client asked for it or the domain needs to broadcast to
 * it. (Letting `io.of(name)` create one elsewhere would make a namespace without middleware.)
 * A client's handshake into a programme that has none here yet is decided by `admitNew` before
 * the namespace is made, so a refused one leaves nothing behind.
 */
import { SCHEDULE_UID_PATTERN } from '../protocol/index.js';
import type { OnAirNamespace, OnAirServer } from './types.js';

/** Decides on a handshake into a programme without a namespace here: calls `accept` to make it
 * and go on, or answers the client itself and never calls back. */
export type AdmitNew = (program: string, auth: Record<string, unknown>, accept: () => void) => void;

export class NamespaceRegistry {
  private readonly byProgram = new Map<string, OnAirNamespace>();
  /** Handshakes under way per programme: a namespace is never released under one. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly io: OnAirServer,
    private readonly setup: (nsp: OnAirNamespace, program: string) => void,
    admitNew: AdmitNew = (_program, _auth, accept) => accept(),
  ) {
    // Dynamic namespaces: a valid name is created on demand; anything else gets socket.io's
    // own "Invalid namespace".
    io.of((name, auth, next) => {
      const program = name.slice(1);
      if (!SCHEDULE_UID_PATTERN.test(program)) return next(null, false);
      // A refusal never calls `next`: socket.io keeps nothing for a pending check, and its own
      // answer ("Invalid namespace") would follow the refusal's code.
      admitNew(program, auth, () => {
        this.get(program);
        next(null, true);
      });
    });
    // The root namespace always exists in socket.io; no programme lives there.
    io.of('/').use((_socket, next) => next(new Error('Invalid namespace')));
  }

  get(program: string): OnAirNamespace {
    let nsp = this.byProgram.get(program);
    if (!nsp) {
      nsp = this.io.of(`/${program}`);
      this.byProgram.set(program, nsp);
      this.setup(nsp, program);
    }
    return nsp;
  }

  has(program: string): boolean {
    return this.byProgram.has(program);
  }

  programs(): string[] {
    return [...this.byProgram.keys()];
  }

  handshakeStarted(program: string): void {
    this.pending.set(program, (this.pending.get(program) ?? 0) + 1);
  }

  handshakeEnded(program: string): void {
    const n = (this.pending.get(program) ?? 1) - 1;
    if (n <= 0) this.pending.delete(program);
    else this.pending.set(program, n);
  }

  /** Whether the namespace has no sockets and no handshake under way on this process. */
  isEmpty(program: string): boolean {
    const nsp = this.byProgram.get(program);
    return !nsp || (nsp.sockets.size === 0 && !this.pending.has(program));
  }

  /** Drop an empty namespace and its adapter. */
  release(program: string): void {
    const nsp = this.byProgram.get(program);
    if (!nsp || !this.isEmpty(program)) return;
    this.byProgram.delete(program);
    nsp.removeAllListeners();
    // socket.io's own cleanup of empty child namespaces does the same two steps.
    void nsp.adapter.close();
    this.io._nsps.delete(nsp.name);
  }
}
