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
};

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function has<K extends string>(table: Record<K, string>, code: unknown): code is K {
  return typeof code === 'string' && Object.hasOwn(table, code);
}

/** A refused call, a refused connection or anything else thrown, as one line for the banner. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (has(errorMessages, code)) return `${sentence(errorMessages[code as ErrorCode])} (${code})`;
  if (has(connectMessages, code)) return `${connectMessages[code]} (${code})`;
  return err instanceof Error ? sentence(err.message) : String(err);
}

export function describeSystem(notice: { code: string; message: string }): string {
  return has(systemMessages, notice.code) ? systemMessages[notice.code] : sentence(notice.message);
}
