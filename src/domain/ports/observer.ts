/**
 * What the domain reports as it decides, for the operator's metrics. The domain knows nothing of
 * Prometheus; `operator/metrics.ts` implements this. Every method must be cheap and never throw.
 */
import type { EndReason } from '../model.js';

export interface DomainObserver {
  roomCreated(p: string, persistent: boolean): void;
  roomDeleted(p: string): void;
  joined(p: string): void;
  left(p: string): void;
  message(p: string): void;
  aggroStarted(p: string): void;
  aggroEnded(p: string, reason: EndReason): void;
  voted(p: string, delta: 1 | -1): void;
  /** A batching window went out with a value (`count` or `aggroPoint`). */
  batchedEmit(event: 'count' | 'aggroPoint'): void;
  /** A call on the state backend or the database failed. */
  backendError(backend: 'state' | 'database'): void;
  /** The server ended a session for good (the seed's client is told `insufficient`). */
  sessionEnded(p: string, code: 'DUPLICATE_SESSION' | 'KICKED' | 'BANNED'): void;
  /** A session's socket went away unchosen and its seat is held for the grace (spec 7.1). */
  sessionHeld?(p: string): void;
  /** A held session came back within its grace. */
  sessionResumed?(p: string): void;
}

export const quietObserver: DomainObserver = {
  roomCreated() {},
  roomDeleted() {},
  joined() {},
  left() {},
  message() {},
  aggroStarted() {},
  aggroEnded() {},
  voted() {},
  batchedEmit() {},
  backendError() {},
  sessionEnded() {},
};
