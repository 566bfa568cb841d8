// GENERATED from src/protocol/errors.ts by scripts/sync-protocol.mjs: do not edit; edit the source and run npm run build.
/**
 * The error catalogue of the wire protocol. Codes are protocol data: clients switch on them,
 * so they never change meaning. `test/contract/asyncapi.test.ts` holds the published contract
 * (docs/asyncapi.yaml) to this catalogue.
 */
export const ErrorCode = {
  EV001: 'EV001',
  ER001: 'ER001',
  EJ001: 'EJ001',
  EJ002: 'EJ002',
  EJ003: 'EJ003',
  EJ004: 'EJ004',
  EJ005: 'EJ005',
  EC001: 'EC001',
  EC002: 'EC002',
  EM001: 'EM001',
  EM002: 'EM002',
  EM003: 'EM003',
  EM004: 'EM004',
  EM005: 'EM005',
  EM006: 'EM006',
  EO001: 'EO001',
  EA001: 'EA001',
  EA002: 'EA002',
  EA003: 'EA003',
  EA004: 'EA004',
  ES001: 'ES001',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorMessages: Record<ErrorCode, string> = {
  EV001: 'malformed payload',
  ER001: 'too many requests',
  EJ001: 'no such room',
  EJ002: 'room is full',
  EJ003: 'wrong password',
  EJ004: 'no room with a free seat',
  EJ005: "the room's owner removed you from it a short while ago",
  EC001: 'invalid room (title, max or password out of bounds)',
  EC002: 'this programme has too many rooms',
  EM001: 'not in that room',
  EM002: 'invalid message (empty, too long or unknown type)',
  EM003: "refused by the programme's word filter",
  EM004: 'you are muted in this programme until `until`',
  EM005: 'slow mode: wait `retryAfterMs` before your next message',
  EM006: 'the same text again within the duplicate window',
  EO001: "only the room's owner may do that",
  EA001: 'another aggro is live in this room',
  EA002: 'you posted an aggro too recently',
  EA003: 'no such live aggro in your room',
  EA004: 'already voted on this aggro, or it is your own',
  ES001: 'service unavailable, try again',
};

/** Codes of a refused handshake: `connect_error.message`, with `data: { code, message }`. */
export const ConnectErrorCode = {
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  AUTH_INVALID: 'AUTH_INVALID',
  AUTH_EXPIRED: 'AUTH_EXPIRED',
  PROGRAM_NOT_ON_AIR: 'PROGRAM_NOT_ON_AIR',
  RATE_LIMITED: 'RATE_LIMITED',
  BANNED: 'BANNED',
  KICKED: 'KICKED',
  SERVER_SHUTDOWN: 'SERVER_SHUTDOWN',
} as const;
export type ConnectErrorCode = (typeof ConnectErrorCode)[keyof typeof ConnectErrorCode];

/** Codes carried by the server's `system` event. */
export const SystemCode = {
  DUPLICATE_SESSION: 'DUPLICATE_SESSION',
  SERVER_SHUTDOWN: 'SERVER_SHUTDOWN',
  PROGRAM_ENDED: 'PROGRAM_ENDED',
  KICKED: 'KICKED',
  BANNED: 'BANNED',
  MUTED: 'MUTED',
  SLOW_MODE: 'SLOW_MODE',
  OWNER: 'OWNER',
  REMOVED_FROM_ROOM: 'REMOVED_FROM_ROOM',
} as const;
export type SystemCode = (typeof SystemCode)[keyof typeof SystemCode];

/**
 * What a client should do after a refused handshake or a `system` notice, as Centrifuge's
 * disconnect codes say whether to reconnect. A client that reconnects when told not to only
 * meets the same refusal again (or, after `DUPLICATE_SESSION`, evicts its own other session),
 * and one that gives up on a transient code strands its user.
 * - `never`: not on its own; only when the user does something (signs in again, picks another
 *   programme, comes back later).
 * - `after-delay`: on its own, after a back-off (`retryAfterMs` when the notice carries one).
 * - `with-new-token`: once it has a fresh token; with the same one it is refused again.
 */
export type ReconnectAdvice = 'never' | 'after-delay' | 'with-new-token';

export const connectErrorReconnect: Record<ConnectErrorCode, ReconnectAdvice> = {
  AUTH_REQUIRED: 'never',
  AUTH_INVALID: 'never',
  AUTH_EXPIRED: 'with-new-token',
  PROGRAM_NOT_ON_AIR: 'never',
  RATE_LIMITED: 'after-delay',
  BANNED: 'never',
  // The cooldown is a sanction: a client that waits it out on its own defeats it.
  KICKED: 'never',
  // Behind a balancer the next handshake reaches another server; a delay gives the balancer
  // time to take this one out of rotation.
  SERVER_SHUTDOWN: 'after-delay',
};

export const systemReconnect: Record<SystemCode, ReconnectAdvice> = {
  // The newer session is the user's own: reconnecting would evict it in turn, back and forth.
  DUPLICATE_SESSION: 'never',
  SERVER_SHUTDOWN: 'after-delay',
  PROGRAM_ENDED: 'never',
  KICKED: 'never',
  BANNED: 'never',
  // Moderation notices (spec 9) leave the socket connected: there is nothing to reconnect.
  MUTED: 'never',
  SLOW_MODE: 'never',
  // Room-owner notices (spec 9): the socket stays connected, in the lobby after a removal.
  OWNER: 'never',
  REMOVED_FROM_ROOM: 'never',
};
