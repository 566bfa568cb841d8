/**
 * The lobby: the featured view the server keeps current (spec 3.1: `loadRooms` and its events,
 * at most `LOBBY_VIEW_SIZE` rooms), and the whole programme through `listRooms` pages and search.
 */
import type { OnAirConnectError, OnAirError, RoomSummary } from '@onair/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { isOnAirFailure } from './call.js';
import { useOnAirClient } from './provider.js';
import { useOnAirState } from './state-hooks.js';

/** The featured rooms in the order the server lists them, live (counts, new and deleted rooms).
 * While the client is in a room the lobby is not told of changes, so the list stands still. */
export function useFeaturedRooms(): readonly RoomSummary[] {
  const rooms = useOnAirState((s) => s.rooms);
  return useMemo(() => [...rooms.values()], [rooms]);
}

export interface RoomSearchOptions {
  /** Title search (the server folds case and width, Korean included); `''` lists every room. */
  q?: string;
  /** Only rooms without a password that have a free seat. */
  open?: boolean;
  /** Rooms per page (1-100). @default 20 */
  limit?: number;
  /** Follow the loaded rooms' counts live (`watchRooms`, at most 100). @default true */
  watch?: boolean;
}

export interface RoomSearch {
  /** Every room loaded so far, page after page; counts live when `watch`. */
  rooms: readonly RoomSummary[];
  /** Whether `loadMore()` has a page to fetch. */
  hasMore: boolean;
  loading: boolean;
  error: OnAirError | OnAirConnectError | null;
  loadMore(): void;
  /** From the first page again (after a reconnection, say). */
  refresh(): void;
}

const WATCH_MAX = 100;

/** Pages of the programme's rooms, searched by title; a new `q` starts from the first page and
 * drops answers to the old one. Debouncing what the user types is the caller's. */
export function useRoomSearch({ q = '', open = false, limit = 20, watch = true }: RoomSearchOptions = {}): RoomSearch {
  const client = useOnAirClient();
  const [pages, setPages] = useState<{ rooms: RoomSummary[]; next: string | null } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<OnAirError | OnAirConnectError | null>(null);
  const [generation, setGeneration] = useState(0);
  // Answers that arrive for an older query (or an unmounted component) are dropped.
  const query = useRef(0);
  const connected = useOnAirState((s) => s.connected);
  const live = useOnAirState((s) => s.rooms);

  const fetchPage = useCallback(
    async (cursor: string | null, before: RoomSummary[]) => {
      const ticket = query.current;
      setLoading(true);
      try {
        const page = await client.listRooms({ q, open, limit, ...(cursor ? { cursor } : {}) });
        if (ticket !== query.current) return;
        const rooms = [...before, ...page.rooms];
        setPages({ rooms, next: page.next });
        setError(null);
        if (watch && client.state.roomId === null) await client.watchRooms(rooms.slice(0, WATCH_MAX));
      } catch (err) {
        if (!isOnAirFailure(err)) throw err;
        if (ticket === query.current) setError(err);
      } finally {
        if (ticket === query.current) setLoading(false);
      }
    },
    [client, q, open, limit, watch],
  );

  useEffect(() => {
    query.current += 1;
    setPages(null);
    if (!connected) return;
    void fetchPage(null, []);
    return () => {
      query.current += 1;
    };
  }, [fetchPage, connected, generation]);

  const loadMore = useCallback(() => {
    if (!pages?.next || loading) return;
    void fetchPage(pages.next, pages.rooms);
  }, [fetchPage, pages, loading]);
  const refresh = useCallback(() => setGeneration((g) => g + 1), []);

  const rooms = useMemo(() => (pages?.rooms ?? []).map((r) => live.get(r.roomId) ?? r), [pages, live]);
  return { rooms, hasMore: pages?.next != null, loading, error, loadMore, refresh };
}
