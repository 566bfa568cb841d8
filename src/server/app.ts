/**
 * `createApp` builds a complete onair server without listening, so tests build as many as they
 * need; `main.ts` reads the configuration and listens.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { Config } from '../config/config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { randomIds, type IdSource } from '../domain/ids.js';
import type { Identity, Member } from '../domain/model.js';
import type { RecordSink } from '../domain/records.js';
import { openRecordSink, openRecordStore, type RecordStore } from '../records/index.js';
import { Schedule } from '../domain/schedule.js';
import { adminHandler, adminRoutes } from '../operator/admin-api.js';
import { ServerMetrics } from '../operator/metrics.js';
import { openApiDocument } from '../operator/openapi.js';
import { Programmes } from '../operator/programmes.js';
import { loadScheduleFile } from '../operator/schedule-file.js';
import { OnAirService } from '../domain/service.js';
import { PasswordGuard } from '../domain/password-guard.js';
import { ClusterSupervisor } from '../domain/supervisor.js';
import { createSchemas, ConnectErrorCode, SCHEDULE_UID_PATTERN } from '../protocol/index.js';
import type { SocketEntry } from '../state/cluster.js';
import type { StateStore } from '../state/store.js';
import { createBackends, ownBackends, type Backends } from './backends.js';
import { createAuthenticator, HandshakeError, type Authenticator, type HandshakeInput } from './auth.js';
import { clientAddress } from './client-address.js';
import { AUTH_CLIENTS, LOBBY } from './channels.js';
import { isSeedProtocol } from './client-kind.js';
import { ConnectGate } from './connect-gate.js';
import { SocketIoDelivery } from './delivery.js';
import { createHandlers } from './handlers.js';
import { capSocketBuffers } from './socket-buffer.js';
import { spreadShutdown } from './shutdown-spread.js';
import { httpRoutes } from './http-routes.js';
import { NamespaceRegistry } from './namespaces.js';
import { RefusalLog } from './refusal-log.js';
import { originRefusal, originWarning } from './origin.js';
import { loadTls, type TlsMaterial } from './tls.js';
import type { OnAirNamespace, OnAirServer, OnAirSocket } from './types.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  /** State backend; in-memory when absent. */
  store?: StateStore;
  /** Where finished aggros go; the record store when absent. */
  records?: RecordSink;
  /** The database (schedule, persistent rooms, bans, records); opened from the configuration when absent. */
  recordStore?: RecordStore;
  clock?: Clock;
  ids?: IdSource;
  authenticator?: Authenticator;
}

export interface OnAirApp {
  readonly io: OnAirServer;
  /** Lifecycle notices: `program-released` (scheduleUID) when an idle programme is dropped. */
  readonly events: EventEmitter;
  readonly httpServer: HttpServer;
  readonly service: OnAirService;
  /** The state backend, for reading what the service decided. */
  readonly store: StateStore;
  readonly metrics: ServerMetrics;
  readonly programmes: Programmes;
  readonly tls: TlsMaterial | null;
  listen(): Promise<AddressInfo>;
  /** Graceful shutdown: tell every socket, record live aggros, disconnect, release. */
  close(): Promise<void>;
}


function refusal(code: ConnectErrorCode, message: string): Error & { data: { code: string; message: string } } {
  return Object.assign(new Error(code), { data: { code, message } });
}

export async function createApp(deps: AppDeps): Promise<OnAirApp> {
  const { config } = deps;
  const log = deps.log;
  const clock = deps.clock ?? systemClock;
  // Read before anything opens: a bad file stops the start.
  const fromFile = config.scheduleFile ? loadScheduleFile(config.scheduleFile) : [];
  // Set once the namespaces exist; the metrics read them at scrape time.
  let served: () => string[] = () => [];
  let storeRef: StateStore | null = null;
  const metrics = new ServerMetrics({
    programs: () => served(),
    rooms: async (p) => (storeRef ? (await storeRef.listRooms(p)).length : 0),
    liveAggros: async (p) => (storeRef ? (await storeRef.liveAggros(p)).length : 0),
  });
  const backends: Backends = deps.store
    ? ownBackends(deps.store)
    : await createBackends(config, clock, log, () => metrics.backendError('state'));
  const store = backends.store;
  storeRef = store;
  const sharedState = backends.shared;
  // The database: SQLite in DATA_DIR, or PostgreSQL with DATABASE_URL.
  const recordStore = deps.recordStore ?? (await openRecordStore(config));
  // Records the database cannot take wait in an outbox (Redis, else a journal in DATA_DIR).
  const ownRecords = deps.records ? null : openRecordSink(config, recordStore, { redis: backends.recordOutbox, log: log.child({ module: 'records' }), observer: metrics });
  if (ownRecords) metrics.watch('recordsPending', () => ownRecords.pending());
  const records: RecordSink = deps.records ?? ownRecords!;
  const schedule = new Schedule(config.scheduleMode);
  const authenticator = deps.authenticator ?? createAuthenticator(config.auth);
  if (authenticator.mode === 'dev') log.warn('AUTH_MODE=dev: identities are taken from the handshake unverified; never use this in production');

  const tls = await loadTls(config, log.child({ module: 'tls' }));
  const httpServer: HttpServer = tls
    ? (createHttpsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }) as unknown as HttpServer)
    : createHttpServer();

  let closing = false;
  const events = new EventEmitter();
  const allowedOrigin = (origin: string, host: string | undefined): boolean => {
    const refused = originRefusal(config, origin, host);
    if (refused) metrics.originRefused(refused);
    return !refused;
  };
  const originNotice = originWarning(config);
  if (originNotice) log.warn(originNotice);

  // Registered before socket.io attaches: engine.io wraps the listeners it finds, so these
  // routes never see (and never answer) a socket.io request.
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
      ...(config.adminToken ? { admin: (req, res, url) => admin?.(req, res, url) } : {}),
    }),
  );

  const io: OnAirServer = new Server(httpServer, {
    path: config.socketPath,
    transports: config.transports,
    maxHttpBufferSize: config.maxPayloadBytes,
    serveClient: false,
    ...(backends.adapter ? { adapter: backends.adapter } : {}),
    ...(config.corsOrigins ? { cors: { origin: config.corsOrigins === '*' ? '*' : config.corsOrigins } } : {}),
    // CORS does not cover WebSocket upgrades, so check the browser's Origin here for both.
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      if (origin && !allowedOrigin(origin, req.headers.host)) return cb(null, false);
      if (!gate.allowSession(req)) return cb('too many connection attempts, slow down', false);
      cb(null, true);
    },
  });

  capSocketBuffers(io.engine, {
    maxBytes: config.maxSocketBufferBytes,
    onOverflow: ({ id, transport, bytes, address }) => {
      metrics.socketOverflow(transport);
      log.warn({ module: 'connections', engineId: id, transport, bytes, address, max: config.maxSocketBufferBytes }, 'client stopped reading: queued bytes over MAX_SOCKET_BUFFER_BYTES, connection cut');
    },
  });
  const schemas = createSchemas({ roomMaxLimit: config.roomMaxLimit, chatMaxLength: config.chatMaxLength });
  const netLog = log.child({ module: 'connections' });
  const refusalLog = new RefusalLog(config.refusalLogIntervalMs, clock);
  /** Every refusal is counted; only a sample is logged (a flood would otherwise flood the log). */
  const reportRefusal = (address: string, program: string, code: ConnectErrorCode, message: string) => {
    metrics.refused(code);
    const sampled = refusalLog.sample(`${address}\0${code}`);
    if (sampled) netLog.info({ address, program, code, reason: message, suppressed: sampled.suppressed }, 'handshake refused');
  };
  const gate = new ConnectGate(io, {
    handshakeRate: config.handshakeRate,
    handshakeBurst: config.handshakeBurst,
    refusalsPerConnection: config.handshakeRefusalsPerConnection,
    clock,
    address: (req, fallback) => clientAddress(req, fallback, config.trustProxy),
    validName: (nsp) => SCHEDULE_UID_PATTERN.test(nsp.slice(1)),
    onRateLimited: (scope) => metrics.rateLimited(scope),
    onRefused: (line, nsp, code, message) => reportRefusal(line.address, nsp.slice(1), code, message),
    onClosed: (line) => {
      metrics.handshakeFloodClosed();
      const sampled = refusalLog.sample(`${line.address}\0closed`);
      if (sampled) netLog.info({ address: line.address, refused: line.refused, suppressed: sampled.suppressed }, 'connection closed: too many refused handshakes');
    },
  });

  type Admission = { identity: Identity } | { code: ConnectErrorCode; message: string };
  const notOnAir: Admission = { code: 'PROGRAM_NOT_ON_AIR', message: 'this programme is not on air' };
  /** The handshake checks after the rate limit (which the gate applies to every CONNECT). */
  async function admission(program: string, input: HandshakeInput): Promise<Admission> {
    if (closing) return { code: 'SERVER_SHUTDOWN', message: 'this server is shutting down; connect again in a moment' };
    if (!programmes.admits(program)) return notOnAir;
    let identity: Identity;
    try {
      identity = await authenticator.authenticate(input);
    } catch (err) {
      if (err instanceof HandshakeError) return { code: err.code, message: err.message };
      netLog.warn({ err }, 'authenticator failed');
      return { code: 'AUTH_INVALID', message: 'authentication failed' };
    }
    if (await banned(identity.userUID, program)) return { code: 'BANNED', message: 'you are banned from this programme' };
    // As with bans, a backend that is away lets the handshake through (chat stays up).
    const kickedMs = await service.kickedFor(program, identity.userUID).catch(() => {
      metrics.backendError('state');
      return 0;
    });
    if (kickedMs > 0) return { code: 'KICKED', message: `you were removed from this programme; try again in ${Math.ceil(kickedMs / 1000)} s` };
    // Checked again: the programme may have gone off air while this handshake waited, and
    // its end only disconnects the sockets that were there.
    if (!programmes.admits(program)) return notOnAir;
    return { identity };
  }

  /** A programme with no namespace here gets one only for a handshake that passed. */
  const admitNew = (program: string, auth: Record<string, unknown>, accept: () => void) => {
    const line = gate.current();
    // Not from a client's packet: its middleware decides, on the namespace made for it.
    if (!line) return accept();
    const nsp = `/${program}`;
    const query = (line.conn.request as { _query?: Record<string, unknown> })._query ?? {};
    void admission(program, { auth, query, headers: line.conn.request.headers }).then(
      (result) => {
        if ('code' in result) return gate.refuse(line, nsp, result.code, result.message);
        // Gone while it was checked: socket.io would make the namespace and then drop the socket.
        if (line.conn.readyState !== 'open') return;
        gate.checked(line, nsp, result.identity);
        accept();
      },
      (err: unknown) => {
        netLog.error({ err, program }, 'handshake check failed');
        gate.refuse(line, nsp, 'AUTH_INVALID', 'authentication failed');
      },
    );
  };

  // Set below, once the registry that the delivery needs exists.
  let service!: OnAirService;
  const disconnects = new Set<Promise<void>>();

  const namespaces: NamespaceRegistry = new NamespaceRegistry(io, (nsp: OnAirNamespace, program: string) => {
    nsp.use((socket, next) => {
      namespaces.handshakeStarted(program);
      let settled = false;
      const done = (err?: Error) => {
        if (settled) return;
        settled = true;
        namespaces.handshakeEnded(program);
        next(err);
      };
      const address = clientAddress(socket.request, socket.handshake.address, config.trustProxy);
      const line = gate.lineOf(socket.conn);
      const refuse = (code: ConnectErrorCode, message: string) => {
        reportRefusal(address, program, code, message);
        if (line) gate.refused(line);
        done(refusal(code, message));
        // A namespace made for this handshake alone goes at once, not at the next housekeeping;
        // after socket.io has sent the refusal (a tick away), so it cleans up a namespace it still has.
        setImmediate(() => void releaseIfIdle(program).catch(() => {}));
      };
      // Checked by `admitNew` just before this namespace was made for it.
      const checked = line ? gate.takeChecked(line, nsp.name) : undefined;
      const decided: Promise<Admission> = checked
        ? Promise.resolve(programmes.admits(program) ? { identity: checked } : notOnAir)
        : admission(program, {
            auth: (socket.handshake.auth ?? {}) as Record<string, unknown>,
            query: socket.handshake.query as Record<string, unknown>,
            headers: socket.handshake.headers,
          });
      decided.then(
        (result) => {
          if ('code' in result) return refuse(result.code, result.message);
          socket.data.identity = result.identity;
          socket.data.program = program;
          done();
        },
        (err: unknown) => {
          netLog.error({ err, program }, 'handshake check failed');
          refuse('AUTH_INVALID', 'authentication failed');
        },
      );
    });
    nsp.on('connection', (socket: OnAirSocket) => onConnection(socket, program));
  }, admitNew);

  served = () => namespaces.programs();

  /** Bans are read from the database at each handshake, so a ban made on any server holds at
   * once everywhere. Should the database be away, the handshake goes ahead (chat stays up). */
  async function banned(userUID: string, program: string): Promise<boolean> {
    try {
      return (await recordStore.findBan(userUID, program, clock.now())) !== null;
    } catch (err) {
      metrics.backendError('database');
      netLog.warn({ err, program }, 'ban check failed; letting the handshake through');
      return false;
    }
  }

  const delivery = new SocketIoDelivery(namespaces);
  backends.announceThrough(delivery);
  const serviceDeps = {
    store,
    delivery,
    records,
    clock,
    ids: deps.ids ?? randomIds,
    log: log.child({ module: 'domain' }),
    titleBroadOf: (p: string) => schedule.titleBroad(p),
    observer: metrics,
    passwords: new PasswordGuard(config.passwords, clock, metrics),
    deadlines: backends.deadlines,
  };
  metrics.watch('passwordQueue', () => serviceDeps.passwords.queued);
  service = new OnAirService(serviceDeps, {
    roomsPerProgramMax: config.roomsPerProgramMax,
    aggroTtlMs: config.aggroTtlMs,
    aggroCooldownMs: config.aggroCooldownMs,
    batchIntervalMs: config.batchIntervalMs,
    kickCooldownMs: config.kickCooldownMs,
  });
  const supervisor =
    backends.supervise
      ? new ClusterSupervisor(service, backends.nodes, backends.deadlines, clock, log.child({ module: 'cluster' }), {
          nodeTimeoutMs: config.nodeTimeoutMs,
          tickMs: Math.max(50, Math.min(1000, Math.floor(config.nodeTimeoutMs / 3))),
          graceMs: Math.max(config.batchIntervalMs * 2, 250),
        }, () => {
          for (const p of namespaces.programs()) namespaces.get(p).local.disconnectSockets(true);
        })
      : null;
  await supervisor?.start();
  const programmes = new Programmes({
    schedule,
    records: recordStore,
    service,
    clock,
    log: log.child({ module: 'programmes' }),
    served: () => namespaces.programs(),
    namespace: (p) => namespaces.get(p),
    refreshMs: config.scheduleRefreshMs,
  });
  await programmes.start(fromFile);
  const routes = adminRoutes({ roomMaxLimit: config.roomMaxLimit });
  const document = openApiDocument(routes, '1');
  const admin = config.adminToken
    ? adminHandler(
        {
          token: config.adminToken,
          service,
          state: store,
          records: recordStore,
          programmes,
          clock,
          log: log.child({ module: 'admin' }),
          roomMaxLimit: config.roomMaxLimit,
          activePrograms: () => store.programs(),
          openapi: () => document,
        },
        routes,
      )
    : null;
  const attachHandlers = createHandlers({
    service,
    schemas,
    clock,
    log: log.child({ module: 'handlers' }),
    eventRate: config.eventRate,
    eventBurst: config.eventBurst,
    loadRate: config.loadRate,
    loadBurst: config.loadBurst,
    metrics,
  });

  /** Clean-ups of this server's own disconnected sockets that failed (a backend was away);
   * housekeeping tries them again, so no seat or session is left behind. */
  const failedCleanUps = new Map<string, { program: string; member: Member; entry: SocketEntry }>();

  async function cleanUp(program: string, member: Member, entry: SocketEntry): Promise<void> {
    try {
      await service.closeSession(program, member);
      await backends.nodes.removeSocket(entry);
      failedCleanUps.delete(member.socketId);
    } catch (err) {
      netLog.error({ err, program, socketId: member.socketId }, 'disconnect clean-up failed; will retry');
      failedCleanUps.set(member.socketId, { program, member, entry });
      return;
    }
    await releaseIfIdle(program);
  }

  async function releaseIfIdle(program: string): Promise<void> {
    if (closing || !namespaces.isEmpty(program)) return;
    if ((await service.releaseIfIdle(program)) && namespaces.isEmpty(program)) {
      namespaces.release(program);
      programmes.released(program);
      metrics.released(program);
      netLog.debug({ program }, 'programme released');
      events.emit('program-released', program);
    }
  }

  // Housekeeping: retry failed clean-ups, release programmes this server no longer serves (a
  // deadline or a dead server's clean-up may have opened one), and keep the shared keys of the
  // programmes it does serve from expiring.
  const touchEvery = Math.max(1, Math.round(Math.min(60_000, config.stateIdleTtlMs / 4) / config.housekeepingMs));
  let rounds = 0;
  const housekeeping = setInterval(() => {
    rounds += 1;
    for (const { program, member, entry } of failedCleanUps.values()) void cleanUp(program, member, entry);
    for (const p of namespaces.programs()) {
      if (namespaces.isEmpty(p)) void releaseIfIdle(p).catch(() => {});
      else if (rounds % touchEvery === 0) void backends.touch(p).catch(() => {});
    }
    if (!sharedState) void releaseLeftovers().catch(() => {});
  }, config.housekeepingMs).unref();

  /** State of this process's own store that outlived its programme's namespace (cooldowns still
   * running when the last socket left): nothing else looks at it again, so it is let go here
   * once it has run out. A programme that came back has its namespace and is left alone. */
  async function releaseLeftovers(): Promise<void> {
    for (const p of await store.programs()) {
      if (!closing && !namespaces.has(p)) await service.releaseIfIdle(p);
    }
  }

  function onConnection(socket: OnAirSocket, program: string): void {
    const member: Member = attachHandlers(socket);
    void socket.join(isSeedProtocol(socket) ? [LOBBY] : [LOBBY, AUTH_CLIENTS]);
    // With many servers, the socket is listed for clean-up should this server die.
    const entry = { p: program, socketId: socket.id, userUID: member.userUID, displayName: member.displayName };
    const registered = backends.nodes.addSocket(entry).catch((err: unknown) => netLog.warn({ err }, 'socket registry failed'));
    netLog.info({ program, socketId: socket.id, userUID: member.userUID, transport: socket.conn.transport.name }, 'connected');
    metrics.connected(program);
    socket.on('disconnect', (reason) => {
      metrics.disconnected(program);
      netLog.info({ program, socketId: socket.id, userUID: member.userUID, reason }, 'disconnected');
      // State that dies with this process needs no clean-up broadcasts while it shuts down.
      if (closing && !sharedState) return;
      const work: Promise<void> = Promise.resolve(registered)
        .then(() => cleanUp(program, member, entry))
        .finally(() => disconnects.delete(work));
      disconnects.add(work);
    });
    programmes
      .activate(program)
      .catch((err: unknown) => {
        metrics.backendError('database');
        netLog.error({ err, program }, 'restoring persistent rooms failed');
      })
      .then(() => service.openSession(program, member))
      .then(() => service.listRooms(program))
      .then(
        (rooms) => socket.emit('loadRooms', rooms),
        (err: unknown) => netLog.error({ err, program, socketId: socket.id }, 'opening session failed'),
      );
  }

  let closed: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing = true;
    httpServer.close(); // no new connections; existing ones are handled below
    const programs = namespaces.programs();
    const spread = spreadShutdown(programs.flatMap((p) => [...namespaces.get(p).sockets.values()]), config.shutdownSpreadMs);
    log.info({ told: spread.told.length, seed: spread.seed, spreadMs: config.shutdownSpreadMs }, 'shutting down: sockets told, seed transports closing over the spread');
    await service.stop(!sharedState);
    await Promise.all([spread.disconnectTold(), spread.done]);
    // Seed sockets were served while they waited: aggros they began meanwhile die with this
    // process's state, so they are recorded too.
    if (spread.seed > 0 && !sharedState) await service.stop(true);
    for (const p of programs) namespaces.get(p).local.disconnectSockets(true);
    await Promise.allSettled([...disconnects]);
    clearInterval(housekeeping);
    programmes.stop();
    await supervisor?.stop();
    await new Promise<void>((resolve) => io.close(() => resolve()));
    httpServer.closeAllConnections();
    // The records first: they may still need the database and Redis.
    await records.close().catch(() => {});
    await Promise.allSettled([backends.close(), recordStore.close()]);
    log.info('server closed');
  }

  return {
    io,
    events,
    httpServer,
    service,
    store,
    metrics,
    programmes,
    tls,
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
      closed ??= close();
      return closed;
    },
  };
}
