/**
 * The handshake budget, applied where socket.io has not yet spent anything on a client:
 * - every new engine.io session (`allowRequest`): a bare polling handshake holds a session for
 *   the ping timeout, so sessions are budgeted per address before they exist;
 * - every socket.io CONNECT packet, seen on the engine.io connection before socket.io decodes
 *   it: a CONNECT to an unknown name would otherwise make a namespace (and its metric series)
 *   before any middleware could refuse it.
 *
 * A connection that keeps sending refused CONNECTs is closed: one websocket can otherwise carry
 * thousands of them a second.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../domain/clock.js';
import type { Identity } from '../domain/model.js';
import { KeyedRateLimiter } from '../domain/rate-limit.js';
import type { ConnectErrorCode } from '../protocol/index.js';
import type { OnAirServer } from './types.js';

/** The parts of an engine.io socket the gate uses (engine.io is socket.io's, not ours). */
interface EngineConnection extends EventEmitter {
  readonly request: IncomingMessage;
  readonly remoteAddress: string;
  readonly readyState: string;
  write(data: string | Buffer): unknown;
  close(): unknown;
}

/** One engine.io connection as the gate sees it. */
export interface Line {
  readonly conn: EngineConnection;
  readonly address: string;
  /** Refused CONNECTs so far. */
  refused: number;
  /** Identities already checked for a namespace made for them, taken by its middleware. Made
   * only when one is (a first CONNECT into a programme with no runtime here): an empty Map on
   * each of 10,000 idle connections is 1.2 MB for nothing. */
  checked: Map<string, Identity[]> | undefined;
}

/** socket.io-parser's packet types (protocol v5). */
const CONNECT = 0;
const CONNECT_ERROR = 4;

/**
 * An engine.io session costs one token of this budget and its namespace CONNECT one of the
 * handshake budget, so sessions get twice the burst: a client just over the handshake budget
 * still gets socket.io's `RATE_LIMITED` (a code it understands) rather than a bare HTTP 403;
 * only an address opening sessions well beyond it is refused at the HTTP level.
 */
const SESSION_BURST_FACTOR = 2;

export interface ConnectGateOptions {
  handshakeRate: number;
  handshakeBurst: number;
  /** Refused CONNECTs after which a connection is closed. */
  refusalsPerConnection: number;
  clock: Clock;
  address(req: IncomingMessage, fallback: string): string;
  /** Whether a namespace name may name a programme (else socket.io answers "Invalid namespace"). */
  validName(nsp: string): boolean;
  onRateLimited(scope: 'handshake' | 'engine'): void;
  onRefused(line: Line, nsp: string, code: ConnectErrorCode, message: string): void;
  onClosed(line: Line): void;
}

/** The namespace of a CONNECT packet as socket.io-parser reads it: `0/name,{...}` or `0{...}`. */
function connectNamespace(data: string): string {
  if (data[1] !== '/') return '/';
  const comma = data.indexOf(',', 1);
  return comma < 0 ? data.slice(1) : data.slice(1, comma);
}

export class ConnectGate {
  private readonly handshakes: KeyedRateLimiter;
  private readonly sessions: KeyedRateLimiter;
  private readonly lines = new WeakMap<object, Line>();
  /** The line whose packet socket.io is handling right now (it decodes synchronously). */
  private active: Line | null = null;

  /** The server whose engine the gate stands in front of (`watch`). */
  private io: OnAirServer | null = null;

  constructor(private readonly opts: ConnectGateOptions) {
    this.handshakes = new KeyedRateLimiter(opts.handshakeRate, opts.handshakeBurst, opts.clock);
    this.sessions = new KeyedRateLimiter(opts.handshakeRate, opts.handshakeBurst * SESSION_BURST_FACTOR, opts.clock);
  }

  /** Stand in front of every connection of `io`'s engine (once socket.io is attached to its
   * HTTP server: the engine exists only then). */
  watch(io: OnAirServer): void {
    this.io = io;
    // Added after socket.io's own listener, so its client already listens to the connection.
    io.engine.on('connection', (conn: EngineConnection) => this.attach(conn));
  }

  /** For `allowRequest`, which engine.io calls only for requests without a session id. */
  allowSession(req: IncomingMessage): boolean {
    if (this.sessions.take(this.opts.address(req, req.socket.remoteAddress ?? ''))) return true;
    this.opts.onRateLimited('engine');
    return false;
  }

  /** The connection whose CONNECT socket.io is deciding on, during that synchronous call. */
  current(): Line | null {
    return this.active;
  }

  lineOf(conn: object): Line | null {
    return this.lines.get(conn) ?? null;
  }

  /** Answer a CONNECT ourselves, as socket.io answers a middleware's error. */
  refuse(line: Line, nsp: string, code: ConnectErrorCode, message: string): void {
    this.opts.onRefused(line, nsp, code, message);
    if (line.conn.readyState === 'open' && this.io) {
      const packet = { type: CONNECT_ERROR, nsp, data: { message: code, data: { code, message } } };
      for (const encoded of this.io.encoder.encode(packet)) line.conn.write(encoded as string);
    }
    this.refused(line);
  }

  /** Count a refusal socket.io answered itself; closes the line at the cap. */
  refused(line: Line): void {
    line.refused += 1;
    if (line.refused === this.opts.refusalsPerConnection) {
      this.opts.onClosed(line);
      line.conn.close();
    }
  }

  checked(line: Line, nsp: string, identity: Identity): void {
    line.checked ??= new Map();
    const queue = line.checked.get(nsp);
    if (queue) queue.push(identity);
    else line.checked.set(nsp, [identity]);
  }

  takeChecked(line: Line, nsp: string): Identity | undefined {
    const queue = line.checked?.get(nsp);
    const identity = queue?.shift();
    if (queue && queue.length === 0) line.checked!.delete(nsp);
    if (line.checked?.size === 0) line.checked = undefined;
    return identity;
  }

  private attach(conn: EngineConnection): void {
    const line: Line = { conn, address: this.opts.address(conn.request, conn.remoteAddress), refused: 0, checked: undefined };
    this.lines.set(conn, line);
    // socket.io's client is put behind the gate, so a CONNECT refused here never reaches it.
    const downstream = conn.listeners('data') as ((data: unknown) => void)[];
    for (const l of downstream) conn.removeListener('data', l);
    conn.on('data', (data: unknown) => {
      if (conn.readyState !== 'open' || line.refused >= this.opts.refusalsPerConnection) return;
      if (typeof data === 'string' && data.charCodeAt(0) === 48 + CONNECT && !this.admit(line, connectNamespace(data))) return;
      this.active = line;
      try {
        for (const l of downstream) l.call(conn, data);
      } finally {
        this.active = null;
      }
    });
  }

  /** Whether socket.io should see this CONNECT. */
  private admit(line: Line, nsp: string): boolean {
    if (!this.handshakes.take(line.address)) {
      this.opts.onRateLimited('handshake');
      this.refuse(line, nsp, 'RATE_LIMITED', 'too many connection attempts, slow down');
      return false;
    }
    if (!this.opts.validName(nsp)) {
      // socket.io answers "Invalid namespace" without making one; it still counts here.
      this.refused(line);
      return line.refused < this.opts.refusalsPerConnection;
    }
    return true;
  }
}
