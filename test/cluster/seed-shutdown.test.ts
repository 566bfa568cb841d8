/**
 * A rolling restart across three servers with the seed app's own client (issue 19, points 4
 * and 5): its sockets on the server that shuts down see `transport close`, not a socket.io
 * disconnect, so each comes back once, through the load balancer, to another server, and the
 * members on the other servers see them leave and come back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join, user } from '../helpers/client.js';
import { privateCluster, type Cluster } from '../helpers/cluster.js';
import { portOf, seedDevice, startRelay } from '../helpers/seed-device.js';
import { waitUntil } from '../helpers/wait.js';

const own: Cluster[] = [];
afterEach(async () => {
  await Promise.all(own.splice(0).map((c) => c.close()));
});

const DEVICES = 30;
const SPREAD_MS = 1000;

describe('seed clients and a server shutting down, across three servers', () => {
  it('each comes back once to another server, after its transport closed', { timeout: 60_000 }, async () => {
    const c = await privateCluster({ SOCKET_PATH: '/jg', SHUTDOWN_SPREAD_MS: String(SPREAD_MS), HANDSHAKE_RATE: '100000', HANDSHAKE_BURST: '100000' });
    own.push(c);
    const [leaving, next, other] = c.nodes as [Cluster['nodes'][0], Cluster['nodes'][0], Cluster['nodes'][0]];
    const p = 'cl-seed-rolling';
    const watcher = await join(other, p, user('watcher'));
    const relay = await startRelay(portOf(leaving.url));
    const devices = Array.from({ length: DEVICES }, (_, i) => seedDevice(`https://127.0.0.1:${relay.port}/${p}`, leaving.ca, `seed${i}`));
    await waitUntil(() => devices.every((d) => d.connects.length === 1), 20_000, 'every seed client to connect');

    relay.target = portOf(next.url);
    await leaving.close();
    await waitUntil(() => devices.every((d) => d.connects.length >= 2), 15_000, 'every seed client to come back');

    // Once each, to the next server; none was given a socket.io disconnect to answer at once.
    expect(relay.accepted.filter((x) => x.target === relay.target)).toHaveLength(DEVICES);
    for (const d of devices) {
      expect(d.connects).toHaveLength(2);
      expect(d.reasons).toEqual(['transport close']);
      expect(d.gaveUp).toBe(false);
      expect(d.notices).toEqual([{ code: 'SERVER_SHUTDOWN', message: expect.any(String), retryAfterMs: expect.any(Number) }]);
      expect((d.notices[0] as { retryAfterMs: number }).retryAfterMs).toBeLessThan(SPREAD_MS);
    }
    // A member on another server is untouched by the restart.
    expect(watcher.connected).toBe(true);
    expect(watcher.events.all('system')).toEqual([]);
  });
});
