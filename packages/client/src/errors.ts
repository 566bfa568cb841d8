/**
 * The two ways a call can fail: the server answered no (`OnAirError`, with the protocol's error
 * code), or no answer came (`OnAirConnectError`: refused handshake, timeout, lost connection).
 */
import { ConnectErrorCode, connectErrorReconnect, type ErrorCode, type ReconnectAdvice } from './protocol/errors.js';

/** The server refused a call; `code` is one of the protocol's documented error codes.
 * `until` comes with `EM004` (muted until, epoch ms), `retryAfterMs` with `EM005` (slow mode). */
export class OnAirError extends Error {
  override readonly name = 'OnAirError';
  readonly until?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: { until?: number | undefined; retryAfterMs?: number | undefined } = {},
  ) {
    super(message);
    if (extra.until !== undefined) this.until = extra.until;
    if (extra.retryAfterMs !== undefined) this.retryAfterMs = extra.retryAfterMs;
  }
}

export type OnAirConnectErrorCode = ConnectErrorCode | 'TIMEOUT' | 'DISCONNECTED' | 'UNKNOWN';

/**
 * No answer from the server: the handshake was refused (`AUTH_REQUIRED`, `BANNED`, ...), it or a
 * call took longer than `timeoutMs` (`TIMEOUT`), the connection was or went down (`DISCONNECTED`),
 * or the transport failed in a way the protocol has no code for (`UNKNOWN`, see `cause`).
 */
export class OnAirConnectError extends Error {
  override readonly name = 'OnAirConnectError';
  /** Whether to try again: the protocol's advice for a refusal (`connectErrorReconnect`);
   * after a timeout, a lost connection or a transport failure, `after-delay`. */
  readonly reconnect: ReconnectAdvice;

  constructor(
    readonly code: OnAirConnectErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reconnect = Object.hasOwn(connectErrorReconnect, code) ? connectErrorReconnect[code as ConnectErrorCode] : 'after-delay';
  }
}

const connectCodes = new Set<string>(Object.values(ConnectErrorCode));

/** socket.io's `connect_error` as an `OnAirConnectError`: a refusal by the server's middleware
 * carries its code as the message and `data: { code, message }`. */
export function connectErrorFrom(err: Error & { data?: unknown }): OnAirConnectError {
  const data = err.data as { code?: unknown; message?: unknown } | undefined;
  const code = typeof data?.code === 'string' ? data.code : err.message;
  if (connectCodes.has(code)) {
    const text = typeof data?.message === 'string' ? data.message : code;
    return new OnAirConnectError(code as ConnectErrorCode, text, { cause: err });
  }
  return new OnAirConnectError('UNKNOWN', `could not connect: ${err.message}`, { cause: err });
}
