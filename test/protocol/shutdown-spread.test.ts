/**
 * A rolling restart without a stampede (issue 19, point 4). 500 copies of the seed app's client
 * (socket.io-client 3.1, path /jg, websocket only, identity in the query, and its `disconnect`
 * handler, which reconnects at once after a server-side disconnect) reach server A through a TCP
 * relay standing in for the load balancer. A shuts down; the balancer sends new connections to
 * B. What is measured is when each client sets out to reconnect: with a socket.io disconnect
 * they all would in the same instant; onair closes their transports over SHUTDOWN_SPREAD_MS so
 * they come back through their own randomised back-off. (Arrivals at the balancer and connects
 * on B are reported too, but in one test process they also wait for everyone's TLS work.)
 *
 * A and B share a private Redis, as servers in a rolling restart do. (That matters for the old
 * behaviour too: with state in memory, the old shutdown tore the connections down before the
 * DISCONNECT packets left, which hid the stampede; with Redis the clean-up awaits let them go.)
 * One server's shutdown with two in-process servers: not part of the cluster project.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join, user } from '../helpers/client.js';
import { startRedis, type PrivateRedis } from '../helpers/redis.js';
import { now, portOf, seedFleet, startRelay, type DeviceLog } from '../helpers/seed-device.js';
import { waitUntil } from '../helpers/wait.js';
import { startServer } from '../helpers/server.js';

const P = 'rollingShow';
const SEED_CLIENTS = 500;
const V4_CLIENTS = 20;
const SPREAD_MS = 4000;
/** socket.io-client's first back-off with the seed's defaults: 1000 ms ± 50 %. */
const MIN_BACKOFF_MS = 500;
const BUCKET_MS = 50;

let redis: PrivateRedis | undefined;
afterAll(async () => {
  await redis?.remove();
});

const quantile = (sorted: number[], q: number): number => sorted[Math.floor(q * (sorted.length - 1))]!;

describe('shutdown without a stampede', () => {
  it('500 seed clients come back spread over SHUTDOWN_SPREAD_MS; v4 clients are told retryAfterMs', { timeout: 60_000 }, async () => {
    redis = await startRedis();
    const env = {
      SOCKET_PATH: '/jg',
      SHUTDOWN_SPREAD_MS: String(SPREAD_MS),
      HANDSHAKE_RATE: '100000',
      HANDSHAKE_BURST: '100000',
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'spread:',
    };
    const a = await startServer(env);
    const b = await startServer(env);
    const relay = await startRelay(portOf(a.url));

    // The devices run in a process of their own: their timing is theirs, not this process's.
    const fleet = seedFleet(`https://127.0.0.1:${relay.port}/${P}`, a.ca, SEED_CLIENTS);
    let devices: DeviceLog[] = [];
    const all = (n: number) => async () => (devices = await fleet.report()).length === SEED_CLIENTS && devices.every((d) => d.connects.length >= n);
    await waitUntil(all(1), 30_000, 'every seed client to connect to A');
    const v4 = await Promise.all(Array.from({ length: V4_CLIENTS }, () => join(a, P, user('v4'))));
    expect(a.app.io.of(`/${P}`).sockets.size).toBe(SEED_CLIENTS + V4_CLIENTS);

    // The balancer takes A out of rotation as it starts to shut down.
    relay.target = portOf(b.url);
    const started = now();
    const closed = a.close();
    await waitUntil(all(2), 20_000, 'every seed client to come back on B');
    await closed;
    devices = await fleet.report();

    const arrivals = relay.accepted.filter((x) => x.target === relay.target).map((x) => x.at - started);
    // Only what followed the shutdown: on a loaded machine a first connect may itself have needed a retry.
    for (const d of devices) d.attempts = d.attempts.filter((t) => t >= d.disconnects[0]!);
    const attempts = devices.flatMap((d) => d.attempts).map((t) => t - started);
    const sorted = [...attempts].sort((x, y) => x - y);
    const buckets = new Map<number, number>();
    for (const t of attempts) buckets.set(Math.floor(t / BUCKET_MS), (buckets.get(Math.floor(t / BUCKET_MS)) ?? 0) + 1);
    const maxBucket = Math.max(...buckets.values());
    const connected = devices.map((d) => d.connects[1]! - started).sort((x, y) => x - y);
    const p = (xs: number[]) => ({ p10: Math.round(quantile(xs, 0.1)), p50: Math.round(quantile(xs, 0.5)), p90: Math.round(quantile(xs, 0.9)), max: Math.round(xs.at(-1)!) });
    console.info(
      `shutdown spread (SHUTDOWN_SPREAD_MS=${SPREAD_MS}, ${SEED_CLIENTS} seed clients), ms after close(): ` +
        `reconnection attempts ${JSON.stringify(p(sorted))}, busiest ${BUCKET_MS} ms bucket ${maxBucket}; ` +
        `lost connection ${JSON.stringify(p(devices.map((d) => d.disconnects[0]! - started).sort((x, y) => x - y)))}; ` +
        `arrivals at the balancer ${JSON.stringify(p([...arrivals].sort((x, y) => x - y)))}; connected on B ${JSON.stringify(p(connected))}`,
    );

    // Spread: the middle 80 % of the returns span most of the spread, and no 50 ms holds more
    // than a tenth of them. (A socket.io disconnect sends them all back as fast as the server
    // can flush the packets: on this shared machine that was some 1.4 s for 500 clients.)
    expect(quantile(sorted, 0.9) - quantile(sorted, 0.1)).toBeGreaterThanOrEqual(SPREAD_MS * 0.6);
    expect(maxBucket).toBeLessThanOrEqual(SEED_CLIENTS / 10);
    // Nobody came straight back: each waited for its own back-off after losing its connection.
    const gaps = devices.map((d) => d.attempts[0]! - d.disconnects[0]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(MIN_BACKOFF_MS - 50);

    // Every client came back once, on B, and nothing looped.
    expect(attempts).toHaveLength(SEED_CLIENTS);
    expect(arrivals).toHaveLength(SEED_CLIENTS);
    expect(b.app.io.of(`/${P}`).sockets.size).toBe(SEED_CLIENTS);
    for (const d of devices) {
      expect(d.connects).toHaveLength(2);
      // The transport closed under it: no socket.io disconnect for the app to answer at once.
      expect(d.reasons).toEqual(['transport close']);
      expect(d.notices).toEqual([{ code: 'SERVER_SHUTDOWN', message: expect.any(String), retryAfterMs: expect.any(Number) }]);
    }
    // v4 clients: disconnected by the server as before, each with its own retryAfterMs in [0, spread).
    const waits = v4.map((c) => {
      const notices = c.events.all('system').map((s) => s.args[0] as { code: string; retryAfterMs?: number });
      expect(notices).toHaveLength(1);
      expect(notices[0]).toEqual({ code: 'SERVER_SHUTDOWN', message: expect.any(String), retryAfterMs: expect.any(Number) });
      const wait = notices[0]!.retryAfterMs!;
      expect(Number.isInteger(wait) && wait >= 0 && wait < SPREAD_MS).toBe(true);
      expect(c.connected).toBe(false);
      return wait;
    });
    expect(new Set(waits).size).toBeGreaterThan(V4_CLIENTS / 2);
  });
});
