/**
 * One TLS write per socket per turn of the event loop, instead of one per frame.
 *
 * ws writes every frame to the TLS socket by itself: a TLS record and a `writev` each. A member
 * of a filling room gets a `joinRoom` for each newcomer, a member of a busy room a `chat` for
 * each message, and at a few hundred per second many of them reach the same socket within one
 * turn of the loop, each its own syscall: on the lobby bench the server's core was mostly
 * `writev`. Here the socket under a websocket is corked at its first frame in a turn and
 * uncorked once the turn's I/O callbacks have run (`setImmediate`): Node's TLS then encrypts what
 * gathered as one record and writes it at once. A frame waits for the rest of the turn it was
 * made in (on an idle server that is nothing), and on a busy one for the turns the flush is
 * spread over (`SLICE_MS` of sockets each); a call's answer does not wait.
 *
 * engine.io hands a websocket one batch at a time and holds what comes while that batch's write
 * is in flight; a corked write is in flight until the flush, so the transport is let take the
 * turn's later packets into the corked socket as well. A batch that engine.io sends from a
 * completed write's callback during the flush (a socket corked before this turn, or not at all)
 * is written at once rather than corked for another turn.
 */
import type { Server as EngineServer, Socket as EngineSocket } from 'engine.io';
import { FANOUT_CHUNK, SLICE_CHECK, SLICE_MS } from './lobby-pacing.js';

interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableLength: number;
}

/** A socket with this much corked is written at once, whatever is left of the turn: a TLS
 * record holds 16 KiB, so the syscalls saved are already nearly all saved. */
const EARLY_FLUSH_BYTES = 64 * 1024;

interface WsTransport {
  readonly name: string;
  writable: boolean;
  socket?: { _socket?: Corkable };
  send(packets: unknown[]): void;
}

const corked = new Set<Corkable>();
let scheduled = false;
/** Inside the flush: a batch engine.io sends from a completed write's callback goes out at once. */
let flushing = false;
const patched = new WeakSet<object>();

/** One turn's uncorking: `FANOUT_CHUNK` sockets (a room's fan-out, up to 120 members, is never
 * split), then more while the turn has taken less than the pacer's `SLICE_MS`; the sockets left
 * are written the next turn (first corked, first written). Encrypting and writing is the
 * expensive part of a fan-out: a turn that made frames for 900 lobby sockets in 4 ms took 20-27
 * ms more to write them on the lobby bench, in one block that every call waited behind. */
function flush(): void {
  scheduled = false;
  flushing = true;
  const until = performance.now() + SLICE_MS;
  let n = 0;
  for (const raw of corked) {
    corked.delete(raw);
    if (!raw.destroyed) raw.uncork();
    if (++n >= FANOUT_CHUNK && n % SLICE_CHECK === 0 && performance.now() >= until) break;
  }
  // The completed writes' callbacks (engine.io's next batches) run as ticks queued by the
  // uncorks above; this one, queued after them, ends the flush.
  process.nextTick(() => (flushing = false));
  if (corked.size > 0) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Whether `raw` is held corked until the flush (from now, or already). Exported for its test. */
export function corkFor(raw: Corkable): boolean {
  if (corked.has(raw)) return true;
  if (flushing || raw.destroyed) return false;
  raw.cork();
  corked.add(raw);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
  return true;
}

/** A socket.io acknowledgement (packet type 3, or 6 with binary), i.e. the answer to a call. */
function isReply(packet: unknown): boolean {
  const data = (packet as { data?: unknown }).data;
  if (typeof data !== 'string') return false;
  const type = data.charCodeAt(0);
  return type === 51 || type === 54;
}

/** Patches engine.io's websocket transport (its prototype, once: nothing is kept per socket);
 * whether it is patched (now or before). */
function patch(transport: WsTransport): boolean {
  if (transport.name !== 'websocket') return false;
  const proto = Object.getPrototypeOf(transport) as WsTransport;
  if (patched.has(proto)) return true;
  patched.add(proto);
  const send = proto.send;
  proto.send = function (this: WsTransport, packets: unknown[]) {
    const raw = this.socket?._socket;
    const held = raw ? corkFor(raw) : false;
    send.call(this, packets);
    if (!held || !raw) return;
    if (raw.writableLength >= EARLY_FLUSH_BYTES || packets.some(isReply)) {
      // A long turn on a saturated server must not pile a socket's frames up in memory (nor
      // past MAX_SOCKET_BUFFER_BYTES, which would cut a client that reads): out now, and
      // engine.io waits for this write as it would without coalescing. A reply is out now as
      // well: its caller is waiting for it, and behind a spread flush it could wait turns (on
      // the lobby bench `listRooms` p99 went up by half).
      corked.delete(raw);
      raw.uncork();
      return;
    }
    // Nothing written to a corked socket completes before the flush, so engine.io would keep
    // every later packet of the turn back and write them as a second batch after it: they go
    // into the corked socket too. (Each send still gets its own completion, in order.)
    this.writable = true;
  };
  return true;
}

/** Patches the transport with the first websocket the engine serves, then listens no more. */
export function coalesceWrites(engine: EngineServer): void {
  const onConnection = (conn: EngineSocket) => {
    if (patch(conn.transport as unknown as WsTransport)) return void engine.off('connection', onConnection);
    // A polling session: its upgrade brings the websocket transport.
    conn.once('upgrade', (transport: unknown) => {
      if (patch(transport as WsTransport)) engine.off('connection', onConnection);
    });
  };
  engine.on('connection', onConnection);
}
