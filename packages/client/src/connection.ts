/**
 * The connection's own life, apart from what the programme's state says: connecting, connected,
 * waiting to reconnect (and why), paused by the app, closed. Phones lose their network, get sent
 * to the background and come back with an expired token; this is what an app shows for that
 * ("reconnecting…") and what its AppState handler drives through `pause()`/`resume()`.
 */
import type { OnAirConnectError } from './errors.js';
import { tokenClaims } from './identity.js';
import { ReducedState } from './reduced-state.js';

export type ConnectionStatus =
  /** `open()` was called and no connection has been made yet. */
  | 'connecting'
  | 'connected'
  /** The connection was lost or refused and the client will try again by itself. */
  | 'reconnecting'
  /** `pause()`: nothing is tried until `resume()`. */
  | 'paused'
  /** Nothing will be tried again: refused for good (`error.reconnect === 'never'`), sent away by
   * the server (kicked, banned, replaced, programme ended), or reconnection is off. */
  | 'stopped'
  /** `close()`. */
  | 'closed';

export interface ConnectionSnapshot {
  readonly status: ConnectionStatus;
  /** Attempts since the last connection (0 while connected). */
  readonly attempt: number;
  /** When the next attempt is due (epoch ms), when the client itself scheduled it. */
  readonly retryAt: number | null;
  /** socket.io's connection state recovery at the last connect: the server replayed what was
   * missed, and the session (room, seat) is the one from before. */
  readonly recovered: boolean;
  /** The last refusal or failure, kept until the next connection. */
  readonly error: OnAirConnectError | null;
  /** Times connected in all (the first connection is 1). */
  readonly connections: number;
}

export type ConnectionAction =
  | { type: 'connecting' }
  | { type: 'connected'; recovered: boolean }
  | { type: 'lost'; willRetry: boolean; retryAt?: number | null; error?: OnAirConnectError | null }
  | { type: 'attempt' }
  | { type: 'paused' }
  | { type: 'closed' };

export function initialConnection(): ConnectionSnapshot {
  return { status: 'connecting', attempt: 0, retryAt: null, recovered: false, error: null, connections: 0 };
}

export function reduceConnection(s: ConnectionSnapshot, a: ConnectionAction): ConnectionSnapshot {
  // After close() nothing changes any more.
  if (s.status === 'closed') return s;
  switch (a.type) {
    case 'connecting':
      return s.status === 'connecting' ? s : { ...s, status: 'connecting', retryAt: null };
    case 'connected':
      return { ...s, status: 'connected', attempt: 0, retryAt: null, recovered: a.recovered, error: null, connections: s.connections + 1 };
    case 'lost': {
      // A pause closes the transport itself; the loss it causes is the pause.
      if (s.status === 'paused') return s;
      const status = a.willRetry ? 'reconnecting' : 'stopped';
      return { ...s, status, retryAt: a.retryAt ?? null, error: a.error ?? s.error };
    }
    case 'attempt':
      return { ...s, attempt: s.attempt + 1, retryAt: null };
    case 'paused':
      return s.status === 'paused' ? s : { ...s, status: 'paused', retryAt: null };
    case 'closed':
      return { ...s, status: 'closed', retryAt: null };
  }
}

/** The connection's status, its fields as properties, and change notifications. */
export class ConnectionState extends ReducedState<ConnectionSnapshot, ConnectionAction> {
  constructor(initial: ConnectionSnapshot = initialConnection()) {
    super(initial, reduceConnection);
  }

  get status(): ConnectionStatus {
    return this.current.status;
  }
  get recovered(): boolean {
    return this.current.recovered;
  }
  get error(): OnAirConnectError | null {
    return this.current.error;
  }
}

/** How the client waits between attempts. socket.io's own reconnection uses the same figures
 * (`reconnectionDelay`, `reconnectionDelayMax`, `randomizationFactor`). */
export interface BackoffOptions {
  /** The first wait. @default 1000 */
  minMs?: number;
  /** The longest wait. @default 30000 */
  maxMs?: number;
  /** Each wait is spread at random by up to this share either way, so that clients dropped
   * together (a cell tower, a server) do not come back together. @default 0.5 */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { minMs: 1000, maxMs: 30_000, jitter: 0.5 };

/** The wait before attempt `attempt` (0-based): doubling from `minMs` up to `maxMs`, jittered. */
export function backoffDelay(attempt: number, opts: Required<BackoffOptions>, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 30));
  const spread = base * opts.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(opts.maxMs, base + spread)));
}

/** A JWT's `exp` in epoch ms, or `null` when it has none or is not a readable JWT. */
export function tokenExpiresAt(token: string): number | null {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}
