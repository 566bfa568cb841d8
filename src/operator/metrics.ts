/**
 * `GET /metrics`: what the operator watches, in Prometheus's text format (prom-client). One
 * registry per app, so several servers in one process (the tests) never share counters. Counts
 * are per server; the `onair_rooms` and `onair_live_aggros` gauges read the shared state of the
 * programmes this server serves, so with many servers take their `max`, not their sum.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EndReason } from '../domain/model.js';
import type { DomainObserver } from '../domain/ports/observer.js';
import type { PasswordObserver } from '../domain/password-guard.js';

export interface ProgrammeGauges {
  /** Programmes this server serves now. */
  programs(): string[];
  rooms(p: string): Promise<number>;
  liveAggros(p: string): Promise<number>;
}

export class ServerMetrics implements DomainObserver, PasswordObserver {
  readonly registry = new Registry();
  private readonly connections: Gauge<'program'>;
  private readonly connectsTotal: Counter<'program'>;
  private readonly roomsCreated: Counter<'kind'>;
  private readonly roomsDeleted: Counter;
  private readonly joins: Counter;
  private readonly leaves: Counter;
  private readonly messages: Counter;
  private readonly aggros: Counter;
  private readonly aggroEnds: Counter<'reason'>;
  private readonly votes: Counter<'direction'>;
  private readonly batched: Counter<'event'>;
  private readonly refusals: Counter<'code'>;
  private readonly rateLimits: Counter<'scope'>;
  private readonly handlerSeconds: Histogram<'event'>;
  private readonly backendErrors: Counter<'backend'>;
  // Connect floods (handshake hardening).
  private readonly floodClosed: Counter;
  private readonly socketOverflows: Counter<'transport'>;
  private readonly passwordHashes: Counter;
  private readonly passwordRefusals: Counter<'reason'>;
  private readonly passwordLockouts: Counter<'scope'>;
  /** Gauges read from parts made after the metrics (the record sink, the password guard). */
  private readonly sources: Record<'recordsPending' | 'passwordQueue', () => number> = { recordsPending: () => 0, passwordQueue: () => 0 };

  /** The programmes the two shared gauges read, once the server that serves them exists. */
  private gauges: ProgrammeGauges = { programs: () => [], rooms: async () => 0, liveAggros: async () => 0 };

  constructor() {
    const registers = [this.registry];
    const metrics = this;
    collectDefaultMetrics({ register: this.registry, prefix: 'onair_' });
    this.connections = new Gauge({ name: 'onair_connections', help: 'Connected sockets on this server, by programme', labelNames: ['program'], registers });
    this.connectsTotal = new Counter({ name: 'onair_connects_total', help: 'Accepted socket connections, by programme', labelNames: ['program'], registers });
    new Gauge({
      name: 'onair_rooms',
      help: 'Rooms of the programmes this server serves (shared state: same on every server)',
      labelNames: ['program'],
      registers,
      async collect() {
        this.reset();
        const { gauges } = metrics;
        for (const p of gauges.programs()) this.set({ program: p }, await gauges.rooms(p).catch(() => 0));
      },
    });
    new Gauge({
      name: 'onair_live_aggros',
      help: 'Live aggros of the programmes this server serves (shared state: same on every server)',
      labelNames: ['program'],
      registers,
      async collect() {
        this.reset();
        const { gauges } = metrics;
        for (const p of gauges.programs()) this.set({ program: p }, await gauges.liveAggros(p).catch(() => 0));
      },
    });
    this.roomsCreated = new Counter({ name: 'onair_rooms_created_total', help: 'Rooms created (user or persistent)', labelNames: ['kind'], registers });
    this.roomsDeleted = new Counter({ name: 'onair_rooms_deleted_total', help: 'Rooms deleted (emptied or by an operator)', registers });
    this.joins = new Counter({ name: 'onair_joins_total', help: 'Members entering a room (joins and room creations)', registers });
    this.leaves = new Counter({ name: 'onair_leaves_total', help: 'Members leaving a room (leave, disconnect, room deleted)', registers });
    this.messages = new Counter({ name: 'onair_messages_total', help: 'Chat messages delivered', registers });
    this.aggros = new Counter({ name: 'onair_aggros_total', help: 'Aggros started', registers });
    this.aggroEnds = new Counter({ name: 'onair_aggro_ends_total', help: 'Aggros ended (told to their room), by how they ended; onair_records_pending counts records not yet in the database', labelNames: ['reason'], registers });
    this.votes = new Counter({ name: 'onair_votes_total', help: 'Votes counted', labelNames: ['direction'], registers });
    this.batched = new Counter({ name: 'onair_batched_emits_total', help: 'Batched updates sent (one per window that changed)', labelNames: ['event'], registers });
    this.refusals = new Counter({ name: 'onair_refusals_total', help: 'Refused handshakes and calls, by code', labelNames: ['code'], registers });
    this.rateLimits = new Counter({ name: 'onair_rate_limited_total', help: 'Rate-limit hits', labelNames: ['scope'], registers });
    this.handlerSeconds = new Histogram({
      name: 'onair_event_handler_seconds',
      help: 'Time from a client event to its answer',
      labelNames: ['event'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.backendErrors = new Counter({ name: 'onair_backend_errors_total', help: 'Failed calls to a backend (state: memory/Redis; database)', labelNames: ['backend'], registers });
    this.floodClosed = new Counter({
      name: 'onair_handshake_flood_closed_total',
      help: 'Connections closed for sending HANDSHAKE_REFUSALS_PER_CONNECTION refused handshakes',
      registers,
    });
    this.socketOverflows = new Counter({
      name: 'onair_socket_overflows_total',
      help: 'Connections cut because more than MAX_SOCKET_BUFFER_BYTES was queued for them (a client that stopped reading), by transport',
      labelNames: ['transport'],
      registers,
    });
    // Password hashing (scrypt on libuv's pool): bounded, and refused without hashing beyond.
    this.passwordHashes = new Counter({ name: 'onair_password_hashes_total', help: 'Password hashes computed (new rooms and tries)', registers });
    this.passwordRefusals = new Counter({ name: 'onair_password_refused_total', help: 'Password hashes refused without hashing (busy: queue full; locked: wrong-password budget spent)', labelNames: ['reason'], registers });
    this.passwordLockouts = new Counter({ name: 'onair_password_lockouts_total', help: 'Wrong-password budgets spent (a lock begins), by scope (user, room)', labelNames: ['scope'], registers });
    const sources = this.sources;
    new Gauge({ name: 'onair_password_hash_queue', help: 'Password hashes waiting for a slot', registers, collect() { this.set(sources.passwordQueue()); } });
    // Records of finished aggros that the database could not take when they ended.
    new Gauge({
      name: 'onair_records_pending',
      help: 'Records of finished aggros waiting for the database (outbox and memory; a Redis outbox is shared by every server)',
      registers,
      collect() {
        this.set(sources.recordsPending());
      },
    });
    this.recordsDeferredTotal = new Counter({ name: 'onair_records_deferred_total', help: 'Records the database could not take when their aggro ended, by where they wait (redis, journal, memory)', labelNames: ['to'], registers });
    this.recordsLateTotal = new Counter({ name: 'onair_records_written_late_total', help: 'Records written to the database after waiting in the outbox', registers });
  }

  // ---- records ----
  private readonly recordsDeferredTotal: Counter<'to'>;
  private readonly recordsLateTotal: Counter;
  /** Where a gauge reads its value, once the part that knows it exists. */
  watch(gauge: 'recordsPending' | 'passwordQueue', read: () => number): void {
    this.sources[gauge] = read;
  }
  /** Where `onair_rooms` and `onair_live_aggros` read the programmes this server serves. */
  watchProgrammes(gauges: ProgrammeGauges): void {
    this.gauges = gauges;
  }
  recordDeferred(to: 'redis' | 'journal' | 'memory'): void {
    this.recordsDeferredTotal.inc({ to });
  }
  recordsWrittenLate(n: number): void {
    this.recordsLateTotal.inc(n);
  }

  // ---- transport ----
  connected(p: string): void {
    this.connections.inc({ program: p });
    this.connectsTotal.inc({ program: p });
  }
  disconnected(p: string): void {
    this.connections.dec({ program: p });
  }
  refused(code: string): void {
    this.refusals.inc({ code });
  }
  /** `engine`: new engine.io sessions refused at the HTTP level (`allowRequest`); `load`: the
   * room and member lists over their own per-socket bucket. */
  rateLimited(scope: 'handshake' | 'event' | 'engine' | 'load' | 'app'): void {
    this.rateLimits.inc({ scope });
  }
  handshakeFloodClosed(): void {
    this.floodClosed.inc();
  }
  socketOverflow(transport: string): void {
    this.socketOverflows.inc({ transport });
  }
  // Browser pages refused by the Origin check (engine.io answers them before any handshake, so
  // onair_refusals_total never sees them); `plain-http` climbing means TLS=off lacks CORS_ORIGINS.
  private readonly originRefusals = new Counter({
    name: 'onair_origin_refused_total',
    help: 'Browser requests refused by the Origin check, by reason (not-listed, cross-origin, plain-http)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  originRefused(reason: 'not-listed' | 'cross-origin' | 'plain-http'): void {
    this.originRefusals.inc({ reason });
  }

  // Sessions the server ended for good (seed clients are told `insufficient` first); a
  // DUPLICATE_SESSION rate near the connect rate is two devices of one user fighting.
  private readonly sessionEnds = new Counter({
    name: 'onair_sessions_ended_total',
    help: 'Sessions the server ended for good (seed clients get insufficient first), by code: DUPLICATE_SESSION, KICKED, BANNED',
    labelNames: ['code'],
    registers: [this.registry],
  });
  sessionEnded(_p: string, code: 'DUPLICATE_SESSION' | 'KICKED' | 'BANNED'): void {
    this.sessionEnds.inc({ code });
  }

  // Sessions held through a blip (spec 7.1) and those that came back within the grace: their
  // ratio is how many blips cost nobody anything.
  private readonly sessionHolds = new Counter({
    name: 'onair_sessions_held_total',
    help: 'Sessions whose socket went away unchosen and whose seat was held for RECONNECT_GRACE_MS',
    registers: [this.registry],
  });
  private readonly sessionResumes = new Counter({
    name: 'onair_sessions_resumed_total',
    help: 'Held sessions that came back within the grace (on this server)',
    registers: [this.registry],
  });
  sessionHeld(): void {
    this.sessionHolds.inc();
  }
  sessionResumed(): void {
    this.sessionResumes.inc();
  }

  handled(event: string, seconds: number): void {
    this.handlerSeconds.observe({ event }, seconds);
  }
  /** Drop a released programme's labels so its series do not live forever (any client can name
   * a programme in open mode); its counter starts again from 0 should it come back. */
  released(p: string): void {
    this.connections.remove({ program: p });
    this.connectsTotal.remove({ program: p });
  }

  // ---- domain ----
  roomCreated(_p: string, persistent: boolean): void {
    this.roomsCreated.inc({ kind: persistent ? 'persistent' : 'user' });
  }
  roomDeleted(): void {
    this.roomsDeleted.inc();
  }
  joined(): void {
    this.joins.inc();
  }
  left(): void {
    this.leaves.inc();
  }
  message(): void {
    this.messages.inc();
  }
  aggroStarted(): void {
    this.aggros.inc();
  }
  aggroEnded(_p: string, reason: EndReason): void {
    this.aggroEnds.inc({ reason });
  }
  voted(_p: string, delta: 1 | -1): void {
    this.votes.inc({ direction: delta > 0 ? 'up' : 'down' });
  }
  batchedEmit(event: 'count' | 'aggroPoint'): void {
    this.batched.inc({ event });
  }
  backendError(backend: 'state' | 'database'): void {
    this.backendErrors.inc({ backend });
  }

  private readonly streamEntries = new Counter({
    name: 'onair_stream_entries_total',
    help: "Entries of its programmes' streams this server read (with Redis): delivered, or skipped unparsed (a broadcast to a room where it has no socket)",
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly entriesDelivered = this.streamEntries.labels({ outcome: 'delivered' });
  private readonly entriesSkipped = this.streamEntries.labels({ outcome: 'skipped' });

  streamEntry(skipped: boolean): void {
    (skipped ? this.entriesSkipped : this.entriesDelivered).inc();
  }

  // ---- passwords ----
  passwordHashed(): void {
    this.passwordHashes.inc();
  }
  passwordRefused(reason: 'busy' | 'locked'): void {
    this.passwordRefusals.inc({ reason });
  }
  passwordLockout(scope: 'user' | 'room'): void {
    this.passwordLockouts.inc({ scope });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
