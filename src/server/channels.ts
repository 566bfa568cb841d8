/** socket.io room names. Prefixed so that a room id can never collide with the lobby. */
export const LOBBY = 'lobby';
export function roomChannel(roomId: string): string {
  return `room:${roomId}`;
}
