/**
 * A cap on what one connection may have queued for it. A client that stops reading (a paused
 * TCP socket, a polling session that no longer polls) would otherwise make the server keep every
 * packet meant for it: engine.io resets its ping timeout on any packet the client sends, so such
 * a socket can live, and grow, for ever. Past the cap the connection is cut at once, without
 * waiting for the queue to drain (it never would).
 *
 * What is queued for one engine.io connection:
 * - `writeBuffer`: packets not yet handed to the transport. A websocket whose last write has not
 *   completed, and a polling session with no GET pending, queue here.
 * - for a websocket, ws' `bufferedAmount`: the TLS/TCP socket's unwritten bytes plus ws' own
 *   send queue. (What the kernel holds is bounded by the kernel.)
 * The packets of `writeBuffer` are counted as they are made ('packetCreate') and forgotten when
 * engine.io hands them over ('flush'); ws' figure is read, never computed. So the check is O(1)
 * per packet, with no encoding.
 */
import type { Server as EngineServer, Socket as EngineSocket } from 'engine.io';
import type { WebSocket } from 'ws';

export interface SocketBufferOptions {
  maxBytes: number;
  /** Called once per connection cut, just before it is closed (so its log line comes before
   * socket.io's disconnect). */
  onOverflow(info: { id: string; transport: string; bytes: number; address: string }): void;
}

/** Bytes of `writeBuffer`, kept on the connection itself: one number, no closure per socket. */
const PENDING = Symbol('onair.pendingBytes');
type Counted = EngineSocket & { [PENDING]: number };

interface Packet {
  data?: unknown;
}

/** A broadcast hands every socket the same encoded string: its size is measured once, not once
 * per socket (a frame to 2,000 lobby sockets measured it 2,000 times). */
let lastString = '';
let lastSize = 0;

function sizeOf(data: unknown): number {
  if (typeof data === 'string') {
    if (data !== lastString) {
      lastString = data;
      lastSize = Buffer.byteLength(data);
    }
    return lastSize;
  }
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

function transportBytes(conn: EngineSocket): number {
  const transport = conn.transport as unknown as { name: string; socket?: WebSocket };
  return transport.name === 'websocket' && transport.socket ? transport.socket.bufferedAmount : 0;
}

export function capSocketBuffers(engine: EngineServer, options: SocketBufferOptions): void {
  const { maxBytes } = options;

  function cut(conn: Counted, bytes: number): void {
    const transport = conn.transport as unknown as { name: string; socket?: WebSocket };
    const name = transport.name;
    const ws = name === 'websocket' ? transport.socket : undefined;
    options.onOverflow({ id: (conn as unknown as { id: string }).id, transport: name, bytes, address: conn.remoteAddress });
    // `discard`: close now, not after the queue drains; socket.io sees "forced close" at once.
    conn.close(true);
    // ws would wait up to 30 s for its closing handshake, behind the very bytes that overflowed;
    // destroying the TLS socket frees them now.
    ws?.terminate();
    conn[PENDING] = 0;
  }

  // Shared by every connection: `this` is the engine.io socket.
  function onPacketCreate(this: Counted, packet: Packet): void {
    // `||`: socket.io may send before this server's 'connection' listener has run.
    const pending = (this[PENDING] || 0) + sizeOf(packet.data);
    this[PENDING] = pending;
    const bytes = pending + transportBytes(this);
    if (bytes > maxBytes && this.readyState === 'open') cut(this, bytes);
  }
  function onFlush(this: Counted): void {
    this[PENDING] = 0;
  }

  engine.on('connection', (conn: EngineSocket) => {
    conn.on('packetCreate', onPacketCreate);
    conn.on('flush', onFlush);
  });
}
