/**
 * Issue 10 point 7: behind TRUST_PROXY, the client's address is the one the trusted proxy
 * added (the rightmost X-Forwarded-For entry, or the n-th from the right), never the leftmost,
 * which the client writes.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { clientAddress, parseForwardedEntry } from '../../src/transport/client-address.js';
import { client, join, user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';

const SOCKET = '10.9.9.9';
const req = (xff?: string | string[]) => ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  const rows: [string, string | string[] | undefined, number, string][] = [
    ['no trust: the socket, whatever the header says', '1.1.1.1', 0, SOCKET],
    ['no header', undefined, 1, SOCKET],
    ['empty header', '', 1, SOCKET],
    ['one hop, one entry', '203.0.113.7', 1, '203.0.113.7'],
    ['one hop: the rightmost, not the client-written leftmost', '6.6.6.6, 203.0.113.7', 1, '203.0.113.7'],
    ['one hop, many spoofed entries', '1.1.1.1,2.2.2.2 , 3.3.3.3,203.0.113.7', 1, '203.0.113.7'],
    ['two hops: second from the right', '6.6.6.6, 203.0.113.7, 198.51.100.1', 2, '203.0.113.7'],
    ['three hops', '6.6.6.6, 203.0.113.7, 198.51.100.1, 198.51.100.2', 3, '203.0.113.7'],
    ['fewer entries than hops: the leftmost', '203.0.113.7', 2, '203.0.113.7'],
    ['several header lines count as one list', ['6.6.6.6', '203.0.113.7'], 1, '203.0.113.7'],
    ['IPv6', '6.6.6.6, 2001:DB8::1', 1, '2001:db8::1'],
    ['IPv4 with a port', '6.6.6.6, 203.0.113.7:5123', 1, '203.0.113.7'],
    ['bracketed IPv6 with a port', '6.6.6.6, [2001:db8::1]:443', 1, '2001:db8::1'],
    ['malformed chosen entry: the socket', '203.0.113.7, not-an-ip', 1, SOCKET],
    ['malformed chosen entry among hops: the socket', 'evil, 198.51.100.1', 2, SOCKET],
    ['a malformed entry further left does not matter', 'garbage, 203.0.113.7', 1, '203.0.113.7'],
    ['only commas', ' , ,', 1, SOCKET],
  ];
  it.each(rows)('%s', (_what, xff, hops, expected) => expect(clientAddress(req(xff), SOCKET, hops)).toBe(expected));

  it('parses entries as IP addresses only', () => {
    expect(parseForwardedEntry('unknown')).toBeNull();
    expect(parseForwardedEntry('1.2.3.4.5')).toBeNull();
    expect(parseForwardedEntry('_hidden')).toBeNull();
    expect(parseForwardedEntry(' ::1 ')).toBe('::1');
  });
});

describe('TRUST_PROXY configuration', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['false', 0],
    ['0', 0],
    ['off', 0],
    ['true', 1],
    ['TRUE', 1],
    ['1', 1],
    ['yes', 1],
    ['2', 2],
    ['32', 32],
  ] as [string | undefined, number][])('TRUST_PROXY=%j trusts %i hops', (value, hops) => {
    expect(loadConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toBe(hops);
  });

  it.each(['perhaps', '-1', '33', '1.5', '100'])('TRUST_PROXY=%j stops the start naming it', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });
});

/** Connect and report the outcome: 'connected' or the refusal's code. */
function outcome(c: ReturnType<typeof client>): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no handshake outcome')), 10_000);
    c.once('connect', () => (clearTimeout(t), resolve('connected')));
    c.once('connect_error', (err: Error & { data?: { code: string } }) => (clearTimeout(t), resolve(err.data?.code ?? err.message)));
    c.connect();
  });
}

describe('handshake rate limit behind a proxy (real TLS)', () => {
  it('with TRUST_PROXY=true, rotating the leftmost X-Forwarded-For does not escape HANDSHAKE_BURST', async () => {
    const server = await startServer({ TRUST_PROXY: 'true', HANDSHAKE_BURST: '3', HANDSHAKE_RATE: '1' });
    // What a proxy in front forwards: the client's made-up entry, then the address the proxy saw.
    const via = (spoof: number, real = '203.0.113.7') => ({ extraHeaders: { 'x-forwarded-for': `192.0.2.${spoof}, ${real}` } });
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => outcome(client(server, 'prog-xff', { auth: user(`spoof${i}`), ...via(i) }))),
    );
    // The bucket refills at HANDSHAKE_RATE=1/s while the attempts run.
    const allowed = 3 + Math.ceil((Date.now() - started) / 1000);
    const connected = results.filter((r) => r === 'connected').length;
    expect(connected).toBeGreaterThanOrEqual(3);
    expect(connected).toBeLessThanOrEqual(allowed);
    // Refused by the handshake budget (RATE_LIMITED), or, past twice the burst, already when the
    // engine.io session is opened (allowRequest answers 400 to the upgrade: a websocket error).
    const refused = results.filter((r) => r !== 'connected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r === 'RATE_LIMITED' || r === 'websocket error'), refused.join(', ')).toBe(true);
    expect(refused).toContain('RATE_LIMITED');
    // Another client behind the same proxy has its own bucket.
    const other = await join(server, 'prog-xff', user('other'), via(1, '203.0.113.8'));
    expect(other.connected).toBe(true);
  });
});
