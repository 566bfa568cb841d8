/**
 * The SDK after a server's shutdown: it comes back after the notice's `retryAfterMs`, through
 * the load balancer (a TCP relay here), to the other server, once.
 */
import { describe, expect, it } from 'vitest';
import { OnAirClient, waitFor } from '@onair/client';
import { user, WAIT_MS } from '../helpers/client.js';
import { sdkOptions, track } from '../helpers/sdk.js';
import { now, portOf, startRelay } from '../helpers/seed-device.js';
import { startServer } from '../helpers/server.js';

const P = 'sdkRolling';
const SPREAD_MS = 1500;

describe('SDK and SERVER_SHUTDOWN', () => {
  it('reconnects after retryAfterMs, to the server the balancer now sends it to', async () => {
    const env = { SHUTDOWN_SPREAD_MS: String(SPREAD_MS) };
    const a = await startServer(env);
    const b = await startServer(env);
    const relay = await startRelay(portOf(a.url));
    const c = track(
      new OnAirClient(
        sdkOptions(a, P, {
          url: `https://127.0.0.1:${relay.port}`,
          identity: user('phone'),
          socketOptions: { reconnection: true, ...(a.ca ? { ca: a.ca } : {}) },
        }),
      ),
    );
    await c.open();
    let noticeAt = 0;
    c.on('system', () => (noticeAt = now()));
    const reasons: string[] = [];
    c.socket.on('disconnect', (reason) => reasons.push(reason));

    relay.target = portOf(b.url);
    await a.close();
    await waitFor(c.state, (s) => !s.connected, WAIT_MS);
    expect(c.state.lastSystem).toEqual({ code: 'SERVER_SHUTDOWN', message: expect.any(String), retryAfterMs: expect.any(Number) });
    await waitFor(c.state, (s) => s.connected, SPREAD_MS + WAIT_MS);

    // The server disconnected it: socket.io alone would not have come back.
    expect(reasons).toEqual(['io server disconnect']);
    const retryAfterMs = c.state.lastSystem!.retryAfterMs!;
    const back = relay.accepted.filter((x) => x.target === relay.target);
    expect(back).toHaveLength(1);
    // Not before it was told to (a timer may fire a millisecond early on the clock read here).
    expect(back[0]!.at - noticeAt).toBeGreaterThanOrEqual(retryAfterMs - 5);
    expect(b.app.io.of(`/${P}`).sockets.size).toBe(1);
  });

});
