/**
 * The socket.io adapter of a service on Redis: a programme's broadcasts cross servers through
 * one Redis stream of its own, in its hash slot. Built on socket.io-adapter's `ClusterAdapter`
 * (the base of socket.io's official adapters) and keeping the stream format of
 * `@socket.io/redis-streams-adapter` and socket.io's emitter, which the store's scripts write.
 *
 * Why not the official Redis Streams adapter itself:
 * - **Exactly once on recovery.** It delivers a server's own broadcasts to its sockets at once and
 *   the others' when its reader gets them, so a socket can see offset 9 (its server's) before 8
 *   (another's); coming back from 9 it never gets 8, and a restore reads to the stream's end what
 *   the reader is still about to deliver, twice. Here every broadcast, its own included, reaches
 *   this server's sockets from the stream, in stream order, and a restore reads exactly the
 *   entries between the socket's offset and the reader's position (spec 7.1).
 * - **One slot per programme.** The store's Lua scripts append announcements to the stream inside
 *   their decision, so on a Redis Cluster the stream must share the programme's slot; the official
 *   adapter names its streams itself (`socket.io`, `socket.io-<i>`), outside every programme's.
 *   A stream per programme also keeps one programme's traffic from trimming another's recovery
 *   window.
 * Ephemeral messages (broadcasts with acknowledgement, `serverSideEmit`, `fetchSockets`) go over
 * pub/sub as in the official adapter. Payloads are JSON: onair sends no binary.
 */
import { Adapter, ClusterAdapter, MessageType } from 'socket.io-adapter';
import type { BroadcastOptions, ClusterMessage, ClusterResponse, Offset, PrivateSessionId, Session } from 'socket.io-adapter';

export interface StreamEntry {
  id: string;
  message: Record<string, string>;
}

/** The commands the adapter sends on its shared connection (node-redis' client or cluster). */
export interface StreamCommands {
  xAdd(key: string, id: '*', fields: Record<string, string>, options: { TRIM: { strategy: 'MAXLEN'; strategyModifier: '~'; threshold: number } }): Promise<string>;
  xRange(key: string, start: string, end: string, options?: { COUNT: number }): Promise<StreamEntry[]>;
  xRevRange(key: string, end: string, start: string, options?: { COUNT: number }): Promise<StreamEntry[]>;
  set(key: string, value: string, options: { PX: number }): Promise<unknown>;
  getDel(key: string): Promise<string | null>;
  publish(channel: string, message: string): Promise<unknown>;
  pubSubNumSub(channels: string): Promise<Record<string, number>>;
}

/** A connection of its own for one programme's blocking reads. */
export interface StreamReader {
  xRead(streams: { key: string; id: string }[], options: { COUNT: number; BLOCK: number }): Promise<{ name: string; messages: StreamEntry[] }[] | null>;
  destroy(): void;
}

export interface Subscriber {
  subscribe(channels: string[], listener: (message: string) => void): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
}

export interface StreamsAdapterOptions {
  commands: StreamCommands;
  openReader(): Promise<StreamReader>;
  /** One pub/sub connection shared by the namespaces of this server. */
  subscriber: Promise<Subscriber>;
  /** The stream and session keys of a namespace; null for one that is not a programme's (`/`),
   * which then stays on this server. */
  keysOf(nsp: string): { stream: string; sessionPrefix: string } | null;
  channelPrefix: string;
  /** Entries a stream keeps (trimmed approximately): the window a recovery can reach back. */
  maxLen: number;
  readCount?: number;
  blockMs?: number;
  onError?: (what: string, err: unknown) => void;
  /** Each entry the reader got: delivered, or skipped unparsed (no socket here in its room). */
  onEntry?: (skipped: boolean) => void;
}

/** Pages a restore may read before giving up (the client then resumes without recovery). */
const RESTORE_PAGES = 100;
const RESTORE_PAGE = 500;
/** Pauses before a failed publish is tried again (a shard's failover takes some seconds). */
const PUBLISH_RETRY_MS = [250, 500, 1000, 2000];
/** Pause after a failed read, so that a Redis outage is waited out rather than spun on. */
const READ_RETRY_MS = 200;

type Id = readonly [number, number];
const parseId = (id: string): Id => {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
};
/** Stream ids compared as Redis orders them (milliseconds, then sequence). */
export function compareIds(a: string, b: string): number {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am !== bm ? am - bm : as - bs;
}
const nextId = (id: string): string => {
  const [ms, seq] = parseId(id);
  return `${ms}-${seq + 1}`;
};

interface EncodedOptions {
  rooms: string[];
  except: string[];
  flags: BroadcastOptions['flags'];
}
const encodeOptions = (opts: BroadcastOptions): EncodedOptions => ({
  rooms: [...opts.rooms],
  except: [...(opts.except ?? [])],
  flags: opts.flags ?? {},
});
const decodeOptions = (opts: EncodedOptions): BroadcastOptions => ({
  rooms: new Set(opts.rooms),
  except: new Set(opts.except),
  flags: opts.flags,
});

/** `ClusterAdapter`'s own rule for which packets carry their offset (private there). */
interface Offsets {
  addOffsetIfNecessary(packet: unknown, opts: BroadcastOptions, offset: Offset): void;
}

interface EventPacket {
  type: number;
  id?: number;
  data: unknown[];
}

/** Whether a stream entry is a broadcast a session in `rooms` would have received. */
function missedBy(rooms: string[], opts: EncodedOptions): boolean {
  const included = opts.rooms.length === 0 || rooms.some((r) => opts.rooms.includes(r));
  return included && rooms.every((r) => !opts.except.includes(r));
}

export function createStreamsAdapter(options: StreamsAdapterOptions) {
  return function StreamsAdapterOf(nsp: unknown) {
    return new StreamsAdapter(nsp, options);
  };
}

export class StreamsAdapter extends ClusterAdapter {
  private readonly keys: { stream: string; sessionPrefix: string } | null;
  private readonly publicChannel: string;
  private readonly privateChannel: string;
  /** The id of the last entry the reader delivered: what this server's sockets have seen. */
  private position = '0-0';
  private readonly ready: Promise<void>;
  private closed = false;
  private reader: StreamReader | null = null;

  constructor(
    nsp: unknown,
    private readonly options: StreamsAdapterOptions,
  ) {
    super(nsp);
    const name = this.nsp.name as string;
    this.keys = options.keysOf(name);
    this.publicChannel = `${options.channelPrefix}#${name}#`;
    this.privateChannel = `${options.channelPrefix}#${name}#${this.uid}#`;
    this.ready = this.keys ? this.start(this.keys.stream) : Promise.resolve();
  }

  /** Reads from the stream's last entry at start: a broadcast published before that is not this
   * server's to deliver (it had no socket in the programme), and one published after is. */
  private async start(stream: string): Promise<void> {
    for (;;) {
      try {
        const [last] = await this.options.commands.xRevRange(stream, '+', '-', { COUNT: 1 });
        this.position = last?.id ?? '0-0';
        const subscriber = await this.options.subscriber;
        await subscriber.subscribe([this.publicChannel, this.privateChannel], (raw) => this.onEphemeral(raw));
        break;
      } catch (err) {
        if (this.closed) return;
        this.options.onError?.('stream start', err);
        await new Promise((r) => setTimeout(r, READ_RETRY_MS));
      }
    }
    void this.read(stream);
  }

  private async read(stream: string): Promise<void> {
    try {
      this.reader = await this.options.openReader();
      if (this.closed) this.reader.destroy();
    } catch (err) {
      this.options.onError?.('stream reader', err);
      return;
    }
    const { readCount = 100, blockMs = 5000 } = this.options;
    while (!this.closed) {
      try {
        const reply = await this.reader.xRead([{ key: stream, id: this.position }], { COUNT: readCount, BLOCK: blockMs });
        for (const entry of reply?.[0]?.messages ?? []) {
          this.position = entry.id;
          this.deliver(entry);
        }
      } catch (err) {
        if (this.closed) break;
        this.options.onError?.('stream read', err);
        await new Promise((r) => setTimeout(r, READ_RETRY_MS));
      }
    }
  }

  private decode(entry: StreamEntry): ClusterMessage | null {
    const { uid, nsp, type, data } = entry.message;
    if (nsp !== this.nsp.name || !uid || !type) return null;
    try {
      return { uid, nsp, type: Number(type), ...(data ? { data: JSON.parse(data) } : {}) } as ClusterMessage;
    } catch (err) {
      this.options.onError?.('stream entry', err);
      return null;
    }
  }

  private deliver(entry: StreamEntry): void {
    // A broadcast to one room where this server has no socket: nothing to deliver, so nothing to
    // parse or encode. Most entries of a big programme are for rooms of a few members, on one or
    // two servers of many (`to` is absent from entries written before it existed: parsed then).
    const to = entry.message.to;
    const skipped = to !== undefined && !this.rooms.has(to);
    this.options.onEntry?.(skipped);
    if (skipped) return;
    const message = this.decode(entry);
    if (!message) return;
    if (message.uid !== this.uid) {
      this.onMessage(message, entry.id);
      return;
    }
    // Its own operations, now in their place in the stream's order.
    switch (message.type) {
      case MessageType.BROADCAST: {
        const opts = decodeOptions(message.data.opts);
        (this as unknown as Offsets).addOffsetIfNecessary(message.data.packet, opts, entry.id);
        Adapter.prototype.broadcast.call(this, message.data.packet, opts);
        break;
      }
      case MessageType.SOCKETS_JOIN:
        Adapter.prototype.addSockets.call(this, decodeOptions(message.data.opts), message.data.rooms);
        break;
      case MessageType.SOCKETS_LEAVE:
        Adapter.prototype.delSockets.call(this, decodeOptions(message.data.opts), message.data.rooms);
        break;
      case MessageType.DISCONNECT_SOCKETS:
        Adapter.prototype.disconnectSockets.call(this, decodeOptions(message.data.opts), message.data.close ?? false);
        break;
      default:
    }
  }

  private onEphemeral(raw: string): void {
    let message: ClusterMessage | ClusterResponse;
    try {
      message = JSON.parse(raw) as ClusterMessage | ClusterResponse;
    } catch (err) {
      this.options.onError?.('pub/sub message', err);
      return;
    }
    // `ClusterAdapter.onMessage` hands responses on to `onResponse` itself.
    this.onMessage(message as ClusterMessage);
  }

  override broadcast(packet: EventPacket, opts: BroadcastOptions): Promise<void> {
    return this.inOrder(opts, { type: MessageType.BROADCAST, data: { packet, opts: encodeOptions(opts) } }, () =>
      Adapter.prototype.broadcast.call(this, packet, opts),
    );
  }

  override addSockets(opts: BroadcastOptions, rooms: string[]): Promise<void> {
    return this.inOrder(opts, { type: MessageType.SOCKETS_JOIN, data: { opts: encodeOptions(opts), rooms } }, () =>
      Adapter.prototype.addSockets.call(this, opts, rooms),
    );
  }

  override delSockets(opts: BroadcastOptions, rooms: string[]): Promise<void> {
    return this.inOrder(opts, { type: MessageType.SOCKETS_LEAVE, data: { opts: encodeOptions(opts), rooms } }, () =>
      Adapter.prototype.delSockets.call(this, opts, rooms),
    );
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): Promise<void> {
    return this.inOrder(opts, { type: MessageType.DISCONNECT_SOCKETS, data: { opts: encodeOptions(opts), close } }, () =>
      Adapter.prototype.disconnectSockets.call(this, opts, close),
    );
  }

  /**
   * An operation on sockets of every server goes into the stream, and this server applies it
   * when its reader gets there, like every other server: so a notice and the disconnect after it
   * (`endFinally`) reach this server's sockets in the order they were made, as they reach the
   * others'. A local one (or one outside a programme) is applied at once.
   */
  private async inOrder(opts: BroadcastOptions, message: { type: MessageType; data: unknown }, here: () => void): Promise<void> {
    if (opts.flags?.local || !this.keys) {
      here();
      return;
    }
    for (const pause of [...PUBLISH_RETRY_MS, null]) {
      try {
        await this.publishAndReturnOffset(message as never);
        return;
      } catch (err) {
        this.options.onError?.('publish', err);
        // A shard failing over (Redis Cluster): this connection's map of the slots is refreshed
        // about a second after its node went, so a broadcast tried again then reaches the
        // promoted replica and every server, not only this one's sockets.
        if (pause !== null && !this.closed) await new Promise((r) => setTimeout(r, pause));
      }
    }
    // Redis stayed away: this server's own sockets still get it, outside the stream's order.
    here();
  }

  protected override async doPublish(message: ClusterMessage): Promise<Offset> {
    if (!this.keys) return '';
    const ephemeral =
      (message.type === MessageType.BROADCAST && message.data.requestId !== undefined) ||
      message.type === MessageType.SERVER_SIDE_EMIT ||
      message.type === MessageType.FETCH_SOCKETS;
    if (ephemeral) {
      await this.options.commands.publish(this.publicChannel, JSON.stringify(message));
      return '';
    }
    await this.ready;
    const fields: Record<string, string> = { uid: message.uid, nsp: message.nsp, type: String(message.type) };
    if ('data' in message && message.data !== undefined) fields.data = JSON.stringify(message.data);
    if (message.type === MessageType.BROADCAST && message.data.opts.rooms.length === 1) fields.to = message.data.opts.rooms[0]!;
    return this.options.commands.xAdd(this.keys.stream, '*', fields, {
      TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.options.maxLen },
    });
  }

  protected override async doPublishResponse(requesterUid: string, response: ClusterResponse): Promise<void> {
    await this.options.commands.publish(`${this.options.channelPrefix}#${this.nsp.name}#${requesterUid}#`, JSON.stringify(response));
  }

  override async serverCount(): Promise<number> {
    const counts = await this.options.commands.pubSubNumSub(this.publicChannel);
    return Number(counts[this.publicChannel] ?? 0);
  }

  override persistSession(session: { sid: string; pid: PrivateSessionId; rooms: string[]; data: unknown }): void {
    if (!this.keys) return;
    const ttl = this.nsp.server.opts.connectionStateRecovery.maxDisconnectionDuration as number;
    this.options.commands
      .set(this.keys.sessionPrefix + session.pid, JSON.stringify(session), { PX: ttl })
      .catch((err: unknown) => this.options.onError?.('persist session', err));
  }

  /**
   * The session and the broadcasts it missed: the entries after `offset` up to the reader's
   * position, read page by page until they reach it. What comes after is the reader's to deliver,
   * and socket.io joins the restored socket to its rooms as soon as this resolves, before any
   * other I/O can run, so nothing falls between the two and nothing is delivered twice.
   */
  override async restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    if (!this.keys || !/^[0-9]+-[0-9]+$/.test(offset)) throw new Error('invalid offset');
    await this.ready;
    const { stream, sessionPrefix } = this.keys;
    const [raw, at] = await Promise.all([
      this.options.commands.getDel(sessionPrefix + pid),
      this.options.commands.xRange(stream, offset, offset),
    ]);
    // An offset trimmed from the stream means entries may be gone: no recovery then.
    if (!raw || at.length === 0) throw new Error('session or offset not found');
    const session = JSON.parse(raw) as Session;
    session.missedPackets = [];
    let from = offset;
    for (let page = 0; page < RESTORE_PAGES; page++) {
      if (compareIds(from, this.position) >= 0) return session;
      const entries = await this.options.commands.xRange(stream, nextId(from), '+', { COUNT: RESTORE_PAGE });
      if (entries.length === 0) throw new Error('stream ended before the reader position');
      for (const entry of entries) {
        if (compareIds(entry.id, this.position) > 0) break;
        from = entry.id;
        const message = this.decode(entry);
        if (message?.type !== MessageType.BROADCAST || message.data.requestId !== undefined) continue;
        const packet = message.data.packet as EventPacket;
        const opts = message.data.opts;
        if (packet.type !== 2 || packet.id !== undefined || opts.flags?.volatile) continue;
        if (!missedBy(session.rooms, opts)) continue;
        session.missedPackets.push([...packet.data, entry.id]);
      }
    }
    throw new Error('too far behind to restore');
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader?.destroy();
    void this.options.subscriber
      .then((s) => s.unsubscribe([this.publicChannel, this.privateChannel]))
      .catch(() => {});
  }
}
