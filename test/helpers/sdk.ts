/**
 * SDK clients against a test server: verified TLS, websocket only, no reconnection (a test
 * decides when a client comes back), each closed after its test.
 */
import { afterEach } from 'vitest';
import { connect, OnAirClient, type ConnectOptions } from '@onair/client';
import { user, WAIT_MS, type Who } from './client.js';
import type { TestServer } from './server.js';

const opened = new Set<OnAirClient>();
afterEach(() => {
  for (const c of opened) c.close();
  opened.clear();
});

/** Connect options for `server`; `extra` wins. */
export function sdkOptions(server: TestServer, program: string, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    url: server.url,
    program,
    path: server.config.socketPath,
    transports: ['websocket'],
    timeoutMs: WAIT_MS,
    socketOptions: { reconnection: false, ...(server.ca ? { ca: server.ca } : {}) },
    ...extra,
  };
}

/** A connected SDK client with a dev identity (a fresh one unless given). */
export async function sdk(server: TestServer, program: string, who: Who = user(), extra: Partial<ConnectOptions> = {}): Promise<OnAirClient> {
  const c = track(new OnAirClient(sdkOptions(server, program, { identity: who, ...extra })));
  return c.open();
}

/** `connect()` itself, its client closed after the test whatever the outcome. */
export async function sdkConnect(opts: ConnectOptions): Promise<OnAirClient> {
  return track(await connect(opts));
}

export function track(c: OnAirClient): OnAirClient {
  opened.add(c);
  return c;
}

/** The rejection of `p`, which must reject. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
