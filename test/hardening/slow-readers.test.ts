/**
 * Clients that stop reading: what the server queues for one connection is capped
 * (MAX_SOCKET_BUFFER_BYTES); past it the connection is cut and counted, and everyone else carries
 * on. Also: `loadRooms` answers once, and has its own, tighter bucket (LOAD_RATE/LOAD_BURST).
 *
 * The readers stop for real: a websocket client's TLS socket is paused (the server's kernel
 * buffers fill, then its own), and a polling session keeps POSTing but never GETs.
 */
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { call, createOk, join, joinOk, user, type Client, type Recorder } from '../helpers/client.js';
import { scrape, value } from '../helpers/metrics.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

const CAP = 256 * 1024;

let programmes = 0;
const programme = (name: string) => `${name}-${process.pid}-${++programmes}`;

/** Persistent rooms with long titles, so one `loadRooms` is a few tens of KB, as in the report. */
async function seedRooms(server: TestServer, p: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await server.app.service.createPersistentRoom(p, { title: `Room ${String(i).padStart(4, '0')} ${'x'.repeat(30)}`, max: 120 });
    expect(res.ok).toBe(true);
  }
}

/** Stop reading: the client's TLS socket no longer takes bytes from its kernel buffer. */
function stopReading(c: Client): void {
  const ws = (c.io.engine.transport as unknown as { ws: { _socket: TLSSocket } }).ws;
  ws._socket.pause();
}

function connectedOnServer(server: TestServer, p: string, id: string): boolean {
  return server.app.io.of(`/${p}`).sockets.has(id);
}

async function overflows(server: TestServer, transport: string): Promise<number> {
  return value(await scrape(server), 'onair_socket_overflows_total', { transport });
}

describe('a client that stops reading is cut once MAX_SOCKET_BUFFER_BYTES is queued for it', () => {
  it('websocket: paused readers flooding loadRooms are cut and counted; a normal client carries on', async () => {
    // A featured view as large as the programme, so that loadRooms carries all 300 rooms.
    const server = await startServer({ MAX_SOCKET_BUFFER_BYTES: String(CAP), LOBBY_VIEW_SIZE: '300' });
    const p = programme('ws-loadrooms');
    const normal = await join(server, p, user('normal'));
    await seedRooms(server, p, 300);
    const rooms = await call<{ rooms: unknown[] }>(normal, 'loadRooms');
    expect(rooms.ok && rooms.rooms.length).toBe(300);

    const stalled = await Promise.all([1, 2, 3].map((i) => join(server, p, user(`stalled${i}`))));
    const ids = stalled.map((c) => c.id!);
    for (const c of stalled) stopReading(c);

    // Each keeps asking (seed style, no ack) until the server has cut it; bounded, so that a
    // server without the cap fails here instead of eating the machine's memory.
    const flood = async (c: Client, id: string): Promise<number> => {
      let sent = 0;
      while (connectedOnServer(server, p, id) && sent < 1200) {
        for (let i = 0; i < 10; i++) c.emit('loadRooms');
        sent += 10;
        await new Promise((r) => setTimeout(r, 2));
      }
      return sent;
    };
    await Promise.all(stalled.map((c, i) => flood(c, ids[i]!)));
    await waitUntil(() => ids.every((id) => !connectedOnServer(server, p, id)), 5000, 'the stalled sockets to be cut');
    expect(await overflows(server, 'websocket')).toBe(3);

    // The normal client in the same programme noticed nothing.
    expect(normal.connected).toBe(true);
    const again = await call<{ rooms: unknown[] }>(normal, 'loadRooms');
    expect(again.ok && again.rooms.length).toBe(300);
    expect(value(await scrape(server), 'onair_connections', { program: p })).toBe(1);
  });

  it('websocket: room chat toward members who never read cuts them; the sender and a reading member carry on', async () => {
    // The sender may need thousands of messages before the kernel's buffers fill: no event limit here.
    const server = await startServer({ MAX_SOCKET_BUFFER_BYTES: String(CAP), CHAT_MAX_LENGTH: '2000', EVENT_RATE: '1000000', EVENT_BURST: '1000000' });
    const p = programme('ws-chat');
    const sender = await join(server, p, user('sender'));
    const roomId = await createOk(sender, { title: 'Busy', max: 10 });
    const reader = await join(server, p, user('reader'));
    await joinOk(reader, { roomId });
    const stalled = await Promise.all([1, 2].map((i) => join(server, p, user(`deaf${i}`))));
    for (const c of stalled) await joinOk(c, { roomId });
    const ids = stalled.map((c) => c.id!);
    for (const c of stalled) stopReading(c);

    const gone = () => ids.every((id) => !server.app.io.of(`/${p}`).sockets.has(id));
    let sent = 0;
    // About 2 KB a message; the kernel takes a few MB per socket before the server's own buffer grows.
    while (!gone() && sent < 8000) {
      const batch = Array.from({ length: 50 }, (_, i) => call(sender, 'chat', { roomId, msg: `${sent + i} ${'y'.repeat(1990)}`, type: 'N' }));
      for (const r of await Promise.all(batch)) expect(r).toMatchObject({ ok: true });
      sent += 50;
    }
    await waitUntil(gone, 5000, 'the deaf members to be cut');
    expect(await overflows(server, 'websocket')).toBe(2);

    expect(sender.connected && reader.connected).toBe(true);
    const last = `${sent - 1} ${'y'.repeat(1990)}`;
    await (reader as Client & { events: Recorder }).events.some('chat', (m: { msg: string }) => m.msg === last, 5000);
    expect(await call(sender, 'chat', { roomId, msg: 'still here', type: 'N' })).toMatchObject({ ok: true });
  });

  it('polling: a session that keeps sending but never polls is cut once its queue passes the cap', async () => {
    const server = await startServer({ MAX_SOCKET_BUFFER_BYTES: String(CAP) });
    const p = programme('polling');
    const normal = await join(server, p, user('normal'));
    await seedRooms(server, p, 300);

    const base = `${server.config.socketPath}/?EIO=4&transport=polling`;
    const http = (method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(new URL(path, server.url), { method, ca: server.ca, headers: body ? { 'content-type': 'text/plain;charset=UTF-8' } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });

    const open = await http('GET', base);
    const sid = (JSON.parse(open.text.slice(1)) as { sid: string }).sid;
    const session = `${base}&sid=${sid}`;
    const who = user('poller');
    expect((await http('POST', session, `40/${p},${JSON.stringify(who)}`)).status).toBe(200);
    // One poll to see the namespace accepted it (and the first loadRooms); never again after.
    let seen = '';
    while (!seen.includes('"loadRooms"')) seen += (await http('GET', session)).text;
    expect(value(await scrape(server), 'onair_connections', { program: p })).toBe(2);

    // Ten loadRooms per POST, about 35 KB of reply each, all left in the server's queue.
    const ten = Array.from({ length: 10 }, () => `42/${p},["loadRooms"]`).join('\x1e');
    let posts = 0;
    let status = 200;
    while (status === 200 && posts < 40) {
      status = (await http('POST', session, ten)).status;
      posts += 1;
    }
    // Cut: engine.io no longer knows the session.
    expect(status).toBe(400);
    // About 250 KB a POST: cut within a few, long before 40 (10 MB) would be held.
    expect(posts).toBeLessThanOrEqual(4);
    expect(await overflows(server, 'polling')).toBe(1);
    await waitUntil(async () => value(await scrape(server), 'onair_connections', { program: p }) === 1, 3000, 'the poller to be gone');
    expect(normal.connected).toBe(true);
    expect(await call(normal, 'loadRooms')).toMatchObject({ ok: true });
  });
});

describe('loadRooms answers once', () => {
  it('a caller with an ack gets the list in the ack only; a caller without one (the seed) gets the event', async () => {
    const server = await startServer();
    const p = programme('once');
    const a = await join(server, p, user('acker'));
    const roomId = await createOk(a, { title: 'Here', max: 5 });
    const b = await join(server, p, user('seed'));
    expect(b.events.all('loadRooms')).toHaveLength(1); // the one on connect

    const res = await call(b, 'loadRooms');
    expect(res).toEqual({ ok: true, rooms: [{ roomId, title: 'Here', max: 5, count: 1 }] });
    // A reply event would have come before the ack on this socket; ask again to be sure nothing trails.
    await call(b, 'loadUsers');
    expect(b.events.all('loadRooms')).toHaveLength(1);

    const event = b.events.next('loadRooms');
    b.emit('loadRooms');
    expect((await event)[0]).toEqual([{ roomId, title: 'Here', max: 5, count: 1 }]);
  });
});

describe('LOAD_RATE / LOAD_BURST', () => {
  it('loadRooms and loadUsers share a tighter per-socket bucket: ER001 beyond it, counted as scope "load"', async () => {
    const server = await startServer({ LOAD_RATE: '1', LOAD_BURST: '3' });
    const p = programme('load-rate');
    const c = await join(server, p, user('reloader'));
    const before = value(await scrape(server), 'onair_rate_limited_total', { scope: 'load' });
    const results = await Promise.all(Array.from({ length: 6 }, () => call(c, 'loadRooms')));
    expect(results.slice(0, 3)).toEqual(Array.from({ length: 3 }, () => ({ ok: true, rooms: [] })));
    for (const r of results.slice(3)) expect(r).toMatchObject({ ok: false, code: 'ER001' });
    expect(await call(c, 'loadUsers')).toMatchObject({ ok: false, code: 'ER001' });
    // Other calls are not affected.
    expect(await call(c, 'createRoom', { title: 'Fine', max: 3 })).toMatchObject({ ok: true });
    expect(value(await scrape(server), 'onair_rate_limited_total', { scope: 'load' }) - before).toBe(4);
    expect(c.connected).toBe(true);
  });

  it('is on by default, and the defaults leave the seed client alone: leave and reload a few times in a row', async () => {
    // The configuration's own defaults, not the test ones.
    const server = await startServer({ LOAD_RATE: undefined, LOAD_BURST: undefined } as unknown as Record<string, string>);
    const p = programme('load-defaults');
    const c = await join(server, p, user('seedish'));
    for (let i = 0; i < 4; i++) {
      const roomId = await createOk(c, { title: `R${i}`, max: 3 });
      const fresh = c.events.next('loadRooms');
      expect(await call(c, 'leaveRoom', roomId)).toMatchObject({ ok: true });
      await fresh;
      expect(await call(c, 'loadRooms')).toMatchObject({ ok: true });
    }
    // A client reloading in a loop does meet it.
    const burst = await Promise.all(Array.from({ length: 12 }, () => call(c, 'loadRooms')));
    expect(burst.some((r) => !r.ok && r.code === 'ER001')).toBe(true);
  });
});
