/**
 * Spec section 6, the schedule at work on a real server over real TLS: `SCHEDULE_FILE` read at
 * start (and a bad one stopping it), who may connect in open and strict mode, a programme going
 * off air (its sockets told and disconnected, its live aggros recorded, its state released), a
 * programme coming on air, and `titleBroad`. Programme times are computed from `Date.now()`;
 * waits are for events, or polls with a deadline.
 *
 * The schedule lives in the database (SQLite in the test DATA_DIR, shared by the servers of this
 * file), so every test uses programmes of its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import type { AggroRecord } from '../../src/domain/model.js';
import type { AckResult } from '../../src/protocol/index.js';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, client, join, refusal, user, WAIT_MS } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const ENV = { SCHEDULE_REFRESH_MS: '100' };

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(joinPath(tmpdir(), 'onair-schedule-'));
  // The first server of a DATA_DIR makes its certificate and database; do it before the tests
  // whose programmes are on air for a short time only.
  const warm = await startServer(ENV);
  await warm.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A scheduleUID no other test (nor an earlier run on the same database) uses. */
function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

let files = 0;
/** Write a schedule file (any JSON value, or raw text) and return its path. */
function scheduleFile(content: unknown): string {
  files += 1;
  const path = joinPath(dir, `schedule-${files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

interface FileProgramme {
  scheduleUID: string;
  title: string;
  broadcaster: string;
  startAt: string | number;
  endAt: string | number;
}

function ok<T extends object>(res: AckResult<T>): { ok: true } & T {
  if (!res.ok) throw new Error(`expected ok, got ${res.code} (${res.message})`);
  return res;
}

/** The handshake is refused with PROGRAM_NOT_ON_AIR, as message and as `data.code`. */
async function expectNotOnAir(server: TestServer, program: string): Promise<void> {
  const err = await refusal(client(server, program, { auth: user() }));
  expect(err.message).toBe('PROGRAM_NOT_ON_AIR');
  expect(err.data).toEqual({ code: 'PROGRAM_NOT_ON_AIR', message: expect.any(String) });
}

/** The handshake is accepted (the socket gets its `loadRooms`). */
async function expectAccepted(server: TestServer, program: string): Promise<void> {
  const c = await join(server, program);
  expect(c.connected).toBe(true);
  c.disconnect();
}

/** Start a server with this schedule file and expect the start to fail naming SCHEDULE_FILE. */
async function expectBadFile(content: unknown, detail: RegExp): Promise<void> {
  const path = scheduleFile(content);
  const err: unknown = await startServer({ ...ENV, SCHEDULE_FILE: path }).then(
    async (s) => {
      await s.close();
      throw new Error('the server started with a bad schedule file');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const problems = (err as ConfigError).problems;
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^SCHEDULE_FILE: /);
  expect(problems[0]).toMatch(detail);
  expect((err as Error).message).toContain('SCHEDULE_FILE');
}

/** Wait for an emitter's `event` whose first argument is `value`. */
function eventWith(emitter: NodeJS.EventEmitter, event: string, value: unknown, timeoutMs = WAIT_MS * 2): Promise<void> {
  return new Promise((resolve, reject) => {
    const on = (v: unknown) => {
      if (v !== value) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out waiting for ${event} ${String(value)}`));
    }, timeoutMs);
    emitter.on(event, on);
  });
}

/** Index in the socket's event log of the first `event` matching. */
function indexOf(c: Awaited<ReturnType<typeof join>>, event: string, match: (...args: any[]) => boolean = () => true): number {
  return c.events.log.findIndex((s) => s.event === event && match(...s.args));
}

describe('SCHEDULE_FILE and who may connect', () => {
  it('accepts the programme on air; refuses a future and a past one (ISO and epoch ms alike)', async () => {
    const now = Date.now();
    const onAir = uid('onair');
    const future = uid('future');
    const past = uid('past');
    const onAirEpoch = uid('onair-ms');
    const path = scheduleFile([
      { scheduleUID: onAir, title: 'News', broadcaster: 'KBS', startAt: new Date(now - HOUR).toISOString(), endAt: new Date(now + HOUR).toISOString() },
      { scheduleUID: future, title: 'Late', broadcaster: 'KBS', startAt: now + HOUR, endAt: now + 2 * HOUR },
      { scheduleUID: past, title: 'Morning', broadcaster: 'MBC', startAt: new Date(now - 2 * HOUR).toISOString(), endAt: now - HOUR },
      { scheduleUID: onAirEpoch, title: 'Sport', broadcaster: 'SBS', startAt: now - HOUR, endAt: now + HOUR },
    ] satisfies FileProgramme[]);
    const server = await startServer({ ...ENV, SCHEDULE_FILE: path });
    await expectAccepted(server, onAir);
    await expectAccepted(server, onAirEpoch);
    await expectNotOnAir(server, future);
    await expectNotOnAir(server, past);
    // The file's programmes are the server's schedule, times as epoch ms.
    const listed = server.app.programmes.schedule.list().filter((p) => [onAir, future, past, onAirEpoch].includes(p.scheduleUID));
    expect(listed.map((p) => p.scheduleUID).sort()).toEqual([onAir, future, past, onAirEpoch].sort());
    expect(server.app.programmes.schedule.get(onAir)).toEqual({
      scheduleUID: onAir,
      title: 'News',
      broadcaster: 'KBS',
      startAt: Date.parse(new Date(now - HOUR).toISOString()),
      endAt: Date.parse(new Date(now + HOUR).toISOString()),
    });
  });

  it('an ISO time with an offset is read as that instant', async () => {
    const now = Date.now();
    const p = uid('offset');
    // now - 1 h written in +09:00.
    const start = new Date(now - HOUR);
    const kst = new Date(start.getTime() + 9 * HOUR).toISOString().replace('Z', '+09:00');
    const server = await startServer({
      ...ENV,
      SCHEDULE_FILE: scheduleFile([{ scheduleUID: p, title: 'News', broadcaster: 'KBS', startAt: kst, endAt: now + HOUR }]),
    });
    expect(server.app.programmes.schedule.get(p)?.startAt).toBe(Date.parse(start.toISOString()));
    await expectAccepted(server, p);
  });

  it('open mode (the default): a scheduleUID the schedule does not know is accepted', async () => {
    const now = Date.now();
    const known = uid('known');
    const server = await startServer({
      ...ENV,
      SCHEDULE_FILE: scheduleFile([{ scheduleUID: known, title: 'News', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR }]),
    });
    expect(server.config.scheduleMode).toBe('open');
    await expectAccepted(server, uid('unknown'));
    await expectAccepted(server, known);
  });

  it('SCHEDULE_MODE=strict: an unknown scheduleUID is refused; the programme on air is accepted', async () => {
    const now = Date.now();
    const onAir = uid('strict-onair');
    const future = uid('strict-future');
    const server = await startServer({
      ...ENV,
      SCHEDULE_MODE: 'strict',
      SCHEDULE_FILE: scheduleFile([
        { scheduleUID: onAir, title: 'News', broadcaster: 'KBS', startAt: now - HOUR, endAt: now + HOUR },
        { scheduleUID: future, title: 'Late', broadcaster: 'KBS', startAt: now + HOUR, endAt: now + 2 * HOUR },
      ]),
    });
    await expectNotOnAir(server, uid('unknown'));
    await expectNotOnAir(server, future);
    await expectAccepted(server, onAir);
  });

  it('an empty file is an empty schedule: open mode accepts anything', async () => {
    const server = await startServer({ ...ENV, SCHEDULE_FILE: scheduleFile([]) });
    await expectAccepted(server, uid('any'));
  });

  describe('a bad file stops the start with a ConfigError naming SCHEDULE_FILE', () => {
    const now = Date.now();
    const good = (over: Partial<FileProgramme> = {}): FileProgramme => ({
      scheduleUID: uid('p'),
      title: 'News',
      broadcaster: 'KBS',
      startAt: now - HOUR,
      endAt: now + HOUR,
      ...over,
    });

    it('not JSON', async () => {
      await expectBadFile('[{"scheduleUID": "x",', /cannot read .* as JSON/);
    });

    it('a missing file', async () => {
      const err: unknown = await startServer({ ...ENV, SCHEDULE_FILE: joinPath(dir, 'no-such-file.json') }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems[0]).toMatch(/^SCHEDULE_FILE: cannot read .*no-such-file\.json/);
    });

    it('not an array', async () => {
      await expectBadFile(good(), /at \(top\)/);
    });

    it('a duplicate scheduleUID', async () => {
      const a = good();
      await expectBadFile([a, good(), { ...a, title: 'Again' }], new RegExp(`scheduleUID ${a.scheduleUID} appears twice`));
    });

    it('endAt before startAt, or equal to it', async () => {
      await expectBadFile([good(), good({ startAt: now, endAt: now - 1 })], /at 1\.endAt: endAt must be after startAt/);
      await expectBadFile([good({ startAt: now, endAt: now })], /at 0\.endAt/);
    });

    it('a scheduleUID that is not a valid namespace', async () => {
      await expectBadFile([good({ scheduleUID: 'has space' })], /at 0\.scheduleUID/);
    });

    it('a missing field, an unknown field, a time that is neither ISO with a zone nor epoch ms', async () => {
      const { broadcaster: _b, ...noBroadcaster } = good();
      await expectBadFile([noBroadcaster], /at 0\.broadcaster/);
      await expectBadFile([{ ...good(), channel: 7 }], /at 0/);
      await expectBadFile([good({ startAt: '2026-11-25 10:00' })], /at 0\.startAt/);
      await expectBadFile([good({ startAt: -5 })], /at 0\.startAt/);
    });

    it('nothing was written to the database by a refused file', async () => {
      const p = uid('never');
      await expectBadFile([good({ scheduleUID: p }), good({ scheduleUID: p })], /appears twice/);
      const server = await startServer({ ...ENV, SCHEDULE_MODE: 'strict' });
      expect(server.app.programmes.schedule.get(p)).toBeUndefined();
      await expectNotOnAir(server, p);
    });
  });
});

describe('a programme going off air', () => {
  it("tells its sockets PROGRAM_ENDED, records the live aggro as program_ended, disconnects them, releases the programme, refuses new handshakes", async () => {
    const p = uid('ending');
    const other = uid('bystander');
    const startedAt = Date.now();
    const endAt = startedAt + 1500;
    const server = await startServer(
      {
        ...ENV,
        ADMIN_TOKEN,
        // The aggro must still be live when the programme ends, its last vote not yet sent.
        AGGRO_TTL_MS: String(HOUR),
        BATCH_INTERVAL_MS: '5000',
        SCHEDULE_FILE: scheduleFile([{ scheduleUID: p, title: 'Finale', broadcaster: 'KBS', startAt: startedAt - HOUR, endAt }]),
      },
      { records: undefined },
    );
    const [lobby, author, voter] = await Promise.all([join(server, p), join(server, p), join(server, p)]);
    const bystander = await join(server, other);
    const { roomId } = ok(await call<{ roomId: string }>(author, 'createRoom', { title: 'room', max: 10 }));
    ok(await call(voter, 'joinRoom', { roomId }));
    const { aggroUID } = ok(await call<{ aggroUID: string }>(author, 'chat', { roomId, msg: 'last goal!', type: 'A' }));
    ok(await call(voter, 'aggroUp', aggroUID));
    const released = eventWith(server.events, 'program-released', p);
    // Everything above happened while the programme was on air, or the test proves nothing.
    expect(Date.now(), 'setting up took longer than the programme').toBeLessThan(endAt);

    const sockets = [lobby, author, voter];
    const ended = await Promise.all(sockets.map((c) => c.events.next('system', (s: { code: string }) => s.code === 'PROGRAM_ENDED', 5000)));
    for (const [notice] of ended) expect(notice).toEqual({ code: 'PROGRAM_ENDED', message: expect.any(String) });
    // Not before its end: the server goes by its own clock, which is this one.
    expect(Date.now()).toBeGreaterThanOrEqual(endAt);
    await Promise.all(sockets.map((c) => c.events.some('disconnect')));
    for (const c of sockets) {
      expect(c.connected).toBe(false);
      expect(indexOf(c, 'system', (s: { code: string }) => s.code === 'PROGRAM_ENDED')).toBeLessThan(indexOf(c, 'disconnect'));
      expect(c.events.all('disconnect')[0]!.args).toEqual(['io server disconnect']);
    }
    // The room hears its aggro end, with its final total, before its sockets go.
    for (const c of [author, voter]) {
      expect(indexOf(c, 'aggroPoint', (u: { point: number }) => u.point === 1)).toBeGreaterThanOrEqual(0);
      expect(indexOf(c, 'stopAggro', (id: string) => id === aggroUID)).toBeGreaterThan(indexOf(c, 'aggroPoint', (u: { point: number }) => u.point === 1));
      expect(indexOf(c, 'stopAggro', (id: string) => id === aggroUID)).toBeLessThan(indexOf(c, 'disconnect'));
    }
    await released;

    // The live aggro was recorded as ended by the programme, before its sockets were let go:
    // it is there as soon as they are gone.
    const res = await adminCall(server, 'GET', `/admin/programs/${p}/aggros`);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({ aggroUID, roomId, userUID: author.who.userUID, msg: 'last goal!', point: 1, up: 1, down: 0, endReason: 'program_ended', titleBroad: 'Finale_KBS' }),
    ]);
    const [rec] = res.body.items as AggroRecord[];
    expect(rec!.endedAt).toBeGreaterThanOrEqual(endAt);

    // Its state is gone: no live aggro, no room, no session.
    expect(await server.app.store.liveAggros(p)).toEqual([]);
    expect(await server.app.store.listRooms(p)).toEqual([]);
    expect(await server.app.store.sessionCount(p)).toBe(0);
    // Later handshakes are refused.
    await expectNotOnAir(server, p);
    // Another programme on the same server was left alone.
    expect(bystander.connected).toBe(true);
    expect(indexOf(bystander, 'system')).toBe(-1);
    expect(ok(await call(bystander, 'createRoom', { title: 'still here', max: 5 }))).toMatchObject({ roomId: expect.any(String) });
  });
});

describe('a handshake under way when its programme goes off air', () => {
  it('is refused with PROGRAM_NOT_ON_AIR once it completes, not left connected to the ended programme', async () => {
    // AUTH_MODE=jwt with a key set the test answers when it chooses: the handshake has passed
    // the schedule check and waits there while the programme is moved off air.
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    let fetched!: () => void;
    const keySetAsked = new Promise<void>((resolve) => (fetched = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const keys = createServer((_req, res) => {
      fetched();
      void answered.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    });
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
    try {
      const server = await startServer({ ...ENV, ADMIN_TOKEN, AUTH_MODE: 'jwt', JWT_JWKS_URL: `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks.json` });
      const p = uid('midway');
      const now = Date.now();
      expect((await adminCall(server, 'PUT', `/admin/programs/${p}`, { title: 'Late', broadcaster: 'TV', startAt: now - HOUR, endAt: now + HOUR })).status).toBe(200);
      const token = await new SignJWT({ sub: uid('midway-user'), name: 'Midway' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      const c = client(server, p, { auth: { token } });
      const outcome = new Promise<string>((resolve) => {
        c.once('connect_error', (err: Error & { data?: { code: string } }) => resolve(err.data?.code ?? err.message));
        c.events.next('loadRooms').then(() => resolve('connected'), () => {});
      });
      c.connect();
      await keySetAsked;

      const moved = await adminCall(server, 'PUT', `/admin/programs/${p}`, { title: 'Late', broadcaster: 'TV', startAt: now - HOUR, endAt: Date.now() - 1 });
      expect(moved.body).toMatchObject({ onAir: false });
      answer();
      expect(await outcome).toBe('PROGRAM_NOT_ON_AIR');
      expect(await server.app.store.sessionCount(p)).toBe(0);
    } finally {
      answer();
      keys.closeAllConnections();
      await new Promise<void>((resolve) => keys.close(() => resolve()));
    }
  });
});

describe('a programme coming on air', () => {
  it('is refused before startAt and accepted once on air', async () => {
    const p = uid('later');
    const startAt = Date.now() + 1500;
    const server = await startServer({
      ...ENV,
      SCHEDULE_FILE: scheduleFile([{ scheduleUID: p, title: 'Premiere', broadcaster: 'SBS', startAt, endAt: startAt + HOUR }]),
    });
    await expectNotOnAir(server, p);
    expect(Date.now(), 'the first handshake was meant to come before startAt').toBeLessThan(startAt);
    // Poll handshakes until one is accepted; every refusal before that must be PROGRAM_NOT_ON_AIR.
    const deadline = startAt + 5000;
    let accepted: ReturnType<typeof client> | null = null;
    let refusals = 1;
    while (!accepted) {
      if (Date.now() > deadline) throw new Error(`still refused ${deadline - startAt} ms after startAt`);
      const c = client(server, p, { auth: user() });
      const outcome = await new Promise<Error | null>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no handshake outcome')), WAIT_MS);
        c.once('connect', () => (clearTimeout(t), resolve(null)));
        c.once('connect_error', (e) => (clearTimeout(t), resolve(e)));
        c.connect();
      });
      if (outcome === null) {
        accepted = c;
        break;
      }
      expect(outcome.message).toBe('PROGRAM_NOT_ON_AIR');
      refusals += 1;
      c.disconnect();
      // Pace the poll (this is not what the test waits for: it waits for an accepted handshake).
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const acceptedAt = Date.now();
    expect(acceptedAt).toBeGreaterThanOrEqual(startAt);
    expect(refusals).toBeGreaterThanOrEqual(1);
    // It is served like any programme: loadRooms, calls.
    await accepted.events.some('loadRooms');
    expect(ok(await call(accepted, 'createRoom', { title: 'first', max: 5 }))).toMatchObject({ roomId: expect.any(String) });
  });
});

describe('titleBroad', () => {
  it("a scheduled programme's aggros carry title_broadcaster, whatever the client sent", async () => {
    const now = Date.now();
    const p = uid('titled');
    const server = await startServer({
      ...ENV,
      AGGRO_TTL_MS: '200',
      SCHEDULE_FILE: scheduleFile([{ scheduleUID: p, title: 'Music Bank', broadcaster: 'KBS2', startAt: now - HOUR, endAt: now + HOUR }]),
    });
    const a = await join(server, p);
    const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 5 }));
    const { aggroUID } = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'encore', type: 'A', titleBroad: 'Forged_Show' }));
    const rec = await server.records.waitFor((r) => r.aggroUID === aggroUID);
    expect(rec.titleBroad).toBe('Music Bank_KBS2');
    expect(rec.scheduleUID).toBe(p);
    // Sent nothing: the same.
    const b = await join(server, p);
    const r2 = ok(await call<{ roomId: string }>(b, 'createRoom', { title: 'room 2', max: 5 })).roomId;
    const second = ok(await call<{ aggroUID: string }>(b, 'chat', { roomId: r2, msg: 'again', type: 'AP' })).aggroUID;
    expect((await server.records.waitFor((r) => r.aggroUID === second)).titleBroad).toBe('Music Bank_KBS2');
  });

  it("an unscheduled programme keeps the client's titleBroad (and has none when it sent none)", async () => {
    const p = uid('unscheduled');
    const server = await startServer({ ...ENV, AGGRO_TTL_MS: '200' });
    const a = await join(server, p);
    const { roomId } = ok(await call<{ roomId: string }>(a, 'createRoom', { title: 'room', max: 5 }));
    const { aggroUID } = ok(await call<{ aggroUID: string }>(a, 'chat', { roomId, msg: 'encore', type: 'A', titleBroad: 'Inkigayo_SBS' }));
    expect((await server.records.waitFor((r) => r.aggroUID === aggroUID)).titleBroad).toBe('Inkigayo_SBS');
    const b = await join(server, p);
    const r2 = ok(await call<{ roomId: string }>(b, 'createRoom', { title: 'room 2', max: 5 })).roomId;
    const second = ok(await call<{ aggroUID: string }>(b, 'chat', { roomId: r2, msg: 'again', type: 'A' })).aggroUID;
    expect((await server.records.waitFor((r) => r.aggroUID === second)).titleBroad).toBeUndefined();
  });
});
