/**
 * The address a handshake is counted against (rate limits, logs). Behind proxies the socket's
 * peer is the nearest proxy, so the client's address comes from `X-Forwarded-For`; but each
 * proxy appends to that header whatever it received, and everything left of the entries the
 * trusted proxies added was written by the client. So the address is read from the right:
 * with `trustProxy` = n hops, the n-th entry from the right, as Express's `trust proxy` does.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The entries of every `X-Forwarded-For` line, left to right. */
function forwardedChain(req: IncomingMessage): string[] {
  const raw = req.headers['x-forwarded-for'];
  const lines = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return lines.flatMap((l) => l.split(',')).map((e) => e.trim()).filter(Boolean);
}

/** An IP address from an entry, some proxies adding a port (`1.2.3.4:5678`, `[::1]:80`); `null` otherwise. */
export function parseForwardedEntry(entry: string): string | null {
  let e = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(e);
  if (bracketed) e = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(e)) e = e.slice(0, e.lastIndexOf(':'));
  return isIP(e) ? e.toLowerCase() : null;
}

/**
 * `fallback` is the socket's peer address. With fewer entries than hops the request came through
 * fewer proxies (or straight to an inner one), and the leftmost entry is the farthest known
 * address. An entry that is not an IP address means the chain is not what the configuration
 * says, and the socket's address is used rather than a string the client may have chosen.
 */
export function clientAddress(req: IncomingMessage, fallback: string, trustProxy: number): string {
  if (trustProxy <= 0) return fallback;
  const chain = forwardedChain(req);
  if (chain.length === 0) return fallback;
  const entry = chain[Math.max(0, chain.length - trustProxy)]!;
  return parseForwardedEntry(entry) ?? fallback;
}
