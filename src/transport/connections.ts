/**
 * The life of this server's sockets once their handshake passed: a session opened, handlers
 * attached, the lobby's room list sent; on disconnect, the seat and the session let go (tried
 * again by housekeeping while a backend is away, so no seat or session is left behind) and the
 * programme's runtime released once nothing of it is left here.
 *
 * Housekeeping also releases programmes this server no longer serves (a deadline or a dead
 * server's clean-up may have opened one) and keeps the shared keys of the programmes it does
 * serve from expiring.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { departureOf, holdsSession, type Departure } from '../domain/grace.js';
import type { Member } from '../domain/model.js';
import type { OnAirService, Resumed } from '../domain/service.js';
import type { NodeRegistry, SocketEntry } from '../domain/ports/cluster.js';
import type { StateStore } from '../domain/ports/store.js';
import { AUTH_CLIENTS, roomChannel } from './channels.js';

/** How long before a closed line was noticed the catch-up of a resumed session starts. */
const CLOSE_NOTICE_SLACK_MS = 1000;

/** `system` codes after which a socket's departure is final (`domain/grace.ts`). */
const FINAL_CODES: ReadonlySet<string> = new Set(['DUPLICATE_SESSION', 'KICKED', 'BANNED', 'PROGRAM_ENDED']);
import { LobbyFeed } from './lobby-feed.js';
import { lobbyCatchUp } from './lobby-pacing.js';
import { isSeedProtocol } from './client-kind.js';
import type { ProgrammeRuntime, ProgrammeRuntimes } from './programme-runtime.js';
import type { OnAirSocket } from './types.js';

export interface ConnectionsDeps {
  service: OnAirService;
  /** This process's own state, for programmes it no longer serves (`releaseLeftovers`). */
  store: Pick<StateStore, 'programs' | 'shared'>;
  nodes: Pick<NodeRegistry, 'nodeId' | 'addSocket' | 'removeSocket'>;
  runtimes: ProgrammeRuntimes;
  /** Before a programme's first socket here is served (its persistent rooms). */
  activate(program: string): Promise<void>;
  /** Installs the socket's event handlers; the member it is. */
  attachHandlers(socket: OnAirSocket): Member;
  /** Keep a programme's shared keys alive while this server has sockets in it. */
  touch(program: string): Promise<void>;
  metrics: {
    connected(p: string): void;
    disconnected(p: string): void;
    backendError(backend: 'state' | 'database'): void;
  };
  log: Logger;
  housekeepingMs: number;
  /** Ticks with housekeeping. */
  lobby?: Pick<LobbyFeed, 'start' | 'stop'>;
  /** How long a programme's shared keys live without a touch. */
  stateIdleTtlMs: number;
  /** For the moment a held session may have started missing messages. */
  clock?: Clock;
  /** The handshake's checks for a socket socket.io recovered without them (`null`: admitted). */
  recheck?: (socket: OnAirSocket) => Promise<{ code: string; message: string } | null>;
}

/** What the transport learns of a socket beyond its member: its connection, when its client
 * was last heard from, and the last final notice it was sent (what makes its departure final). */
interface Line {
  conn: string;
  lastHeard: number;
  finalCode: string | null;
  /** A recovered socket the handshake's checks refused: its session is not its to touch. */
  refused: boolean;
}

export class Connections {
  /** Clean-ups of this server's own disconnected sockets that failed (a backend was away). */
  private readonly failedCleanUps = new Map<string, { program: string; member: Member; entry: SocketEntry }>();
  /** Clean-ups under way, which shutdown waits for. */
  private readonly cleanUps = new Set<Promise<void>>();
  private housekeeping: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(private readonly deps: ConnectionsDeps) {}

  /** Serve the sockets that connect to the programme's namespace. */
  serve(runtime: ProgrammeRuntime): void {
    runtime.nsp.on('connection', (socket: OnAirSocket) => this.open(socket, runtime.program));
  }

  private now(): number {
    return this.deps.clock?.now() ?? Date.now();
  }

  private open(socket: OnAirSocket, program: string): void {
    const { deps } = this;
    const member: Member = deps.attachHandlers(socket);
    const lobby = LobbyFeed.lobbyChannel(socket);
    // Recovered by socket.io (spec 7.1): its channels came back with it (its room, or the
    // lobby); its lobby state did not survive the adapter's serialisation and starts afresh.
    const recovered = socket.recovered && (deps.service.graceMs ?? 0) > 0;
    if (recovered) socket.data.lobby = undefined;
    else void socket.join(isSeedProtocol(socket) ? [lobby] : [lobby, AUTH_CLIENTS]);
    // Prefixed with the server: a survivor holds a dead server's sessions only while they are
    // still on one of its connections (the store's holdSession).
    const line: Line = { conn: `${deps.nodes.nodeId}/${randomUUID()}`, lastHeard: this.now(), finalCode: null, refused: false };
    if ((deps.service.graceMs ?? 0) > 0) this.watchLine(socket, line);
    // With many servers, the socket is listed for clean-up should this server die.
    const entry = { p: program, socketId: socket.id, userUID: member.userUID, displayName: member.displayName };
    const registered = deps.nodes.addSocket(entry).catch((err: unknown) => deps.log.warn({ err }, 'socket registry failed'));
    deps.log.info({ program, socketId: socket.id, userUID: member.userUID, transport: socket.conn.transport.name, recovered }, 'connected');
    deps.metrics.connected(program);
    socket.on('disconnect', (reason) => {
      deps.metrics.disconnected(program);
      const departure = departureOf(reason, line.finalCode);
      deps.log.info({ program, socketId: socket.id, userUID: member.userUID, reason, departure }, 'disconnected');
      // State that dies with this process needs no clean-up broadcasts while it shuts down.
      if (this.closing && !deps.store.shared) return;
      // Refused before its session opened: the session (held, with its deadline) is left as it was.
      if (line.refused) {
        void Promise.resolve(registered).then(() => deps.nodes.removeSocket(entry)).catch(() => {});
        return;
      }
      const work: Promise<void> = Promise.resolve(registered)
        .then(() => (holdsSession(departure, deps.service.graceMs ?? 0) ? this.hold(program, member, entry, line, departure) : this.cleanUp(program, member, entry)))
        .finally(() => this.cleanUps.delete(work));
      this.cleanUps.add(work);
    });
    deps
      .activate(program)
      .catch((err: unknown) => {
        deps.metrics.backendError('database');
        deps.log.error({ err, program }, 'restoring persistent rooms failed');
      })
      .then(() => (recovered ? this.admitRecovered(socket, line) : true))
      .then(async (admitted) => {
        if (!admitted) return;
        const resumed = await deps.service.openSession(program, member, (deps.service.graceMs ?? 0) > 0 ? line.conn : undefined);
        await this.welcome(socket, program, resumed, recovered);
      })
      .catch((err: unknown) => deps.log.error({ err, program, socketId: socket.id }, 'opening session failed'));
  }

  /**
   * What a socket hears once its session is open. A fresh one: `loadRooms`. One that socket.io
   * recovered into its seat: nothing (the adapter replayed what it missed). Any other resumed
   * one: routed to its room, then `loadRooms`, `session`, the missed chat and the live aggro.
   */
  private async welcome(socket: OnAirSocket, program: string, resumed: Resumed | null, recovered: boolean): Promise<void> {
    const { service } = this.deps;
    if (recovered) {
      const inRoom = resumed?.roomId ? socket.rooms.has(roomChannel(resumed.roomId)) : false;
      if (resumed && (resumed.roomId === null ? !this.inRoomChannel(socket) : inRoom)) return;
      // Recovered into channels its session no longer matches (the grace ran out, or it ended):
      // routed where the session is, and told as a fresh or resumed socket would be.
      for (const r of socket.rooms) if (r !== socket.id && r !== AUTH_CLIENTS) void socket.leave(r);
      if (!isSeedProtocol(socket)) void socket.join(AUTH_CLIENTS);
      void socket.join(LobbyFeed.lobbyChannel(socket));
    }
    const rooms = await service.listRooms(program);
    lobbyCatchUp(socket);
    socket.emit('loadRooms', rooms);
    if (resumed) await service.catchUp(program, socket.id, resumed);
  }

  /** A recovered socket passes the handshake's checks now (socket.io skipped its middleware);
   * refused, it is told why when the code is a notice's, and disconnected for good. */
  private async admitRecovered(socket: OnAirSocket, line: Line): Promise<boolean> {
    const refusal = this.deps.recheck ? await this.deps.recheck(socket).catch(() => null) : null;
    if (!refusal) return true;
    line.refused = true;
    this.deps.log.info({ program: socket.data.program, socketId: socket.id, code: refusal.code }, 'recovered socket refused');
    const notice = refusal.code === 'PROGRAM_NOT_ON_AIR' ? 'PROGRAM_ENDED' : refusal.code;
    if (notice === 'KICKED' || notice === 'BANNED' || notice === 'PROGRAM_ENDED' || notice === 'SERVER_SHUTDOWN') {
      // With recovery on, an emit reaches the socket through the adapter (with Redis, after its
      // stream write): the disconnect waits until the notice is on the socket's connection.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 1000);
        function done(): void {
          clearTimeout(timer);
          socket.offAnyOutgoing(sent);
          resolve();
        }
        function sent(event: string): void {
          if (event === 'system') done();
        }
        socket.onAnyOutgoing(sent);
        socket.emit('system', { code: notice, message: refusal.message });
      });
    }
    socket.disconnect(true);
    return false;
  }

  private inRoomChannel(socket: OnAirSocket): boolean {
    for (const r of socket.rooms) if (r.startsWith(roomChannel(''))) return true;
    return false;
  }

  /** Notes when the client was last heard from, and the final notices it is sent (through any
   * server: broadcasts reach the socket's outgoing listeners here). */
  private watchLine(socket: OnAirSocket, line: Line): void {
    socket.conn.on('packet', () => (line.lastHeard = this.now()));
    socket.onAnyOutgoing((event: string, notice?: { code?: string }) => {
      if (event === 'system' && typeof notice?.code === 'string' && FINAL_CODES.has(notice.code)) line.finalCode = notice.code;
    });
  }

  /** The socket went away unchosen: its session is held for the grace, and the socket is off
   * this server's list (the deadline now answers for it). */
  private async hold(program: string, member: Member, entry: SocketEntry, line: Line, departure: Departure): Promise<void> {
    // A silent line may have lost what was sent since it was last heard from (its last pong
    // answered a ping sent after what came before it). A closed one lost what was sent after it
    // closed, and what was written in the moment before its server noticed: the catch-up starts
    // a little earlier, and a message from just before the blip may come twice (same `id`).
    const since = departure === 'ping-timeout' ? line.lastHeard : this.now() - CLOSE_NOTICE_SLACK_MS;
    try {
      if (!(await this.deps.service.holdSession(program, member, line.conn, since))) {
        await this.cleanUp(program, member, entry);
        return;
      }
      await this.deps.nodes.removeSocket(entry);
      this.failedCleanUps.delete(member.socketId);
    } catch (err) {
      this.deps.log.error({ err, program, socketId: member.socketId }, 'holding a session failed; closing it instead');
      await this.cleanUp(program, member, entry);
    }
  }

  private async cleanUp(program: string, member: Member, entry: SocketEntry): Promise<void> {
    try {
      await this.deps.service.closeSession(program, member);
      await this.deps.nodes.removeSocket(entry);
      this.failedCleanUps.delete(member.socketId);
    } catch (err) {
      this.deps.log.error({ err, program, socketId: member.socketId }, 'disconnect clean-up failed; will retry');
      this.failedCleanUps.set(member.socketId, { program, member, entry });
      return;
    }
    await this.releaseIfIdle(program);
  }

  /** Release the programme here when no socket or handshake is left and the domain lets go of
   * it; never while shutting down (shutdown releases everything its own way). */
  async releaseIfIdle(program: string): Promise<void> {
    const { runtimes, service } = this.deps;
    if (this.closing || !runtimes.idle(program)) return;
    if (await service.releaseIfIdle(program)) runtimes.dispose(program);
  }

  startHousekeeping(): void {
    const { deps } = this;
    const touchEvery = Math.max(1, Math.round(Math.min(60_000, deps.stateIdleTtlMs / 4) / deps.housekeepingMs));
    let rounds = 0;
    this.housekeeping = setInterval(() => {
      rounds += 1;
      for (const { program, member, entry } of this.failedCleanUps.values()) void this.cleanUp(program, member, entry);
      for (const p of deps.runtimes.programs()) {
        if (deps.runtimes.idle(p)) void this.releaseIfIdle(p).catch(() => {});
        else if (rounds % touchEvery === 0) void deps.touch(p).catch(() => {});
      }
      if (!deps.store.shared) void this.releaseLeftovers().catch(() => {});
    }, deps.housekeepingMs).unref();
    deps.lobby?.start();
  }

  /** State of this process's own store that outlived its programme's runtime (cooldowns still
   * running when the last socket left): nothing else looks at it again, so it is let go here
   * once it has run out. A programme that came back has its runtime and is left alone. */
  private async releaseLeftovers(): Promise<void> {
    for (const p of await this.deps.store.programs()) {
      if (!this.closing && !this.deps.runtimes.has(p)) await this.deps.service.releaseIfIdle(p);
    }
  }

  /** Shutdown has begun: no more releases; own state's sockets need no clean-up broadcasts. */
  beginClosing(): void {
    this.closing = true;
  }

  /** Settles when every clean-up under way has (successfully or not). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.cleanUps]);
  }

  stopHousekeeping(): void {
    if (this.housekeeping) clearInterval(this.housekeeping);
    this.housekeeping = null;
    this.deps.lobby?.stop();
  }
}
