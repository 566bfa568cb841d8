/// <reference lib="dom" />
/**
 * A page for test/react/hooks.test.ts: real React (react-dom in Chromium) rendering @onair/react's
 * hooks for a real client. Each render writes what the hooks returned as JSON into <pre id="out">,
 * so the test reads exactly what a component saw; `window.harness` lets the test act as the user.
 */
import { OnAirClient, type ConnectOptions } from '@onair/client';
import { OnAirProvider, errorText, useAggro, useCall, useFeaturedRooms, useRoom, useRoomSearch, useSession } from '@onair/react';
import { createElement, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

interface Controls {
  client: OnAirClient;
  search(q: string, limit: number): void;
  loadMore(): void;
  loadOlder(): void;
  vote(direction: 'up' | 'down'): Promise<unknown>;
  renders: number;
  /** Every session status rendered, in order. */
  statuses: string[];
}

declare global {
  interface Window {
    harness: Controls;
    startHarness(opts: ConnectOptions): Promise<void>;
  }
}

function Probe({ controls }: { controls: Controls }) {
  const session = useSession();
  const featured = useFeaturedRooms();
  const [query, setQuery] = useState<{ q: string; limit: number } | null>(null);
  const search = useRoomSearch({ q: query?.q ?? '', limit: query?.limit ?? 20 });
  const room = useRoom();
  const aggro = useAggro(100);
  const voting = useCall((direction: 'up' | 'down') => aggro.vote(direction));

  useEffect(() => {
    controls.search = (q, limit) => setQuery({ q, limit });
    controls.loadMore = search.loadMore;
    controls.loadOlder = room.loadOlder;
    controls.vote = voting.run;
  });
  controls.renders += 1;
  if (controls.statuses.at(-1) !== session.status) controls.statuses.push(session.status);

  const out = {
    session: { status: session.status, connected: session.connected, recovered: session.recovered, resumed: session.resumed, error: session.error?.code ?? null, connections: controls.client.connection.snapshot.connections },
    featured: featured.map((r) => `${r.title}:${r.count}`),
    search: query && { rooms: search.rooms.map((r) => r.title), hasMore: search.hasMore, loading: search.loading },
    room: {
      roomId: room.roomId,
      title: room.summary?.title ?? null,
      members: room.members.map((m) => m.displayName).sort(),
      messages: room.messages.map((m) => `${m.displayName}: ${m.msg}`),
      hasOlder: room.hasOlder,
    },
    aggro: aggro.aggro && { msg: aggro.aggro.msg, point: aggro.aggro.point, secondsLeft: aggro.secondsLeft, mine: aggro.mine },
    vote: { pending: voting.pending, error: voting.error?.code ?? null, text: voting.error ? errorText(voting.error) : null },
  };
  return createElement('pre', { id: 'out' }, JSON.stringify(out));
}

window.startHarness = async (opts) => {
  const client = new OnAirClient(opts);
  const controls = { client, renders: 0, statuses: [] as string[] } as Controls;
  window.harness = controls;
  const root = createRoot(document.getElementById('root')!);
  // Rendered before connecting, so the test sees 'connecting' first.
  root.render(createElement(OnAirProvider, { client }, createElement(Probe, { controls })));
  await client.open();
};
