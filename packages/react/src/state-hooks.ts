/**
 * The client's two stores as hook values: the programme's state (`client.state`) and the
 * connection's (`client.connection`). Both hand out immutable snapshots, a new object only when
 * something changed, which is what `useSyncExternalStore` needs.
 */
import type { ConnectionSnapshot, OnAirSnapshot, SystemNotice, UserInfo } from '@onair/client';
import { useCallback, useSyncExternalStore } from 'react';
import { useOnAirClient } from './provider.js';

/** The programme's whole snapshot, or the part `select` picks (re-rendering only when that part
 * changes: return a field or a value from it, not a new object each time). */
export function useOnAirState(): OnAirSnapshot;
export function useOnAirState<T>(select: (s: OnAirSnapshot) => T): T;
export function useOnAirState<T>(select?: (s: OnAirSnapshot) => T): T | OnAirSnapshot {
  const client = useOnAirClient();
  const subscribe = useCallback((onChange: () => void) => client.state.subscribe(onChange), [client]);
  const get = () => (select ? select(client.state.snapshot) : client.state.snapshot);
  return useSyncExternalStore(subscribe, get, get);
}

/** The connection's snapshot: status, attempts, the next retry, the last refusal. */
export function useConnection(): ConnectionSnapshot {
  const client = useOnAirClient();
  const subscribe = useCallback((onChange: () => void) => client.connection.subscribe(onChange), [client]);
  const get = () => client.connection.snapshot;
  return useSyncExternalStore(subscribe, get, get);
}

/** What a "connecting… / reconnecting… / you were signed out" banner needs. */
export interface Session {
  status: ConnectionSnapshot['status'];
  connected: boolean;
  /** Attempts since the connection was lost. */
  attempt: number;
  /** When the client will try next (epoch ms), when it scheduled that itself. */
  retryAt: number | null;
  /** The last connection came back through socket.io's connection state recovery: what was
   * missed was replayed, the session is the one from before. */
  recovered: boolean;
  /** The server resumed the session after a blip without recovery (spec 7.1's `session`
   * `{ resumed: true }`) or recovered it. */
  resumed: boolean;
  error: ConnectionSnapshot['error'];
  /** The last `system` notice (`DUPLICATE_SESSION`, `KICKED`, `SERVER_SHUTDOWN`, ...). */
  lastSystem: SystemNotice | null;
  me: UserInfo | null;
}

/** The session as one value: the connection's status and what the programme's state says of it. */
export function useSession(): Session {
  const connection = useConnection();
  const connected = useOnAirState((s) => s.connected);
  const lastSystem = useOnAirState((s) => s.lastSystem);
  const me = useOnAirState((s) => s.me);
  const resumed = useOnAirState((s) => s.resumed);
  const stateRecovered = useOnAirState((s) => s.recovered);
  return {
    status: connection.status,
    connected,
    attempt: connection.attempt,
    retryAt: connection.retryAt,
    recovered: connection.recovered || stateRecovered,
    resumed,
    error: connection.error,
    lastSystem,
    me,
  };
}
