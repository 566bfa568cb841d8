/**
 * The current room: members, the chat with its history (the join's, then older pages on demand),
 * and the live aggro with its countdown.
 */
import type { AggroMessage, ChatMessage, OnAirConnectError, OnAirError, RoomSummary, UserInfo } from '@onair/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { isOnAirFailure } from './call.js';
import { useOnAirClient } from './provider.js';
import { useOnAirState } from './state-hooks.js';

export interface Room {
  /** `null` in the lobby. */
  roomId: string | null;
  /** The room's summary as the lobby last listed it (title, max, count). */
  summary: RoomSummary | null;
  members: readonly UserInfo[];
  /** Oldest first: pages loaded with `loadOlder()`, then the join's history and what came since
   * (the last `MESSAGES_KEPT` of those). */
  messages: readonly ChatMessage[];
  /** Whether older messages may be left to load (false once a page came back short). */
  hasOlder: boolean;
  loadingOlder: boolean;
  error: OnAirError | OnAirConnectError | null;
  /** The page of messages just before the oldest shown. */
  loadOlder(limit?: number): void;
}

/** The room the client is in. Older pages are kept per room: entering another room drops them. */
export function useRoom(): Room {
  const client = useOnAirClient();
  const roomId = useOnAirState((s) => s.roomId);
  const members = useOnAirState((s) => s.members);
  const recent = useOnAirState((s) => s.messages);
  const rooms = useOnAirState((s) => s.rooms);
  const [older, setOlder] = useState<{ roomId: string | null; messages: ChatMessage[]; done: boolean }>({ roomId: null, messages: [], done: false });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<OnAirError | OnAirConnectError | null>(null);
  const current = useRef(roomId);
  current.current = roomId;

  const mine = older.roomId === roomId ? older : { roomId, messages: [], done: false };
  const messages = useMemo(() => {
    if (mine.messages.length === 0) return recent;
    const seen = new Set(recent.map((m) => m.id));
    return [...mine.messages.filter((m) => !seen.has(m.id)), ...recent];
  }, [mine.messages, recent]);

  const loadOlder = useCallback(
    (limit = 20) => {
      if (roomId === null || loadingOlder || mine.done) return;
      const before = messages[0]?.id;
      setLoadingOlder(true);
      client
        .history(before === undefined ? { limit } : { before, limit })
        .then((page) => {
          if (current.current !== roomId) return;
          setOlder({ roomId, messages: [...page, ...mine.messages], done: page.length < limit });
          setError(null);
        })
        .catch((err: unknown) => {
          if (!isOnAirFailure(err)) throw err;
          if (current.current === roomId) setError(err);
        })
        .finally(() => setLoadingOlder(false));
    },
    [client, roomId, loadingOlder, mine, messages],
  );

  return {
    roomId,
    summary: roomId === null ? null : (rooms.get(roomId) ?? null),
    members,
    messages,
    hasOlder: roomId !== null && !mine.done,
    loadingOlder,
    error,
    loadOlder,
  };
}

export interface LiveAggro {
  /** The room's live aggro, its `point` live; `null` when none. */
  aggro: AggroMessage | null;
  /** Milliseconds left (0 when expired or none), updated every `tickMs`. */
  remainingMs: number;
  /** Whole seconds left, rounded up, for a "12 s" label. */
  secondsLeft: number;
  /** Whether this user wrote it (the server refuses one's own votes: EA004). */
  mine: boolean;
  /** Vote on it; rejects with `OnAirError` (EA004 voted already or one's own, EA003 no longer live, ...). */
  vote(direction: 'up' | 'down'): Promise<{ point: number }>;
}

/** The live aggro and its countdown. The countdown reads `expiresAt` (server time) against this
 * device's clock; the server ends the aggro (`stopAggro`) whatever the countdown says. */
export function useAggro(tickMs = 1000): LiveAggro {
  const client = useOnAirClient();
  const aggro = useOnAirState((s) => s.aggro);
  const me = useOnAirState((s) => s.me);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!aggro) return;
    setNow(Date.now());
    const timer = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= aggro.expiresAt) clearInterval(timer);
    }, tickMs);
    return () => clearInterval(timer);
  }, [aggro?.aggroUID, aggro?.expiresAt, tickMs]);

  const remainingMs = aggro ? Math.max(0, aggro.expiresAt - now) : 0;
  const vote = useCallback(
    (direction: 'up' | 'down') => {
      if (!aggro) return Promise.reject(new Error('no live aggro to vote on'));
      return client.vote(aggro.aggroUID, direction);
    },
    [client, aggro?.aggroUID],
  );
  return { aggro, remainingMs, secondsLeft: Math.ceil(remainingMs / 1000), mine: !!aggro && aggro.userUID === me?.userUID, vote };
}
