/**
 * `createApp` assembles a complete onair server from parts that are already open (the state
 * backends, the database, the record sink, the TLS material: `compose.ts` opens them), without
 * listening, so tests build as many as they need. It makes no connection and reads no file.
 *
 * Each part is made after everything it needs, so nothing here refers forward: the socket.io
 * server is attached to its HTTP server only once the plain HTTP routes are in place (engine.io
 * wraps the listeners it finds), and `ProgrammeRuntimes.serve()` opens the programmes to clients
 * only once the handshake and the connection handler exist.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { IdSource } from '../domain/ids.js';
import type { RecordSink } from '../domain/ports/records.js';
import type { Programme } from '../domain/schedule.js';
import { Schedule } from '../domain/schedule.js';
import { OnAirService } from '../domain/service.js';
import { PasswordGuard } from '../domain/password-guard.js';
import { ClusterSupervisor } from '../domain/supervisor.js';
import { OnAirBoard } from '../app-api/board.js';
import { ProgrammesFeed } from '../app-api/feed.js';
import { appHandler } from '../app-api/handler.js';
import { identifier } from '../app-api/identity.js';
import { appOpenApiDocument } from '../app-api/openapi.js';
import { appRoutes } from '../app-api/routes.js';
import { adminHandler, adminRoutes } from '../operator/admin-api.js';
import { MessageRate } from '../operator/message-rate.js';
import type { ServerMetrics } from '../operator/metrics.js';
import { openApiDocument } from '../operator/openapi.js';
import { Programmes } from '../operator/programmes.js';
import { createSchemas, PROGRAMS_NAMESPACE, SCHEDULE_UID_PATTERN } from '../protocol/index.js';
import type { RecordStore } from '../records/index.js';
import type { StateStore } from '../domain/ports/store.js';
import type { Authenticator } from '../transport/auth.js';
import type { Backends } from './backends.js';
import { clientAddress } from '../transport/client-address.js';
import { runCloseSteps, type CloseStep } from './close-steps.js';
import { ConnectGate } from '../transport/connect-gate.js';
import { Connections } from '../transport/connections.js';
import { LobbyFeed } from '../transport/lobby-feed.js';
import { SocketIoDelivery } from '../transport/delivery.js';
import { createHandlers } from '../transport/handlers.js';
import { Moderation } from '../domain/moderation/moderation.js';
import { FilterSync } from '../operator/filter-sync.js';

/** Recent messages per programme that can be removed or reported by id: at 100 messages a
 * second, the last 100 seconds. */
const MESSAGE_INDEX_SIZE = 10_000;
import { Handshake } from '../transport/handshake.js';
import { httpRoutes } from './http-routes.js';
import { originWarning } from '../transport/origin.js';
import { createSocketServer } from '../transport/socket-server.js';
import { ProgrammeRuntimes } from '../transport/programme-runtime.js';
import { HandshakeRefusals } from '../transport/refusal-log.js';
import { spreadShutdown } from '../transport/shutdown-spread.js';
import { slimRequests } from '../transport/slim-request.js';
import { coalesceWrites } from '../transport/write-coalescing.js';
import { capSocketBuffers } from '../transport/socket-buffer.js';
import type { TlsMaterial } from './tls.js';
import type { OnAirServer } from '../transport/types.js';

/** Everything a server is made of that is opened outside it. The app owns what it is handed:
 * `close()` closes the backends, the database and the record sink. */
export interface AppParts {
  config: Config;
  log: Logger;
  clock: Clock;
  ids: IdSource;
  metrics: ServerMetrics;
  backends: Backends;
  /** The database (schedule, persistent rooms, bans, records). */
  recordStore: RecordStore;
  /** Where finished aggros go. */
  records: RecordSink;
  authenticator: Authenticator;
  tls: TlsMaterial | null;
  /** The programmes of `SCHEDULE_FILE`, written to the database at start. */
  scheduleFile: readonly Programme[];
}

export interface OnAirApp {
  readonly io: OnAirServer;
  /** Lifecycle notices: `program-released` (scheduleUID) when an idle programme is dropped;
   * `close-step` (its name) as each step of `close()` begins. */
  readonly events: EventEmitter;
  readonly httpServer: HttpServer;
  readonly service: OnAirService;
  /** The state backend, for reading what the service decided. */
  readonly store: StateStore;
  readonly metrics: ServerMetrics;
  readonly programmes: Programmes;
  readonly tls: TlsMaterial | null;
  /** The names of `close()`'s steps, in the order they run. */
  readonly closeSteps: readonly string[];
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: tell every socket, record live aggros, disconnect, release. */
  close(): Promise<void>;
}

export async function createApp(parts: AppParts): Promise<OnAirApp> {
  const { config, log, clock, metrics, backends, recordStore, records, tls } = parts;
  const { store } = backends;
  const events = new EventEmitter();
  const netLog = log.child({ module: 'connections' });
  let closing = false;

  if (parts.authenticator.mode === 'dev') log.warn('AUTH_MODE=dev: identities are taken from the handshake unverified; never use this in production');
  const originNotice = originWarning(config);
  if (originNotice) log.warn(originNotice);

  // ---- transport: the budget in front of socket.io, then socket.io itself (not attached yet)
  const refusals = new HandshakeRefusals(metrics, netLog, config.refusalLogIntervalMs, clock);
  const gate = new ConnectGate({
    handshakeRate: config.handshakeRate,
    handshakeBurst: config.handshakeBurst,
    refusalsPerConnection: config.handshakeRefusalsPerConnection,
    clock,
    address: (req, fallback) => clientAddress(req, fallback, config.trustProxy),
    validName: (nsp) => nsp === PROGRAMS_NAMESPACE || SCHEDULE_UID_PATTERN.test(nsp.slice(1)),
    onRateLimited: (scope) => metrics.rateLimited(scope),
    onRefused: (line, nsp, code, message) => refusals.refused(line.address, nsp.slice(1), code, message),
    onClosed: (line) => refusals.closed(line.address, line.refused),
  });
  const io = createSocketServer({ config, adapter: backends.adapter, gate, metrics });
  const runtimes = new ProgrammeRuntimes(io, { metrics, events, log: netLog });
  const delivery = new SocketIoDelivery(runtimes);
  // In memory the store announces through its broker to this delivery; Redis needs nothing here.
  backends.announceThrough(delivery);
  metrics.watchProgrammes({
    programs: () => runtimes.programs(),
    rooms: (p) => store.roomCount(p),
    liveAggros: async (p) => (await store.liveAggros(p)).length,
  });

  // ---- moderation (spec 9): the word filter kept from the database, the rules over shared state
  const filters = new FilterSync(recordStore.moderation, config.filterRefreshMs, log.child({ module: 'filters' }));
  const moderation = new Moderation(
    {
      store: backends.moderation,
      state: store,
      records: recordStore.moderation,
      delivery,
      clock,
      log: log.child({ module: 'moderation' }),
      filter: () => filters.current,
    },
    { duplicateWindowMs: config.duplicateWindowMs, reportHideThreshold: config.reportHideThreshold, messageIndexSize: MESSAGE_INDEX_SIZE },
  );

  // ---- domain
  const schedule = new Schedule(config.scheduleMode);
  const passwords = new PasswordGuard(config.passwords, clock, metrics);
  metrics.watch('passwordQueue', () => passwords.queued);
  // The operator console's messages per second, counted beside the metrics.
  const messageRate = new MessageRate(clock);
  const service = new OnAirService(
    {
      store,
      delivery,
      records,
      clock,
      ids: parts.ids,
      log: log.child({ module: 'domain' }),
      titleBroadOf: (p: string) => schedule.titleBroad(p),
      observer: messageRate.observe(metrics),
      passwords,
      deadlines: backends.deadlines,
      guard: moderation,
      audit: recordStore.moderation,
    },
    {
      roomsPerProgramMax: config.roomsPerProgramMax,
      aggroTtlMs: config.aggroTtlMs,
      aggroCooldownMs: config.aggroCooldownMs,
      batchIntervalMs: config.batchIntervalMs,
      kickCooldownMs: config.kickCooldownMs,
      historySize: config.historySize,
      reconnectGraceMs: config.reconnectGraceMs,
      removalBlockMs: config.roomRemovalBlockMs,
    },
  );
  // This server declared dead while alive: its sockets' shared state was cleaned up elsewhere,
  // so they reconnect to be consistent again.
  const supervisor = backends.supervise
    ? new ClusterSupervisor(
        service,
        backends.nodes,
        backends.deadlines,
        clock,
        log.child({ module: 'cluster' }),
        {
          nodeTimeoutMs: config.nodeTimeoutMs,
          tickMs: Math.max(50, Math.min(1000, Math.floor(config.nodeTimeoutMs / 3))),
          graceMs: Math.max(config.batchIntervalMs * 2, 250),
        },
        () => delivery.disconnectHere(),
      )
    : null;

  // ---- operator surface
  const programmes = new Programmes({
    schedule,
    records: recordStore,
    service,
    delivery,
    clock,
    log: log.child({ module: 'programmes' }),
    served: runtimes,
    refreshMs: config.scheduleRefreshMs,
  });
  const routes = adminRoutes({ roomMaxLimit: config.roomMaxLimit });
  const document = openApiDocument(routes, '1');
  const admin = config.adminToken
    ? adminHandler(
        {
          token: config.adminToken,
          moderators: config.moderators,
          moderation,
          filters,
          service,
          state: store,
          records: recordStore,
          programmes,
          clock,
          log: log.child({ module: 'admin' }),
          roomMaxLimit: config.roomMaxLimit,
          messageRate,
          activePrograms: () => store.programs(),
          openapi: () => document,
        },
        routes,
      )
    : null;

  // ---- the app's surface: programmes on air (from memory) and the records of aggros
  const board = new OnAirBoard({
    programmes: () => schedule.list(),
    counts: { viewers: (p) => store.sessionCount(p), rooms: (p) => store.roomCount(p) },
    clock,
    log: log.child({ module: 'app-api' }),
    intervalMs: Math.max(config.onAirRefreshMs, config.batchIntervalMs),
    upcomingMax: 20,
  });
  const appRouteTable = appRoutes();
  const appDocument = appOpenApiDocument(appRouteTable, '1');
  const app = appHandler(
    {
      board,
      records: recordStore,
      onAirMaxAgeS: Math.max(1, Math.ceil(Math.max(config.onAirRefreshMs, config.batchIntervalMs) / 1000)),
      openapi: () => appDocument,
    },
    appRouteTable,
    {
      corsOrigins: config.corsOrigins,
      rate: config.appApiRate,
      burst: config.appApiBurst,
      clock,
      address: (req) => clientAddress(req, req.socket.remoteAddress ?? '', config.trustProxy),
      identify: identifier(parts.authenticator),
      log: log.child({ module: 'app-api' }),
      onRateLimited: () => metrics.rateLimited('app'),
    },
  );

  // ---- sockets: their handlers, their life, their handshake
  const lobby = new LobbyFeed({ service, runtimes, log: netLog });
  const attachHandlers = createHandlers({
    lobby,
    service,
    moderation,
    schemas: createSchemas({ roomMaxLimit: config.roomMaxLimit, chatMaxLength: config.chatMaxLength }),
    clock,
    log: log.child({ module: 'handlers' }),
    eventRate: config.eventRate,
    eventBurst: config.eventBurst,
    loadRate: config.loadRate,
    loadBurst: config.loadBurst,
    metrics,
  });
  const connections = new Connections({
    lobby,
    service,
    store,
    nodes: backends.nodes,
    runtimes,
    activate: (p) => programmes.activate(p),
    attachHandlers,
    touch: backends.touch,
    metrics,
    log: netLog,
    housekeepingMs: config.housekeepingMs,
    stateIdleTtlMs: config.stateIdleTtlMs,
    clock,
    // Made just below (it needs `connections.releaseIfIdle`); called only once sockets connect.
    recheck: (socket) => handshake.recheck(socket),
  });
  const handshake = new Handshake({
    gate,
    authenticator: parts.authenticator,
    records: recordStore,
    service,
    admits: (p) => programmes.admits(p),
    closing: () => closing,
    releaseIfIdle: (p) => connections.releaseIfIdle(p),
    refusals,
    metrics,
    clock,
    trustProxy: config.trustProxy,
    log: netLog,
  });

  // ---- HTTP: plain routes first, then socket.io in front of them
  const httpServer: HttpServer = tls
    ? (createHttpsServer({
        key: tls.key,
        cert: tls.cert,
        minVersion: 'TLSv1.2',
        // Returning clients (a blip, the next programme, a dead server's clients coming to this
        // one with shared TLS_TICKET_KEYS) resume with a ticket: no certificate signature to make.
        // TLS 1.3 resumption still does a fresh ECDHE (psk_dhe_ke), so forward secrecy holds.
        sessionTimeout: config.tlsSessions.timeoutS,
        ...(config.tlsSessions.ticketKeys ? { ticketKeys: config.tlsSessions.ticketKeys } : {}),
      }) as unknown as HttpServer)
    : createHttpServer();
  httpServer.on(
    'request',
    httpRoutes({
      health: {
        ready: async () => ({
          state: await store.ping().catch(() => false),
          database: await recordStore.ping().catch(() => false),
          records: records.writable?.() ?? true,
        }),
        closing: () => closing,
      },
      metrics: () => metrics.text(),
      ...(admin ? { admin } : {}),
      app,
    }),
  );
  // engine.io wraps the request listeners it finds, so the routes above never see (and never
  // answer) a socket.io request.
  io.attach(httpServer);
  gate.watch(io);
  capSocketBuffers(io.engine, {
    maxBytes: config.maxSocketBufferBytes,
    onOverflow: ({ id, transport, bytes, address }) => {
      metrics.socketOverflow(transport);
      netLog.warn({ engineId: id, transport, bytes, address, max: config.maxSocketBufferBytes }, 'client stopped reading: queued bytes over MAX_SOCKET_BUFFER_BYTES, connection cut');
    },
  });
  // One TLS write per socket per turn (write-coalescing.ts).
  coalesceWrites(io.engine);
  // Last of the engine's 'connection' listeners: the ones above see the request itself.
  slimRequests(io.engine);
  runtimes.serve({
    admitNew: handshake.admitNew,
    setup: (runtime) => {
      handshake.install(runtime);
      connections.serve(runtime);
    },
  });
  const feed = new ProgrammesFeed(io, board);

  // ---- start
  await supervisor?.start();
  await filters.start();
  await programmes.start(parts.scheduleFile);
  await board.start();
  connections.startHousekeeping();

  const steps = closeSteps({
    parts,
    beginClosing: () => {
      closing = true;
      connections.beginClosing();
    },
    httpServer,
    io,
    runtimes,
    delivery,
    service,
    connections,
    programmes,
    filters,
    supervisor,
    feed,
    board,
  });
  let closed: Promise<void> | null = null;

  return {
    io,
    events,
    httpServer,
    service,
    store,
    metrics,
    programmes,
    tls,
    closeSteps: steps.map((s) => s.name),
    async listen() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const address = httpServer.address() as AddressInfo;
      log.info({ port: address.port, host: config.host, tls: Boolean(tls), path: config.socketPath }, 'listening');
      return address;
    },
    close() {
      closed ??= runCloseSteps(steps, log, (name) => events.emit('close-step', name)).then(() => log.info('server closed'));
      return closed;
    },
  };
}

interface Assembled {
  parts: AppParts;
  /** From now on handshakes are refused and `/readyz` says closing. */
  beginClosing(): void;
  httpServer: HttpServer;
  io: OnAirServer;
  runtimes: ProgrammeRuntimes;
  delivery: SocketIoDelivery;
  service: OnAirService;
  connections: Connections;
  programmes: Programmes;
  filters: FilterSync;
  supervisor: ClusterSupervisor | null;
  feed: ProgrammesFeed;
  board: OnAirBoard;
}

/** The server's shutdown, step by step; each step may rely on the ones before it (the order is
 * asserted by `test/unit/close-steps.test.ts`). */
function closeSteps(a: Assembled): CloseStep[] {
  const { config, log, backends, records, recordStore } = a.parts;
  const { httpServer, io, service, connections } = a;
  const shared = backends.shared;
  let spread: ReturnType<typeof spreadShutdown> | null = null;
  let feedGone: Promise<void> | null = null;
  return [
    {
      name: 'refuse new connections',
      run: () => {
        a.beginClosing();
        httpServer.close(); // no new connections; existing ones are handled below
      },
    },
    {
      name: 'tell every socket',
      run: () => {
        spread = spreadShutdown(a.runtimes.sockets(), config.shutdownSpreadMs);
        log.info({ told: spread.told.length, seed: spread.seed, spreadMs: config.shutdownSpreadMs }, 'shutting down: sockets told, seed transports closing over the spread');
      },
    },
    // Home screens come back on the other servers over the same spread.
    { name: 'send the programmes feed elsewhere', run: () => void (feedGone = a.feed.release(config.shutdownSpreadMs)) },
    // State of its own dies with this process: its live aggros are ended and recorded.
    { name: 'stop the domain', run: () => service.stop(!shared) },
    { name: 'wait out the spread', run: () => Promise.all([spread && Promise.all([spread.disconnectTold(), spread.done]), feedGone]) },
    {
      // Seed sockets were served while they waited: aggros they began meanwhile die with this
      // process's state, so they are recorded too.
      name: 'record what the spread began',
      run: () => (spread && spread.seed > 0 && !shared ? service.stop(true) : undefined),
    },
    { name: 'disconnect the rest', run: () => a.delivery.disconnectHere() },
    { name: 'finish disconnect clean-ups', run: () => connections.drain() },
    { name: 'stop housekeeping', run: () => connections.stopHousekeeping() },
    { name: 'stop the schedule', run: () => Promise.all([a.programmes.stop(), a.filters.stop()]) },
    {
      name: 'stop the programmes board',
      run: () => {
        a.feed.stop();
        return a.board.stop();
      },
    },
    { name: 'leave the cluster', run: () => a.supervisor?.stop() },
    {
      name: 'close socket.io',
      run: async () => {
        await new Promise<void>((resolve) => io.close(() => resolve()));
        httpServer.closeAllConnections();
      },
    },
    // The records first: they may still need the database and Redis.
    { name: 'close the records', run: () => records.close() },
    { name: 'close the backends', run: () => Promise.allSettled([backends.close(), recordStore.close()]) },
  ];
}
