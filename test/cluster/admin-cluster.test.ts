/**
 * The admin API with many servers: two server processes on a private Redis, sharing a fresh
 * PostgreSQL schema (dropped afterwards). What an operator does through one server holds on the
 * other: bans, kicks, the schedule, records and persistent rooms. Runs in the `cluster` project.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall } from '../helpers/admin.js';
import { call, handshakeOutcome, join, user, type Who } from '../helpers/client.js';
import { privateCluster, type Cluster, type ClusterNode } from '../helpers/cluster.js';

type Joined = Awaited<ReturnType<typeof join>>;
type Ack = Record<string, unknown> & { ok: boolean };

const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOUR = 3_600_000;
const REFRESH_MS = 100;

const schema = `onair_t_${randomBytes(5).toString('hex')}`;
let pgAdmin: pg.Client;
let cluster: Cluster;
let A: ClusterNode;
let B: ClusterNode;

beforeAll(async () => {
  pgAdmin = new pg.Client({ connectionString: PG_URL });
  await pgAdmin.connect();
  await pgAdmin.query(`CREATE SCHEMA ${schema}`);
  const url = new URL(PG_URL);
  // libpq's `options`, honoured by node-postgres: every connection of the servers uses the schema.
  url.searchParams.set('options', `-c search_path=${schema}`);
  cluster = await privateCluster(
    {
      DATABASE_URL: url.toString(),
      ONAIR_NODE_RECORDS: 'database',
      ADMIN_TOKEN,
      SCHEDULE_REFRESH_MS: String(REFRESH_MS),
      AGGRO_TTL_MS: '600',
    },
    2,
  );
  [A, B] = cluster.nodes as [ClusterNode, ClusterNode];
});

afterAll(async () => {
  await cluster?.close();
  await pgAdmin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await pgAdmin?.end();
});

function uid(name: string): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

async function arg<T>(p: Promise<unknown[]>): Promise<T> {
  return (await p)[0] as T;
}

/** The socket got `system` with `code`, then was disconnected. */
async function endedWith(c: Joined, code: string): Promise<void> {
  expect(await arg(c.events.some('system'))).toEqual({ code, message: expect.any(String) });
  await c.events.some('disconnect');
  expect(c.connected).toBe(false);
}

async function stillServed(c: Joined): Promise<void> {
  expect(c.connected).toBe(true);
  expect(await call(c, 'loadRooms')).toMatchObject({ ok: true });
}

describe('admin API across servers', () => {
  it('the servers keep their records in the fresh PostgreSQL schema', async () => {
    const programmes = await adminCall(A, 'GET', '/admin/programs');
    expect(programmes.status).toBe(200);
    const tables = await pgAdmin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['schema_migrations', 'aggros', 'programs', 'persistent_rooms', 'bans']));
  });

  it('a ban made through server A ends the user’s socket on server B at once, and B refuses the next handshake', async () => {
    const p = uid('cban');
    const who = user('banned');
    const onB = await join(B, p, who);
    const bystander = await join(B, p, user('bystander'));

    const res = await adminCall(A, 'PUT', `/admin/bans/${who.userUID}`, { reason: 'abuse' });
    expect(res.status).toBe(204);
    await endedWith(onB, 'BANNED');
    expect(await handshakeOutcome(B, p, who)).toBe('BANNED');
    expect(await handshakeOutcome(A, uid('cban-other'), who)).toBe('BANNED');
    await stillServed(bystander);
    const bans = await adminCall(B, 'GET', '/admin/bans');
    expect(bans.body.bans.filter((b: { userUID: string }) => b.userUID === who.userUID)).toEqual([
      { userUID: who.userUID, reason: 'abuse', createdAt: expect.any(Number) },
    ]);

    // Lifted through B: A and B let the user in again.
    expect((await adminCall(B, 'DELETE', `/admin/bans/${who.userUID}`)).status).toBe(204);
    expect(await handshakeOutcome(A, p, who)).toBe('connected');
    await stillServed(await join(B, p, who));
  });

  it('a kick through server A reaches the user’s socket on server B', async () => {
    const p = uid('ckick');
    const who = user('kicked');
    const witness = await join(A, p, user('witness'));
    const onB = await join(B, p, who);
    const roomId = ((await call(witness, 'createRoom', { title: 'Mixed', max: 4 })) as Ack).roomId as string;
    expect(await call(onB, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    const left = witness.events.next('leaveRoom');

    const res = await adminCall(A, 'POST', `/admin/programs/${p}/kick`, { userUID: who.userUID });
    expect(res.status).toBe(204);
    await endedWith(onB, 'KICKED');
    expect(await arg(left)).toEqual({ userUID: who.userUID, displayName: 'kicked' });
    await stillServed(witness);
    // The kick sticks for KICK_COOLDOWN_MS (default 60 s) on every server, in that programme only.
    expect(await handshakeOutcome(B, p, who)).toBe('KICKED');
    expect(await handshakeOutcome(A, p, who)).toBe('KICKED');
    expect(await handshakeOutcome(A, uid('ckick-other'), who)).toBe('connected');
  });

  it('a programme put through server A with past times makes server B refuse handshakes within the refresh interval', async () => {
    const p = uid('csched');
    const viewer = await join(B, p, user('viewer'));
    const ended = viewer.events.next('system', () => true, 5000);
    const put = await adminCall(A, 'PUT', `/admin/programs/${p}`, { title: 'Gone', broadcaster: 'TV1', startAt: Date.now() - 2 * HOUR, endAt: Date.now() - HOUR });
    expect(put).toMatchObject({ status: 200, body: { scheduleUID: p, onAir: false } });
    const putAt = Date.now();

    // B reloads the schedule every REFRESH_MS: try handshakes until it refuses, with a deadline.
    const deadline = putAt + 20 * REFRESH_MS;
    let last = '';
    for (;;) {
      last = await handshakeOutcome(B, p, user('late'));
      if (last !== 'connected' || Date.now() > deadline) break;
    }
    expect(last).toBe('PROGRAM_NOT_ON_AIR');
    // B also ended its own socket of the programme.
    expect(await arg(ended)).toEqual({ code: 'PROGRAM_ENDED', message: expect.any(String) });
    await viewer.events.some('disconnect');
    // And the schedule read through B is the one written through A.
    const listed = await adminCall(B, 'GET', '/admin/programs');
    expect(listed.body.programs.filter((x: { scheduleUID: string }) => x.scheduleUID === p)).toEqual([put.body]);
    expect((await adminCall(B, 'DELETE', `/admin/programs/${p}`)).status).toBe(204);
  });

  it('an aggro ended on server B is read through server A’s recorded aggros exactly once', async () => {
    const p = uid('crec');
    const author = await join(B, p, user('author'));
    const voter = await join(A, p, user('voter'));
    const roomId = ((await call(author, 'createRoom', { title: 'Votes', max: 4 })) as Ack).roomId as string;
    expect(await call(voter, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    const posted = (await call(author, 'chat', { roomId, type: 'A', msg: 'from B' })) as Ack & { aggroUID: string; ts: number };
    expect(posted).toMatchObject({ ok: true });
    expect(await call(voter, 'aggroUp', posted.aggroUID)).toMatchObject({ ok: true, point: 1 });
    // The record is written before the end is broadcast: once stopAggro is here, A can read it.
    expect(await arg(author.events.some('stopAggro', (id: string) => id === posted.aggroUID, 5000))).toBe(posted.aggroUID);

    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await adminCall(A, 'GET', `/admin/programs/${p}/aggros?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      items.push(...res.body.items);
      cursor = res.body.next;
    } while (cursor !== null && items.length < 10);
    expect(items).toEqual([
      {
        aggroUID: posted.aggroUID,
        roomId,
        userUID: author.who.userUID,
        displayName: 'author',
        msg: 'from B',
        titleBroad: null,
        point: 1,
        up: 1,
        down: 0,
        startedAt: posted.ts,
        endedAt: expect.any(Number),
        endReason: 'expired',
      },
    ]);
    const rows = await pgAdmin.query(`SELECT count(*)::int AS n FROM ${schema}.aggros WHERE aggro_uid = $1`, [posted.aggroUID]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('the first viewer on server B finds the persistent rooms made through A once each, with the members they have on A', async () => {
    const p = uid('crestore');
    const made: string[] = [];
    for (const title of ['One', 'Two', 'Three']) {
      const res = await adminCall(A, 'POST', `/admin/programs/${p}/rooms`, { title, max: 6 });
      expect(res.status).toBe(201);
      made.push(res.body.roomId as string);
    }
    const seated = await join(A, p, user('seated'));
    expect(await call(seated, 'joinRoom', { roomId: made[1] })).toMatchObject({ ok: true });

    // B has never served the programme: its first socket waits for B to restore the rooms from
    // the database, and on Redis they are all there already.
    const first = await join(B, p, user('firstOnB'));
    expect(first.rooms.map((r) => [r.roomId, r.count]).sort()).toEqual([
      [made[0], 0],
      [made[1], 1],
      [made[2], 0],
    ].sort());
    expect(await call(first, 'joinRoom', { roomId: made[1] })).toMatchObject({ ok: true });
    const live = await adminCall(A, 'GET', `/admin/programs/${p}/live`);
    expect((live.body.rooms as { roomId: string; count: number }[]).map((r) => [r.roomId, r.count]).sort()).toEqual([
      [made[0], 0],
      [made[1], 2],
      [made[2], 0],
    ].sort());
  });

  it('a persistent room created through server A appears to a lobby client on server B; deleted through B, it goes everywhere', async () => {
    const p = uid('croom');
    const lobbyB = await join(B, p, user('lobbyB'));
    const lobbyA = await join(A, p, user('lobbyA'));
    const added = lobbyB.events.next('addRoom');
    const res = await adminCall(A, 'POST', `/admin/programs/${p}/rooms`, { title: 'Everywhere', max: 6 });
    expect(res.status).toBe(201);
    const roomId = res.body.roomId as string;
    expect(await arg(added)).toEqual({ roomId, title: 'Everywhere', max: 6, count: 0 });

    // The live view through B counts sessions on both servers and lists the room.
    expect(await call(lobbyB, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    const live = await adminCall(B, 'GET', `/admin/programs/${p}/live`);
    expect(live.body).toEqual({ connections: 2, rooms: [{ roomId, title: 'Everywhere', max: 6, count: 1, persistent: true }], aggros: [] });

    const gone = lobbyA.events.next('deleteRoom');
    const back = lobbyB.events.next('loadRooms');
    expect((await adminCall(B, 'DELETE', `/admin/programs/${p}/rooms/${roomId}`)).status).toBe(204);
    expect(await arg(gone)).toEqual({ roomId });
    expect(await arg(back)).toEqual([]);
    const stored = await pgAdmin.query(`SELECT count(*)::int AS n FROM ${schema}.persistent_rooms WHERE room_id = $1`, [roomId]);
    expect(stored.rows[0].n).toBe(0);
  });
});
