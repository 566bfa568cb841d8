/** Readable sentences for every code the server may answer with. */
import { errorMessages, type ConnectErrorCode, type ErrorCode, type SystemCode } from '../../src/protocol/errors.js';

const connectMessages: Record<ConnectErrorCode | 'TIMEOUT' | 'DISCONNECTED' | 'UNKNOWN', string> = {
  AUTH_REQUIRED: 'Sign-in needed: give a user id and a name, or a token',
  AUTH_INVALID: 'The server refused this identity or token',
  AUTH_EXPIRED: 'The token has expired: paste a fresh one',
  PROGRAM_NOT_ON_AIR: 'This programme is not on air',
  RATE_LIMITED: 'Too many sign-ins from here: try again shortly',
  BANNED: 'You are banned from this programme',
  KICKED: 'An operator removed you from this programme a moment ago: try again in a minute',
  SERVER_SHUTDOWN: 'The server is restarting: sign in again in a moment',
  TIMEOUT: 'The server did not answer in time',
  DISCONNECTED: 'The connection was lost',
  UNKNOWN: 'Could not connect',
};

const systemMessages: Record<SystemCode, string> = {
  DUPLICATE_SESSION: 'You signed in to this programme somewhere else, so this session was closed',
  SERVER_SHUTDOWN: 'The server is restarting: sign in again in a moment',
  PROGRAM_ENDED: 'The programme has ended',
  KICKED: 'An operator removed you from this programme',
  BANNED: 'You are banned from this programme',
  MUTED: 'A moderator muted you for a while: you can read but not post',
  SLOW_MODE: 'Slow mode changed in this room',
  OWNER: 'The room has a new owner',
  REMOVED_FROM_ROOM: "The room's owner removed you from the room: you cannot go back in for a while",
};

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function has<K extends string>(table: Record<K, string>, code: unknown): code is K {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

/** A refused call, a refused connection or anything else thrown, as one line for the banner. */
export function describeError(err: unknown): string {
  const { code, until, retryAfterMs } = (err ?? {}) as { code?: unknown; until?: number; retryAfterMs?: number };
  // The two refusals that say when to try again (spec 9) say it in words.
  if (code === 'EM004' && until !== undefined) return `You are muted until ${time.format(until)}: you can read but not post (EM004)`;
  if (code === 'EM005' && retryAfterMs !== undefined) return `Slow mode: wait ${Math.ceil(retryAfterMs / 1000)} s before your next message (EM005)`;
  if (has(errorMessages, code)) return `${sentence(errorMessages[code as ErrorCode])} (${code})`;
  if (has(connectMessages, code)) return `${connectMessages[code]} (${code})`;
  return err instanceof Error ? sentence(err.message) : String(err);
}

export function describeSystem(notice: { code: string; message: string; until?: number; seconds?: number; userUID?: string }, me?: string): string {
  if (notice.code === 'MUTED' && notice.until !== undefined) {
    return notice.until > Date.now() ? `A moderator muted you until ${time.format(notice.until)}: you can read but not post` : 'You may post again';
  }
  if (notice.code === 'SLOW_MODE' && notice.seconds !== undefined) {
    return notice.seconds > 0 ? `Slow mode: one message every ${notice.seconds} s` : 'Slow mode is off';
  }
  if (notice.code === 'OWNER') return notice.userUID === me ? 'You own this room now: you can edit it and remove members' : sentence(notice.message);
  return has(systemMessages, notice.code) ? systemMessages[notice.code] : sentence(notice.message);
}
