/**
 * Which departures hold a session for the reconnect grace (spec 7.1), one by one: the one place
 * that decides it is `domain/grace.ts`.
 */
import { describe, expect, it } from 'vitest';
import { departureOf, holdsSession, type Departure } from '../../src/domain/grace.js';

const GRACE = 20_000;

describe('the reconnect grace: which departures hold the seat', () => {
  it.each<[string, string, string | null, Departure, boolean]>([
    // What nobody chose: held.
    ['the transport closed (a cut line)', 'transport close', null, 'transport-lost', true],
    ['the transport failed', 'transport error', null, 'transport-lost', true],
    ['engine.io closed it (a seed socket sent away over the shutdown spread)', 'forced close', null, 'transport-lost', true],
    ['no pong in time (a silent line)', 'ping timeout', null, 'ping-timeout', true],
    ['its server disconnected it without a final notice (shutdown, eviction)', 'server namespace disconnect', null, 'server-going', true],
    ['told SERVER_SHUTDOWN, then disconnected', 'server namespace disconnect', 'SERVER_SHUTDOWN', 'server-going', true],
    ['socket.io closing', 'server shutting down', null, 'server-going', true],
    // What the user or an operator chose: final.
    ["the client's own disconnect()", 'client namespace disconnect', null, 'client-disconnect', false],
    ['kicked', 'server namespace disconnect', 'KICKED', 'kicked', false],
    ['banned', 'server namespace disconnect', 'BANNED', 'banned', false],
    ['the programme ended', 'server namespace disconnect', 'PROGRAM_ENDED', 'programme-ended', false],
    ['replaced by a newer session of the same user', 'server namespace disconnect', 'DUPLICATE_SESSION', 'replaced', false],
    // A final notice wins over whatever the transport did afterwards.
    ['kicked, and the line dropped before the disconnect', 'transport close', 'KICKED', 'kicked', false],
    // Unknown reasons let go: holding a seat nobody comes back to costs the room more.
    ['a parse error', 'parse error', null, 'client-disconnect', false],
  ])('%s', (_what, reason, finalCode, departure, held) => {
    expect(departureOf(reason, finalCode)).toBe(departure);
    expect(holdsSession(departure, GRACE)).toBe(held);
  });

  it('an explicit leaveRoom never holds', () => {
    expect(holdsSession('left-room', GRACE)).toBe(false);
  });

  it('the death of a server holds', () => {
    expect(holdsSession('server-died', GRACE)).toBe(true);
  });

  it('with RECONNECT_GRACE_MS=0 nothing holds', () => {
    for (const d of ['transport-lost', 'ping-timeout', 'server-going', 'server-died'] as const) expect(holdsSession(d, 0)).toBe(false);
  });
});
