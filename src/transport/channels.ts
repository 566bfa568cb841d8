/** socket.io room names. Prefixed so that a room id can never collide with the lobby. */
export const LOBBY = 'lobby';
export function roomChannel(roomId: string): string {
  return `room:${roomId}`;
}
/** Every socket whose handshake carried an `auth` payload (v4 clients, the SDK): what is left of
 * a target once these are excepted is its seed-protocol sockets, on any server. The colon keeps
 * it apart from socket ids, the lobby and `room:` channels. */
export const AUTH_CLIENTS = 'clients:auth';
