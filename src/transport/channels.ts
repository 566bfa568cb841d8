/** socket.io room names. Prefixed so that a room id can never collide with the lobby. */
export const LOBBY = 'lobby';
export function roomChannel(roomId: string): string {
  return `room:${roomId}`;
}
/** The sockets watching a room (`watchRooms`) in per-room mode: its lobby news reaches them
 * here while the room is out of the featured view (in it, they hear it with the lobby). `/` cannot occur in a room id. The Redis scripts make the same
 * name (`lobby-lua.ts`). */
export function watchChannel(roomId: string): string {
  return `${LOBBY}/${roomId}`;
}
/** Lobby sockets in batched mode (`roomCounts`) sit here instead of in `LOBBY`, so the per-room
 * lobby events never reach them. */
export const LOBBY_BATCHED = 'lobby:batched';
/** Every socket whose handshake carried an `auth` payload (v4 clients, the SDK): what is left of
 * a target once these are excepted is its seed-protocol sockets, on any server. The colon keeps
 * it apart from socket ids, the lobby and `room:` channels. */
export const AUTH_CLIENTS = 'clients:auth';
