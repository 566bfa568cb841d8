/**
 * Issue 17: the frames the server makes for one websocket within one turn of its event loop
 * leave in one TLS write (`write-coalescing.ts`), in order, where ws alone wrote each frame by
 * itself. Counted on the server's own TLS socket for the receiving client: its `_writev`/`_write`
 * calls, each one a TLS record and a syscall.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/protocol/index.js';
import { call, createOk, join, user } from '../helpers/client.js';
import { startServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';
import { roomChannel } from '../../src/transport/channels.js';

interface Writable {
  _write: (...args: unknown[]) => unknown;
  _writev?: (...args: unknown[]) => unknown;
}

/** Counts the writes of the server's TLS socket under one client's websocket. */
function countWrites(raw: Writable): { readonly n: number } {
  const counter = { n: 0 };
  const write = raw._write;
  const writev = raw._writev;
  raw._write = function (this: unknown, ...args: unknown[]) {
    counter.n += 1;
    return write.apply(this, args);
  };
  if (writev) {
    raw._writev = function (this: unknown, ...args: unknown[]) {
      counter.n += 1;
      return writev.apply(this, args);
    };
  }
  return counter;
}

describe('write coalescing', () => {
  it('twenty chats broadcast from separate callbacks of one turn reach a member in one TLS write, in order', async () => {
    const server = await startServer();
    const p = `coalesce-${process.pid}`;
    const a = await join(server, p, user('a'));
    const b = await join(server, p, user('b'));
    const roomId = await createOk(a, { title: 'burst', max: 10 });
    expect((await call(b, 'joinRoom', { roomId })).ok).toBe(true);
    await a.events.some('joinRoom', (u: { userUID: string }) => u.userUID === b.who.userUID);

    const socket = server.app.io.of(`/${p}`).sockets.get(a.id!)!;
    const raw = (socket.conn.transport as unknown as { socket: { _socket: Writable } }).socket._socket;
    const writes = countWrites(raw);
    const n = 20;
    // Broadcast by the server itself, each from a callback of its own within one turn of the
    // loop, as calls arriving together are handled: whatever the client's timing. Immediates
    // queued together run in one check phase (timers might spread over two turns on a busy
    // machine, which made this flaky).
    const nsp = server.app.io.of(`/${p}`);
    for (let i = 0; i < n; i++) setImmediate(() => nsp.to(roomChannel(roomId)).emit('chat', { roomId, msg: `m${i}`, type: 'N', userUID: 'x', displayName: 'x', id: `i${i}`, ts: i }));
    await waitUntil(() => a.events.all('chat').length === n, 5000, 'every chat delivered');
    expect(a.events.all('chat').map((s) => (s.args[0] as ChatMessage).msg)).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    // ws and engine.io alone: the first frame by itself, then batches as writes complete (3 when
    // this was written).
    expect(writes.n).toBe(1);
    await server.close();
  });

  it("a call's answer is written at once, with the frames corked before it, not at the end of the turn", async () => {
    const server = await startServer();
    const p = `coalesce-ack-${process.pid}`;
    const a = await join(server, p, user('a'));
    const roomId = await createOk(a, { title: 'answers', max: 10 });
    const nsp = server.app.io.of(`/${p}`);
    const socket = nsp.sockets.get(a.id!)!;
    const raw = (socket.conn.transport as unknown as { socket: { _socket: Writable & { writableCorked: number } } }).socket._socket;
    const writes = countWrites(raw);
    const chat = (i: number): ChatMessage => ({ roomId, msg: `m${i}`, type: 'N', userUID: 'x', displayName: 'x', id: `i${i}`, ts: i });
    // One synchronous block: a broadcast (corked until the turn ends), then an answer to a call
    // (socket.io's ACK packet, for an id the client does not wait for: it drops it).
    nsp.to(roomChannel(roomId)).emit('chat', chat(0));
    expect(raw.writableCorked).toBe(1);
    expect(writes.n).toBe(0);
    (socket as unknown as { packet(p: object): void }).packet({ type: 3, id: 9999, data: [{ ok: true }] });
    expect(raw.writableCorked).toBe(0);
    expect(writes.n).toBe(1);
    // A broadcast alone still waits for the turn's end.
    nsp.to(roomChannel(roomId)).emit('chat', chat(1));
    expect(writes.n).toBe(1);
    await waitUntil(() => a.events.all('chat').length === 2, 5000, 'both chats delivered');
    expect(writes.n).toBe(2);
    await server.close();
  });
});

