/**
 * Configuration from the environment, validated once at start. A bad value stops the start with
 * a message naming the variable, rather than surfacing later as odd behaviour.
 */
import { z } from 'zod';

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((v) => v ?? def);

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : ['true', '1', 'yes', 'on'].includes(v)));

// A misspelt NODE_ENV used to fall silently to development, and so to dev auth: spellings are
// compared without case, and one that is not listed stops the start.
const PRODUCTION_NAMES = ['production', 'prod'];
const OTHER_ENV_NAMES = ['development', 'dev', 'test'];
const nodeEnv = optionalText
  .transform((v) => v?.toLowerCase())
  .refine((v) => v === undefined || PRODUCTION_NAMES.includes(v) || OTHER_ENV_NAMES.includes(v), {
    message: `must be one of ${[...PRODUCTION_NAMES, ...OTHER_ENV_NAMES].join(', ')} (any case)`,
  });

/** `false`/`0` trusts no proxy; `true` is one hop; a number is that many proxies in front. */
const trustProxy = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|yes|no|on|off|\d{1,2}|)$/, 'must be true, false or a number of proxy hops (0-32)')
  .optional()
  .transform((v) => (v === undefined || v === '' || ['false', 'no', 'off'].includes(v) ? 0 : ['true', 'yes', 'on'].includes(v) ? 1 : Number(v)))
  .pipe(z.number().int().min(0).max(32));

const envSchema = z.object({
  NODE_ENV: nodeEnv,
  PORT: int(8443, 0, 65535),
  HOST: z.string().trim().min(1).optional().default('0.0.0.0'),
  TLS: z.enum(['on', 'off']).optional().default('on'),
  TLS_CERT: optionalText,
  TLS_KEY: optionalText,
  TLS_SESSION_TIMEOUT_S: int(3600, 60, 24 * 3600),
  TLS_TICKET_KEYS: optionalText,
  SOCKET_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a path starting with /')
    .optional()
    .default('/socket.io'),
  TRANSPORTS: z.enum(['websocket', 'polling,websocket', 'websocket,polling']).optional().default('polling,websocket'),
  CORS_ORIGINS: optionalText,
  TRUST_PROXY: trustProxy,
  AUTH_MODE: z.enum(['dev', 'jwt']).optional(),
  JWT_SECRET: optionalText,
  JWT_PUBLIC_KEY: optionalText,
  JWT_JWKS_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_CLOCK_TOLERANCE_S: int(30, 0, 300),
  JWT_CACHE_SIZE: int(20_000, 0, 1_000_000),
  ROOM_MAX_LIMIT: int(120, 2, 10_000),
  ROOMS_PER_PROGRAM_MAX: int(20_000, 1, 100_000),
  LOBBY_VIEW_SIZE: int(100, 1, 1000),
  CHAT_MAX_LENGTH: int(300, 1, 2000),
  AGGRO_TTL_MS: int(30_000, 10),
  AGGRO_COOLDOWN_MS: int(60_000, 0),
  KICK_COOLDOWN_MS: int(60_000, 0, 86_400_000),
  HISTORY_SIZE: int(50, 0, 500),
  RECONNECT_GRACE_MS: int(20_000, 0, 600_000),
  PING_INTERVAL_MS: int(10_000, 100, 300_000),
  PING_TIMEOUT_MS: int(5000, 100, 300_000),
  MODERATOR_TOKENS: optionalText,
  REPORT_HIDE_THRESHOLD: int(5, 1, 1000),
  DUPLICATE_WINDOW_MS: int(10_000, 0, 86_400_000),
  ROOM_REMOVAL_BLOCK_MS: int(600_000, 0, 86_400_000),
  FILTER_REFRESH_MS: int(500, 50, 60_000),
  BATCH_INTERVAL_MS: int(500, 0, 60_000),
  EVENT_RATE: int(20, 1),
  EVENT_BURST: int(40, 1),
  HANDSHAKE_RATE: int(10, 1),
  HANDSHAKE_BURST: int(50, 1),
  HANDSHAKE_REFUSALS_PER_CONNECTION: int(10, 1, 10_000),
  REFUSAL_LOG_INTERVAL_MS: int(60_000, 0, 3_600_000),
  MAX_PAYLOAD_BYTES: int(16_384, 1024, 16_384),
  // 1 MiB: several full room lists (500 rooms with long titles are ~100 KB), or some 20 s of
  // backlog on a slow mobile link; a client further behind is cheaper to reconnect than to feed.
  MAX_SOCKET_BUFFER_BYTES: int(1_048_576, 1024),
  LOAD_RATE: int(2, 1),
  LOAD_BURST: int(5, 1),
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  // Some nodes of a Redis Cluster, each a redis:// or rediss:// URL; the client finds the rest.
  REDIS_CLUSTER_NODES: optionalText
    .transform((v) => (v === undefined ? undefined : v.split(',').map((u) => u.trim()).filter(Boolean)))
    .pipe(z.array(z.url({ protocol: /^rediss?$/, error: 'each entry must be a redis:// or rediss:// URL' })).min(1, 'must list at least one node URL').optional()),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,32}$/, 'must be 1-32 of A-Z a-z 0-9 : _ -')
    .optional()
    .default('onair:'),
  STATE_IDLE_TTL_MS: int(6 * 3600_000, 1000),
  NODE_TIMEOUT_MS: int(15_000, 100),
  REDIS_SILENCE_MS: int(3000, 100, 60_000),
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATA_DIR: z.string().trim().min(1).optional().default('./data'),
  ADMIN_TOKEN: optionalText,
  SCHEDULE_FILE: optionalText,
  SCHEDULE_MODE: z.enum(['open', 'strict']).optional().default('open'),
  SCHEDULE_REFRESH_MS: int(2000, 50, 3_600_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 60_000),
  SHUTDOWN_SPREAD_MS: int(5000, 0, 60_000),
  RECORDS_RETRY_MS: int(1000, 10, 600_000),
  RECORDS_WRITE_TIMEOUT_MS: int(2000, 10, 60_000),
  SQLITE_BUSY_TIMEOUT_MS: int(50, 0, 5000),
  PASSWORD_HASH_CONCURRENCY: int(2, 1, 64),
  PASSWORD_HASH_QUEUE: int(16, 0, 10_000),
  PASSWORD_FAILURES_PER_USER: int(5, 1, 10_000),
  PASSWORD_FAILURES_PER_ROOM: int(20, 1, 100_000),
  PASSWORD_LOCK_MS: int(60_000, 100, 86_400_000),
  HOUSEKEEPING_MS: int(5000, 50, 60_000),
  APP_API_RATE: int(10, 1, 100_000),
  APP_API_BURST: int(40, 1, 100_000),
  ON_AIR_REFRESH_MS: int(1000, 50, 60_000),
});

export type JwtKeySource =
  | { kind: 'secret'; secret: string }
  | { kind: 'publicKey'; path: string }
  | { kind: 'jwks'; url: string };

export interface Config {
  production: boolean;
  port: number;
  host: string;
  tls: { enabled: false } | { enabled: true; certPath?: string; keyPath?: string };
  /** TLS session resumption: how long a session ticket is honoured, and the
   * ticket keys (48 bytes) when several servers must honour each other's tickets; else each
   * process makes its own at start. */
  tlsSessions: { timeoutS: number; ticketKeys?: Buffer };
  socketPath: string;
  transports: ('websocket' | 'polling')[];
  /** `null`: no cross-origin browser access; `'*'`: any origin. */
  corsOrigins: string[] | '*' | null;
  /** Proxies in front of the server whose `X-Forwarded-For` entries are trusted; 0: none. */
  trustProxy: number;
  auth:
    | { mode: 'dev' }
    | { mode: 'jwt'; key: JwtKeySource; issuer?: string; audience?: string; clockToleranceS: number; cacheSize: number };
  roomMaxLimit: number;
  roomsPerProgramMax: number;
  /** Rooms in a programme's featured view (spec 3.1): what `loadRooms` lists. */
  lobbyViewSize: number;
  chatMaxLength: number;
  aggroTtlMs: number;
  aggroCooldownMs: number;
  /** How long a kicked user's handshakes into that programme are refused (`KICKED`); 0: off. */
  kickCooldownMs: number;
  /** Chat messages each room keeps for newcomers and `history` (0 keeps none). */
  historySize: number;
  /** How long a session whose socket went away unchosen keeps its seat (spec 7.1); 0: off. */
  reconnectGraceMs: number;
  /** engine.io heartbeat: a ping every `pingIntervalMs`, the line dead without a pong within
   * `pingTimeoutMs` after it. */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  batchIntervalMs: number;
  eventRate: number;
  eventBurst: number;
  handshakeRate: number;
  handshakeBurst: number;
  /** Refused socket.io handshakes after which their engine.io connection is closed. */
  handshakeRefusalsPerConnection: number;
  /** One 'handshake refused' info line per address and code per interval (0: every one). */
  refusalLogIntervalMs: number;
  maxPayloadBytes: number;
  /** Bytes queued for one connection (engine.io buffer + websocket/TLS buffer) past which it is cut. */
  maxSocketBufferBytes: number;
  /** Per-socket bucket over `loadRooms`/`loadUsers`, on top of the event bucket. */
  loadRate: number;
  loadBurst: number;
  redisUrl?: string;
  /** `REDIS_CLUSTER_NODES`: seed nodes of a Redis Cluster, instead of `REDIS_URL` (never both). */
  redisClusterNodes?: string[];
  redisPrefix: string;
  stateIdleTtlMs: number;
  nodeTimeoutMs: number;
  /** With `REDIS_URL`: a connection whose PING goes unanswered this long is reset (its calls
   * answer ES001; `watchSilence`). */
  redisSilenceMs: number;
  databaseUrl?: string;
  dataDir: string;
  adminToken?: string;
  /** `MODERATOR_TOKENS` (`name:token,…`): who may use the moderation routes of the admin API. */
  moderators: { name: string; token: string }[];
  /** Distinct reporters that hide a message at once. @default 5 */
  reportHideThreshold: number;
  /** The same text from the same user in the same room within this is EM006. @default 10000 */
  duplicateWindowMs: number;
  /** How long a member a room's owner removed may not rejoin that room (EJ005; spec 9: 10 minutes). */
  roomRemovalBlockMs: number;
  /** How often the word filter's version is read from the database. @default 500 */
  filterRefreshMs: number;
  scheduleFile?: string;
  scheduleMode: 'open' | 'strict';
  /** How often each server reloads the schedule from the database. */
  scheduleRefreshMs: number;
  logLevel: string;
  shutdownTimeoutMs: number;
  /** Seed clients' transports close, and others are told to come back, at random over this. */
  shutdownSpreadMs: number;
  /** How often records waiting in the outbox are offered to the database again. */
  recordsRetryMs: number;
  /** How long the end of an aggro waits for the database before its record goes to the outbox. */
  recordsWriteTimeoutMs: number;
  /** How long a SQLite write waits for a lock held by another process (on the event loop). */
  sqliteBusyTimeoutMs: number;
  /** Bounds on password hashing and on wrong passwords (see `PasswordLimits`). */
  passwords: { hashConcurrency: number; hashQueue: number; failuresPerUser: number; failuresPerRoom: number; lockMs: number };
  /** How often idle programmes are looked at for release. */
  housekeepingMs: number;
  /** Per-address token bucket over every `/v1` request (429 beyond). */
  appApiRate: number;
  appApiBurst: number;
  /** How often the programmes on air and their counts are read again (`/v1/programs/on-air`,
   * `/_programs`); never more often than BATCH_INTERVAL_MS. */
  onAirRefreshMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Read and check the configuration. Throws `ConfigError` naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '?');
        const value = env[name];
        const shown = /SECRET|TOKEN|PASSWORD|REDIS_CLUSTER_NODES/.test(name) || value === undefined ? '' : ` (got "${value}")`;
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV !== undefined && PRODUCTION_NAMES.includes(e.NODE_ENV);

  const mode = e.AUTH_MODE ?? (production ? 'jwt' : 'dev');
  if (production && mode === 'dev') {
    problems.push('AUTH_MODE: "dev" trusts any identity and is refused when NODE_ENV=production; set AUTH_MODE=jwt');
  }
  let auth: Config['auth'] = { mode: 'dev' };
  if (mode === 'jwt') {
    const sources = [
      e.JWT_SECRET && { kind: 'secret' as const, secret: e.JWT_SECRET },
      e.JWT_PUBLIC_KEY && { kind: 'publicKey' as const, path: e.JWT_PUBLIC_KEY },
      e.JWT_JWKS_URL && { kind: 'jwks' as const, url: e.JWT_JWKS_URL },
    ].filter((s): s is JwtKeySource => Boolean(s));
    if (sources.length !== 1) {
      problems.push('AUTH_MODE: "jwt" needs exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
    } else {
      const key = sources[0]!;
      if (key.kind === 'secret' && Buffer.byteLength(key.secret) < 32) {
        problems.push('JWT_SECRET: must be at least 32 bytes for HS256');
      }
      auth = { mode: 'jwt', key, clockToleranceS: e.JWT_CLOCK_TOLERANCE_S, cacheSize: e.JWT_CACHE_SIZE };
      if (e.JWT_ISSUER) auth.issuer = e.JWT_ISSUER;
      if (e.JWT_AUDIENCE) auth.audience = e.JWT_AUDIENCE;
    }
  }

  // Which one Redis would be ambiguous (a node of the cluster, or another Redis): refused.
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) problems.push('REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  else if (e.REDIS_CLUSTER_NODES && new Set(e.REDIS_CLUSTER_NODES.map((u) => new URL(u).protocol)).size > 1) {
    problems.push('REDIS_CLUSTER_NODES: mixes redis:// and rediss://; a cluster is reached with TLS or without');
  }
  if (Boolean(e.TLS_CERT) !== Boolean(e.TLS_KEY)) problems.push('TLS_CERT: TLS_CERT and TLS_KEY must be set together');
  const ticketKeys = e.TLS_TICKET_KEYS ? Buffer.from(e.TLS_TICKET_KEYS, /^[0-9a-fA-F]+$/.test(e.TLS_TICKET_KEYS) ? 'hex' : 'base64') : undefined;
  if (ticketKeys && ticketKeys.length !== 48) problems.push('TLS_TICKET_KEYS: must be 48 bytes, as 96 hex digits or base64');

  let corsOrigins: Config['corsOrigins'] = null;
  if (e.CORS_ORIGINS === '*') corsOrigins = '*';
  else if (e.CORS_ORIGINS) {
    corsOrigins = e.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
    for (const o of corsOrigins) {
      if (!/^https?:\/\/[^/\s]+$/.test(o)) problems.push(`CORS_ORIGINS: "${o}" is not an origin like https://app.example.com`);
    }
  }

  const moderators: Config['moderators'] = [];
  for (const item of (e.MODERATOR_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const at = item.indexOf(':');
    const name = at > 0 ? item.slice(0, at) : '';
    const token = at > 0 ? item.slice(at + 1) : '';
    // The token itself never appears in a message: it is a credential.
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(name)) problems.push('MODERATOR_TOKENS: each entry is name:token, the name 1-32 of A-Z a-z 0-9 _ -');
    else if (token.length < 24 || /\s/.test(token)) problems.push(`MODERATOR_TOKENS: the token of "${name}" must be at least 24 characters without spaces`);
    else if (moderators.some((m) => m.name === name)) problems.push(`MODERATOR_TOKENS: "${name}" is listed twice`);
    else if (moderators.some((m) => m.token === token) || token === e.ADMIN_TOKEN) problems.push(`MODERATOR_TOKENS: the token of "${name}" is not unique`);
    else moderators.push({ name, token });
  }
  if (moderators.length > 0 && !e.ADMIN_TOKEN) problems.push('MODERATOR_TOKENS: needs ADMIN_TOKEN (the admin API is enabled by it)');

  // The spread is waited out inside the shutdown, which is forced to end at the timeout.
  if (e.SHUTDOWN_SPREAD_MS >= e.SHUTDOWN_TIMEOUT_MS) {
    problems.push(`SHUTDOWN_SPREAD_MS: must be smaller than SHUTDOWN_TIMEOUT_MS (${e.SHUTDOWN_TIMEOUT_MS})`);
  }

  if (problems.length) throw new ConfigError(problems);

  const tls: Config['tls'] =
    e.TLS === 'off' ? { enabled: false } : e.TLS_CERT && e.TLS_KEY ? { enabled: true, certPath: e.TLS_CERT, keyPath: e.TLS_KEY } : { enabled: true };

  const config: Config = {
    production,
    port: e.PORT,
    host: e.HOST,
    tls,
    tlsSessions: { timeoutS: e.TLS_SESSION_TIMEOUT_S, ...(ticketKeys ? { ticketKeys } : {}) },
    socketPath: e.SOCKET_PATH,
    transports: e.TRANSPORTS === 'websocket' ? ['websocket'] : ['polling', 'websocket'],
    corsOrigins,
    trustProxy: e.TRUST_PROXY,
    auth,
    roomMaxLimit: e.ROOM_MAX_LIMIT,
    roomsPerProgramMax: e.ROOMS_PER_PROGRAM_MAX,
    lobbyViewSize: e.LOBBY_VIEW_SIZE,
    chatMaxLength: e.CHAT_MAX_LENGTH,
    aggroTtlMs: e.AGGRO_TTL_MS,
    aggroCooldownMs: e.AGGRO_COOLDOWN_MS,
    kickCooldownMs: e.KICK_COOLDOWN_MS,
    historySize: e.HISTORY_SIZE,
    reconnectGraceMs: e.RECONNECT_GRACE_MS,
    pingIntervalMs: e.PING_INTERVAL_MS,
    pingTimeoutMs: e.PING_TIMEOUT_MS,
    batchIntervalMs: e.BATCH_INTERVAL_MS,
    eventRate: e.EVENT_RATE,
    eventBurst: e.EVENT_BURST,
    handshakeRate: e.HANDSHAKE_RATE,
    handshakeBurst: e.HANDSHAKE_BURST,
    handshakeRefusalsPerConnection: e.HANDSHAKE_REFUSALS_PER_CONNECTION,
    refusalLogIntervalMs: e.REFUSAL_LOG_INTERVAL_MS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    maxSocketBufferBytes: e.MAX_SOCKET_BUFFER_BYTES,
    loadRate: e.LOAD_RATE,
    loadBurst: e.LOAD_BURST,
    redisPrefix: e.REDIS_PREFIX,
    stateIdleTtlMs: e.STATE_IDLE_TTL_MS,
    nodeTimeoutMs: e.NODE_TIMEOUT_MS,
    redisSilenceMs: e.REDIS_SILENCE_MS,
    dataDir: e.DATA_DIR,
    scheduleMode: e.SCHEDULE_MODE,
    scheduleRefreshMs: e.SCHEDULE_REFRESH_MS,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    shutdownSpreadMs: e.SHUTDOWN_SPREAD_MS,
    recordsRetryMs: e.RECORDS_RETRY_MS,
    recordsWriteTimeoutMs: e.RECORDS_WRITE_TIMEOUT_MS,
    sqliteBusyTimeoutMs: e.SQLITE_BUSY_TIMEOUT_MS,
    passwords: {
      hashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
      hashQueue: e.PASSWORD_HASH_QUEUE,
      failuresPerUser: e.PASSWORD_FAILURES_PER_USER,
      failuresPerRoom: e.PASSWORD_FAILURES_PER_ROOM,
      lockMs: e.PASSWORD_LOCK_MS,
    },
    housekeepingMs: e.HOUSEKEEPING_MS,
    appApiRate: e.APP_API_RATE,
    appApiBurst: e.APP_API_BURST,
    onAirRefreshMs: e.ON_AIR_REFRESH_MS,
    moderators,
    reportHideThreshold: e.REPORT_HIDE_THRESHOLD,
    duplicateWindowMs: e.DUPLICATE_WINDOW_MS,
    roomRemovalBlockMs: e.ROOM_REMOVAL_BLOCK_MS,
    filterRefreshMs: e.FILTER_REFRESH_MS,
  };
  if (e.REDIS_URL) config.redisUrl = e.REDIS_URL;
  if (e.REDIS_CLUSTER_NODES) config.redisClusterNodes = e.REDIS_CLUSTER_NODES;
  if (e.DATABASE_URL) config.databaseUrl = e.DATABASE_URL;
  if (e.ADMIN_TOKEN) config.adminToken = e.ADMIN_TOKEN;
  if (e.SCHEDULE_FILE) config.scheduleFile = e.SCHEDULE_FILE;
  return config;
}
