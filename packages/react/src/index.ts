/**
 * React bindings for `@onair/client`: a provider that hands a connected client to the tree, and
 * hooks that re-render from its state (through `useSyncExternalStore`, so concurrent rendering
 * never tears). Nothing here touches the DOM: the same hooks serve React Native and the web.
 */
export { OnAirProvider, useOnAirClient, type OnAirProviderProps } from './provider.js';
export { useConnection, useOnAirState, useSession, type Session } from './state-hooks.js';
export { useFeaturedRooms, useRoomSearch, type RoomSearch, type RoomSearchOptions } from './lobby.js';
export { useAggro, useRoom, type LiveAggro, type Room } from './room.js';
export { errorText, isOnAirFailure, useCall, type Call, type OnAirFailure } from './call.js';
