import { pino, type Logger } from 'pino';

/** Structured logs, one JSON line each. Secrets that could reach a log line are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'onair' },
    redact: {
      paths: ['token', '*.token', 'password', '*.password', 'passwordHash', '*.passwordHash', 'headers.authorization', '*.headers.authorization', 'auth', '*.auth'],
      censor: '[redacted]',
    },
  });
}
