/**
 * Which departures keep the user's seat for the reconnect grace (spec 7.1), decided here and
 * nowhere else. A departure the user or an operator chose (an explicit leave, the client's own
 * `disconnect()`, a kick, a ban, the programme's end, a newer session of the same user) is
 * final: the seat goes at once, as it always did. A departure nobody chose (the line dropped, a
 * ping went unanswered, the server died or is restarting) is held: the room hears nothing for
 * `RECONNECT_GRACE_MS`, and a return of the same user within it resumes the session.
 *
 * The transport names the departure with `Departure`, from socket.io's disconnect reason and
 * whatever final notice the socket was sent before it went (`system` with a final code).
 */

/** Why a session's socket is gone, in the domain's words. */
export type Departure =
  /** `leaveRoom`: the member leaves the room (the socket stays). */
  | 'left-room'
  /** The client called `disconnect()` (socket.io's `client namespace disconnect`). */
  | 'client-disconnect'
  | 'kicked'
  | 'banned'
  | 'programme-ended'
  /** A newer session of the same user replaced it (`DUPLICATE_SESSION`). */
  | 'replaced'
  /** The transport closed or failed (a phone losing its network, a cut line). */
  | 'transport-lost'
  /** No pong within `PING_TIMEOUT_MS` (a line gone silent). */
  | 'ping-timeout'
  /** Its server told it `SERVER_SHUTDOWN` or disconnected it without a final notice (closing,
   * or evicted from the cluster). */
  | 'server-going'
  /** Its server died; a survivor noticed within `NODE_TIMEOUT_MS`. */
  | 'server-died';

const HELD: ReadonlySet<Departure> = new Set<Departure>(['transport-lost', 'ping-timeout', 'server-going', 'server-died']);

/** Whether the seat and session are held for the grace; never with the grace off (0). */
export function holdsSession(departure: Departure, graceMs: number): boolean {
  return graceMs > 0 && HELD.has(departure);
}

/** The codes of final `system` notices, as the departure they make. */
const FINAL_NOTICES: Readonly<Record<string, Departure>> = {
  DUPLICATE_SESSION: 'replaced',
  KICKED: 'kicked',
  BANNED: 'banned',
  PROGRAM_ENDED: 'programme-ended',
};

/**
 * The departure of a socket from socket.io's disconnect `reason` and the code of the last
 * final `system` notice it was sent (`finalCode`, if any). Unknown reasons are final: holding
 * a seat nobody will come back to costs the room the grace, letting go of one costs a
 * returning user a `joinRoom`; the first is worse for everyone else.
 */
export function departureOf(reason: string, finalCode: string | null): Departure {
  if (finalCode && FINAL_NOTICES[finalCode]) return FINAL_NOTICES[finalCode];
  switch (reason) {
    case 'client namespace disconnect':
      return 'client-disconnect';
    case 'transport close':
    case 'transport error':
    case 'forced close':
      return 'transport-lost';
    case 'ping timeout':
      return 'ping-timeout';
    case 'server namespace disconnect':
    case 'server shutting down':
    case 'forced server close':
      return 'server-going';
    default:
      return 'client-disconnect';
  }
}
