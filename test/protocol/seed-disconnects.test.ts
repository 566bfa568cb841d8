/**
 * Issue 19: the seed app's own client and the disconnects the server makes for good. Each device
 * runs socket.io-client 3.1 (the seed's version, from npm) with the seed app's socket module
 * reproduced: path `/jg`, websocket only, identity in the query, one socket per device, and its
 * two handlers — `disconnect` with `io server disconnect` calls `connect()` at once, `insufficient`
 * closes the socket and stops. Left to those handlers, a final disconnect without `insufficient`
 * loops (two devices replace each other for ever; a kicked device is back at once).
 *
 * Every test counts the connections made and shows that nothing comes back; v4 clients (with
 * `auth`) in the same situations get `system` and no `insufficient`. Runs on one server and across
 * three (the protocol suite's two projects); clients are spread over the servers.
 */
import { randomBytes } from 'node:crypto';
import { io as seedIo, type Socket as SeedSocket } from 'socket.io-client-v3';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { client, createOk, handshakeOutcome, join, user, WAIT_MS, type Who } from '../helpers/client.js';
import { scrape, value } from '../helpers/metrics.js';
import type { TestServer } from '../helpers/server.js';
import { startTopology, type Topology } from '../helpers/topology.js';

const KICK_MS = 2000;
const ENV = { SOCKET_PATH: '/jg', ADMIN_TOKEN, KICK_COOLDOWN_MS: String(KICK_MS), SCHEDULE_REFRESH_MS: '100' };
const HOUR = 3_600_000;

/** A programme name of this test alone (the cluster and its database outlive a test). */
function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

interface Seen {
  event: string;
  args: unknown[];
}

const devices = new Set<SeedDevice>();
afterEach(() => {
  for (const d of devices) d.socket.disconnect();
  devices.clear();
});

/** One phone running the seed app: one socket, the app's handlers, everything it saw. */
class SeedDevice {
  readonly socket: SeedSocket;
  readonly log: Seen[] = [];
  /** Accepted handshakes, the first and every reconnection. */
  connects = 0;
  private waiters: { event: string; resolve: (args: unknown[]) => void }[] = [];

  constructor(server: TestServer, program: string, readonly who: Who) {
    this.socket = seedIo(`${server.url}/${program}`, {
      path: server.config.socketPath,
      transports: ['websocket'],
      timeout: 10_000,
      // One Manager per device: socket.io-client would otherwise share one connection between
      // the "devices" of this process.
      forceNew: true,
      autoConnect: false,
      query: { userUID: who.userUID, displayName: who.displayName, photoURL: 'undefined', phoneNumber: '01000000000' },
      ...(server.ca ? { ca: server.ca } : {}),
    });
    devices.add(this);
    const s = this.socket;
    s.onAny((event: string, ...args: unknown[]) => this.push(event, args));
    s.on('connect', () => {
      this.connects += 1;
      this.push('connect', []);
    });
    s.on('connect_error', (err: Error & { data?: unknown }) => this.push('connect_error', [err.message, err.data]));
    // The seed app's handlers, as its socket module has them.
    s.on('disconnect', (reason: string) => {
      this.push('disconnect', [reason]);
      if (reason === 'io server disconnect') s.connect();
    });
    s.on('insufficient', () => {
      s.disconnect();
    });
  }

  private push(event: string, args: unknown[]): void {
    this.log.push({ event, args });
    this.waiters = this.waiters.filter((w) => (w.event === event ? (w.resolve(args), false) : true));
  }

  /** The first `event`, already seen or still to come. */
  some(event: string, timeoutMs = WAIT_MS): Promise<unknown[]> {
    const found = this.log.find((s) => s.event === event);
    if (found) return Promise.resolve(found.args);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.who.displayName}: timed out waiting for "${event}"`)), timeoutMs);
      this.waiters.push({ event, resolve: (args) => (clearTimeout(t), resolve(args)) });
    });
  }

  /** The app is opened: connect, and wait for the lobby's `loadRooms`. */
  async open(): Promise<this> {
    const loaded = this.some('loadRooms');
    this.socket.connect();
    await loaded;
    return this;
  }

  /** The app is opened again: the handshake's outcome, `connected` or the refusal's code. */
  async reopen(): Promise<string> {
    const from = this.log.length;
    this.socket.connect();
    const outcome = await new Promise<Seen>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.who.displayName}: no outcome of the handshake`)), WAIT_MS);
      const check = () => {
        const s = this.log.slice(from).find((x) => x.event === 'connect' || x.event === 'connect_error');
        if (s) return (clearTimeout(t), resolve(s));
        this.waiters.push({ event: 'connect', resolve: check }, { event: 'connect_error', resolve: check });
      };
      check();
    });
    if (outcome.event === 'connect') return 'connected';
    const [message, data] = outcome.args as [string, { code?: string; message?: string } | undefined];
    expect(data).toEqual({ code: message, message: expect.any(String) });
    return message;
  }

  events(event: string): unknown[][] {
    return this.log.filter((s) => s.event === event).map((s) => s.args);
  }

  /** The order of what ended the session: notices first, then the client's own disconnect. */
  names(...events: string[]): string[] {
    return this.log.filter((s) => events.includes(s.event)).map((s) => s.event);
  }

  /** The seed client gave up: it saw `insufficient` and closed its socket, and it is not
   * reconnecting (the Manager is closed, so no backoff timer can bring it back). */
  expectGaveUp(code: string): void {
    expect(this.events('system')).toEqual([[{ code, message: expect.any(String) }]]);
    expect(this.events('insufficient')).toEqual([[{ code, message: expect.any(String) }]]);
    expect(this.names('system', 'insufficient', 'disconnect')).toEqual(['system', 'insufficient', 'disconnect']);
    expect(this.events('disconnect')).toEqual([['io client disconnect']]);
    expect(this.socket.connected).toBe(false);
    expect(this.socket.io._readyState).toBe('closed');
    expect(this.connects).toBe(1);
  }
}

/** Connections accepted for the programme, on every server of the topology. */
async function serverConnects(t: Topology, program: string): Promise<number> {
  let n = 0;
  for (let i = 0; i < t.size; i++) n += value(await scrape(t.server(i)), 'onair_connects_total', { program });
  return n;
}

/** A v4 client was told `system` `code` and disconnected, with no `insufficient`. */
async function expectPlainEnd(c: Awaited<ReturnType<typeof join>>, code: string): Promise<void> {
  await c.events.some('disconnect');
  expect(c.events.all('system').map((s) => s.args[0])).toEqual([{ code, message: expect.any(String) }]);
  expect(c.events.all('disconnect')[0]!.args).toEqual(['io server disconnect']);
  expect(c.events.all('insufficient')).toEqual([]);
}

describe('the seed client and final disconnects', () => {
  it('two devices of one user: the newer keeps the session, the older gets insufficient and stops (two connections in all)', async () => {
    const t = await startTopology(ENV);
    const p = uid('devices');
    // A v4 watcher on every server keeps the programme (and its connect counter) alive there.
    const watchers = await Promise.all(Array.from({ length: t.size }, (_, i) => join(t.server(i), p, user('watcher'))));
    const who = user('viewer');
    const older = await new SeedDevice(t.server(0), p, who).open();
    const newer = await new SeedDevice(t.server(1), p, who).open();

    await older.some('disconnect');
    older.expectGaveUp('DUPLICATE_SESSION');
    // The newer device was never touched, and still answers: a round trip after the older one
    // gave up (the seed's client sends loadRooms without an ack and gets the event).
    const before = newer.events('loadRooms').length;
    newer.socket.emit('loadRooms');
    await new Promise<void>((resolve, reject) => {
      const t0 = setTimeout(() => reject(new Error('no loadRooms reply')), WAIT_MS);
      newer.socket.once('loadRooms', () => (clearTimeout(t0), resolve()));
    });
    expect(newer.events('loadRooms').length).toBe(before + 1);
    expect(newer.connects).toBe(1);
    expect(newer.events('disconnect')).toEqual([]);
    expect(newer.events('system')).toEqual([]);
    expect(newer.socket.connected).toBe(true);
    // The servers saw the watchers and one connection per device, nothing more.
    expect(await serverConnects(t, p)).toBe(t.size + 2);

    // v4 clients of one user (on other servers): system, no insufficient.
    const v4who = user('v4viewer');
    const v4older = await join(t.server(1), p, v4who);
    const v4newer = await join(t.server(2), p, v4who);
    await expectPlainEnd(v4older, 'DUPLICATE_SESSION');
    expect(v4newer.connected).toBe(true);
    // Mixed: a seed device replaced by the user's v4 client gives up too; a v4 client replaced by
    // a seed device is told as v4 clients are.
    const mixed = user('mixed');
    const seedFirst = await new SeedDevice(t.server(2), p, mixed).open();
    const v4Second = await join(t.server(0), p, mixed);
    await seedFirst.some('disconnect');
    seedFirst.expectGaveUp('DUPLICATE_SESSION');
    const seedThird = await new SeedDevice(t.server(1), p, mixed).open();
    await expectPlainEnd(v4Second, 'DUPLICATE_SESSION');
    expect(seedThird.socket.connected).toBe(true);
    expect(seedThird.connects).toBe(1);
    for (const w of watchers) expect(w.events.all('system')).toEqual([]);
  });

  it('a kick: insufficient, then the handshake is refused KICKED for KICK_COOLDOWN_MS, then back', async () => {
    const t = await startTopology(ENV);
    const p = uid('kick');
    const who = user('troll');
    const seed = await new SeedDevice(t.server(1), p, who).open();
    const v4who = user('v4troll');
    const v4 = await join(t.server(2), p, v4who);
    // Both in a room: moving a socket between the lobby and rooms keeps what marks a v4 client.
    const roomId = await createOk(v4, { title: 'Trolls', max: 5 });
    const joined = new Promise<unknown[]>((resolve) => seed.socket.once('joinRoomReq', (...args: unknown[]) => resolve(args)));
    seed.socket.emit('joinRoom', { roomId });
    expect(await joined).toEqual([{ result: true }]);

    const kickedAt = Date.now();
    expect((await adminCall(t.server(0), 'POST', `/admin/programs/${p}/kick`, { userUID: who.userUID })).status).toBe(204);
    expect((await adminCall(t.server(0), 'POST', `/admin/programs/${p}/kick`, { userUID: v4who.userUID })).status).toBe(204);
    await seed.some('disconnect');
    seed.expectGaveUp('KICKED');
    await expectPlainEnd(v4, 'KICKED');

    // The user opens the app again, on any server: refused while the kick holds.
    expect(await seed.reopen()).toBe('KICKED');
    const onAnother = new SeedDevice(t.server(2), p, who);
    expect(await onAnother.reopen()).toBe('KICKED');
    expect(await handshakeOutcome(t.server(0), p, v4who)).toBe('KICKED');
    expect(Date.now() - kickedAt, 'the refusals came after the cooldown; raise KICK_MS').toBeLessThan(KICK_MS);
    // Another programme is not affected.
    expect(await new SeedDevice(t.server(0), uid('elsewhere'), who).reopen()).toBe('connected');
    // An offline user's kick is a 404 and holds all the same.
    const away = user('away');
    expect((await adminCall(t.server(1), 'POST', `/admin/programs/${p}/kick`, { userUID: away.userUID })).status).toBe(404);
    expect(await handshakeOutcome(t.server(2), p, away)).toBe('KICKED');

    // Once the cooldown has run out the user is let in; tried at a steady pace, as a user would.
    let outcome = 'KICKED';
    while (outcome === 'KICKED' && Date.now() - kickedAt < KICK_MS + 5 * WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      outcome = await new SeedDevice(t.server(1), p, who).reopen();
    }
    expect(outcome).toBe('connected');
    expect(Date.now() - kickedAt).toBeGreaterThanOrEqual(KICK_MS - 50);
    // Neither session came back by itself in the meantime.
    expect(seed.connects).toBe(1);
    expect(v4.connected).toBe(false);
    // What an operator sees: the kicks where they were made, the refusals where they happened.
    expect(value(await scrape(t.server(0)), 'onair_sessions_ended_total', { code: 'KICKED' })).toBeGreaterThanOrEqual(2);
    let refused = 0;
    for (let i = 0; i < t.size; i++) refused += value(await scrape(t.server(i)), 'onair_refusals_total', { code: 'KICKED' });
    expect(refused).toBeGreaterThanOrEqual(4);
  });

  it('a ban: insufficient, then BANNED', async () => {
    const t = await startTopology(ENV);
    const p = uid('ban');
    const who = user('banned');
    const v4who = user('v4banned');
    const seed = await new SeedDevice(t.server(0), p, who).open();
    const v4 = await join(t.server(1), p, v4who);
    for (const u of [who, v4who]) {
      expect((await adminCall(t.server(2), 'PUT', `/admin/bans/${u.userUID}`, { scheduleUID: p, reason: 'spam' })).status).toBe(204);
    }
    await seed.some('disconnect');
    seed.expectGaveUp('BANNED');
    await expectPlainEnd(v4, 'BANNED');
    expect(await seed.reopen()).toBe('BANNED');
    expect(await handshakeOutcome(t.server(2), p, v4who)).toBe('BANNED');
    expect(seed.connects).toBe(1);
  });

  it('a programme removed by an operator: PROGRAM_ENDED, then insufficient, on every server', async () => {
    const t = await startTopology(ENV);
    const p = uid('removed');
    const now = Date.now();
    expect((await adminCall(t.server(0), 'PUT', `/admin/programs/${p}`, { title: 'Finale', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR })).status).toBe(200);
    const seeds = await Promise.all(Array.from({ length: t.size }, (_, i) => new SeedDevice(t.server(i), p, user(`seed${i}`)).open()));
    const v4 = await join(t.server(t.size - 1), p, user('v4'));
    expect((await adminCall(t.server(0), 'DELETE', `/admin/programs/${p}`)).status).toBe(204);
    for (const s of seeds) {
      await s.some('disconnect');
      s.expectGaveUp('PROGRAM_ENDED');
    }
    await expectPlainEnd(v4, 'PROGRAM_ENDED');
  });

  it("a programme whose end time passes: each server ends its own sockets with insufficient", async () => {
    const t = await startTopology(ENV);
    const p = uid('ending');
    const now = Date.now();
    const seeds = await Promise.all(Array.from({ length: t.size }, (_, i) => new SeedDevice(t.server(i), p, user(`seed${i}`)).open()));
    const v4 = await join(t.server(0), p, user('v4'));
    // Off air now: the server that takes the change ends its sockets at once, the others when
    // they reload the schedule (SCHEDULE_REFRESH_MS).
    expect((await adminCall(t.server(0), 'PUT', `/admin/programs/${p}`, { title: 'Gone', broadcaster: 'KBS', startAt: now - 2 * HOUR, endAt: now - HOUR })).status).toBe(200);
    for (const s of seeds) {
      await s.some('disconnect');
      s.expectGaveUp('PROGRAM_ENDED');
    }
    await expectPlainEnd(v4, 'PROGRAM_ENDED');
    expect(await seeds[0]!.reopen()).toBe('PROGRAM_NOT_ON_AIR');
  });
});
