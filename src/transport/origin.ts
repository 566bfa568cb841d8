/**
 * Which browser pages may open a connection (CORS does not cover WebSocket upgrades, so the
 * `Origin` header is checked for both transports).
 */
import type { Config } from '../config/config.js';

/** Why a browser page was refused: its origin is not in CORS_ORIGINS; it is not this server's
 * own (no CORS_ORIGINS); or the server speaks plain HTTP and has no CORS_ORIGINS. */
export type OriginRefusal = 'not-listed' | 'cross-origin' | 'plain-http';

/**
 * Without CORS_ORIGINS only same-origin pages connect, judged by comparing `Origin` with `Host`.
 * Over TLS the browser has checked the certificate against that host name, so the two cannot be
 * made to agree from a foreign site. Over plain HTTP they can: a page on evil.example whose name
 * is re-pointed at this server (DNS rebinding) sends `Origin: http://evil.example` and
 * `Host: evil.example`. So with TLS off, `Host` is not trusted and browser pages need CORS_ORIGINS.
 */
export function originRefusal(config: Pick<Config, 'corsOrigins' | 'tls'>, origin: string, host: string | undefined): OriginRefusal | null {
  if (config.corsOrigins === '*') return null;
  if (config.corsOrigins) return config.corsOrigins.includes(origin) ? null : 'not-listed';
  if (!config.tls.enabled) return 'plain-http';
  try {
    return new URL(origin).host === host ? null : 'cross-origin';
  } catch {
    return 'cross-origin';
  }
}

/** The start-up warning for a configuration in which browser pages cannot connect. */
export function originWarning(config: Pick<Config, 'corsOrigins' | 'tls'>): string | null {
  if (config.tls.enabled || config.corsOrigins) return null;
  return 'TLS=off without CORS_ORIGINS: browser pages (requests with an Origin header) are refused, since Host cannot be trusted without a certificate; list the pages\' origins in CORS_ORIGINS';
}
