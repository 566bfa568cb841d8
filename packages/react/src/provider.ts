/**
 * The client the hooks read. The app makes it (`connect()` or `new OnAirClient()`), so the app
 * decides when to connect, which programme, and when to close; the provider only hands it down.
 */
import type { OnAirClient } from '@onair/client';
import { createContext, createElement, useContext, type ReactNode } from 'react';

const ClientContext = createContext<OnAirClient | null>(null);

export interface OnAirProviderProps {
  client: OnAirClient;
  children?: ReactNode;
}

/** Makes `client` the one every hook below it uses. Giving another client (a programme change)
 * re-subscribes every hook to it. */
export function OnAirProvider({ client, children }: OnAirProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The provider's client; throws outside an `OnAirProvider`, which is a programming error. */
export function useOnAirClient(): OnAirClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useOnAirClient: no OnAirProvider above this component');
  return client;
}
