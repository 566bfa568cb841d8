/**
 * Who the client connects as, known before the server says so. The server never tells a client
 * its own identity, yet the client needs it for its own chat messages (it gets no `chat` event
 * for them); the server's `loadUsers` later corrects what is guessed here.
 */
import type { UserInfo } from './protocol/events.js';
import { cleanLine, tidyLine } from './protocol/text.js';

// The protocol's DISPLAY_NAME_MAX; its module would bring zod into the browser bundle.
const NAME_MAX = 30;

/** The claims of a JWT, read without verifying it (the server verifies; this only guesses
 * names); `null` when it is not a readable JWT. */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    // UTF-8 through percent-escapes rather than TextDecoder, which React Native's Hermes lacks
    // in some versions; atob it has (RN 0.74 and later).
    const escaped = Array.from(atob(base64), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const claims: unknown = JSON.parse(decodeURIComponent(escaped));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The identity the server will derive, as the server derives it: in JWT mode `sub`, then the
 * `name` and `picture` claims before the handshake's own fields. */
export function expectedIdentity(opts: { token?: string; identity?: UserInfo }): UserInfo | null {
  const claims = opts.token ? tokenClaims(opts.token) : null;
  const userUID = typeof claims?.sub === 'string' ? claims.sub : opts.identity?.userUID;
  if (!userUID) return null;
  const name = typeof claims?.name === 'string' ? (tidyLine(claims.name, NAME_MAX) ?? undefined) : undefined;
  const photoURL = typeof claims?.picture === 'string' ? claims.picture : opts.identity?.photoURL;
  const typed = opts.identity?.displayName ?? '';
  const me: UserInfo = { userUID, displayName: name ?? cleanLine(typed) ?? typed };
  if (photoURL) me.photoURL = photoURL;
  return me;
}
