/**
 * The composition root of state: in memory for one process, or Redis (state, cross-server
 * delivery, node liveness, deadlines) when `REDIS_URL` is set.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { Config } from '../config/config.js';
import type { Announcer } from '../domain/ports/announcer.js';
import type { Clock } from '../domain/clock.js';
import type { RedisOutboxCommands } from '../records/redis-outbox.js';
import type { DeadlineIndex, NodeRegistry } from '../domain/ports/cluster.js';
import type { MemoryBroker } from '../state/memory/memory-broker.js';
import { MemoryDeadlineIndex, MemoryNodeRegistry } from '../state/memory/memory-cluster.js';
import { MemoryStore } from '../state/memory/memory-store.js';
import { RedisDeadlineIndex, RedisNodeRegistry, type RedisClusterCommands } from '../state/redis/redis-cluster.js';
import { RedisStore, type RedisCommands } from '../state/redis/redis-store.js';
import { STREAM_MAX_LEN } from '../state/redis/scripts.js';
import { createStreamsAdapter, type StreamCommands, type StreamReader, type Subscriber } from '../state/redis/streams-adapter.js';
import { MemoryModeration } from '../state/memory/memory-moderation.js';
import { RedisModeration } from '../state/redis/redis-moderation.js';
import type { ModerationStore } from '../domain/ports/moderation-store.js';
import type { StateStore } from '../domain/ports/store.js';
import { LOBBY, roomChannel } from '../transport/channels.js';

export interface Backends {
  store: StateStore;
  /** Mutes, slow mode, duplicates and recent messages (spec 9), beside the store. */
  moderation: ModerationStore;
  /** Shared backends only: true when state outlives this process. */
  shared: boolean;
  /** socket.io adapter factory for cross-server delivery. */
  adapter?: ReturnType<typeof createStreamsAdapter>;
  /** This server's handle on the registry of live servers (in memory: a cluster of one). */
  nodes: NodeRegistry;
  deadlines: DeadlineIndex;
  /** Other servers share the registry and the deadlines, so this one must watch them: heartbeat,
   * clean up after dead servers, honour deadlines their owners left (`ClusterSupervisor`). */
  supervise: boolean;
  /** Keep a programme's shared keys alive while this server has sockets in it. */
  touch: (p: string) => Promise<void>;
  /** Where records wait when the database cannot take them (the state connection). */
  recordOutbox?: RedisOutboxCommands;
  /**
   * Deliver the store's announcements (the events it delivers inside its decisions) through
   * `announcer`, the transport's delivery, once that exists: in memory the store's broker hands
   * them to it; with Redis the store appends them to the adapter's stream, which every server's
   * adapter delivers, so there is nothing to connect.
   */
  announceThrough(announcer: Announcer): void;
  /** Closes the store and the connections under it: the one owner of both. */
  close(): Promise<void>;
}

function newNodeId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Backends of this process alone, around `store` (a test may hand in its own). Its registry and
 * deadlines are in memory and nobody watches them: there is no other server to die, and the
 * service's own timers act on every deadline before it is due (a sweeper would only add an
 * interval, and act on windows and aggros begun during a shutdown's spread, which one process
 * leaves to the end of its shutdown).
 */
export function ownBackends(store: StateStore): Backends {
  // A store of this process announces through its broker (a test may hand in its own store).
  const broker: MemoryBroker | null = store instanceof MemoryStore ? store.broker : null;
  return {
    store,
    moderation: new MemoryModeration(),
    announceThrough: (announcer) => broker?.handle(announcer),
    shared: store.shared,
    nodes: new MemoryNodeRegistry(newNodeId()),
    deadlines: new MemoryDeadlineIndex(),
    supervise: false,
    // Memory keys do not expire.
    touch: async () => {},
    close: () => store.close(),
  };
}

/** `onError` hears every failure of a Redis connection (for the metrics). */
export async function createBackends(config: Config, clock: Clock, log: Logger, onError: () => void = () => {}): Promise<Backends> {
  if (!config.redisUrl) return ownBackends(new MemoryStore(clock, undefined, config.lobbyViewSize));
  const redisLog = log.child({ module: 'redis' });
  const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);
  // State calls fail at once while Redis is away (ES001 to the caller) instead of queueing.
  const state = createClient({ url: config.redisUrl, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 2000 } });
  // The adapter's clients keep their queue: a broadcast made while Redis is briefly away is sent
  // when it is back rather than lost, and a stream reader waits for it instead of spinning.
  const pub = createClient({ url: config.redisUrl, socket: { reconnectStrategy, connectTimeout: 2000 } });
  let down = false;
  for (const [name, client] of [['state', state], ['adapter', pub]] as const) {
    client.on('error', (err: Error) => {
      onError();
      if (!down) redisLog.error({ err: err.message, client: name }, 'redis unavailable');
      down = true;
    });
    client.on('ready', () => {
      if (down) redisLog.info({ client: name }, 'redis available again');
      down = false;
    });
  }
  const sub = pub.duplicate();
  sub.on('error', () => {});
  await Promise.all([state.connect(), pub.connect(), sub.connect()]);

  const nodeId = newNodeId();
  const store = new RedisStore(state as unknown as RedisCommands, {
    prefix: config.redisPrefix,
    idleTtlMs: config.stateIdleTtlMs,
    announce: { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') },
    viewSize: config.lobbyViewSize,
  });
  const commands = state as unknown as RedisClusterCommands;
  redisLog.info({ nodeId, prefix: config.redisPrefix }, 'shared state in redis');
  return {
    store,
    moderation: new RedisModeration(state as never, { prefix: config.redisPrefix, ttlMs: config.stateIdleTtlMs }),
    shared: true,
    adapter: createStreamsAdapter({
      commands: pub as unknown as StreamCommands,
      subscriber: Promise.resolve(sub as unknown as Subscriber),
      // A blocking read holds its connection: one per programme this server serves.
      async openReader() {
        const reader = pub.duplicate();
        reader.on('error', () => {});
        await reader.connect();
        return reader as unknown as StreamReader;
      },
      keysOf: (nsp) => {
        const p = nsp.slice(1);
        return p ? { stream: store.streamKey(p), sessionPrefix: store.sessionKeyPrefix(p) } : null;
      },
      channelPrefix: `${config.redisPrefix}socket.io`,
      maxLen: STREAM_MAX_LEN,
      onError: (what, err) => redisLog.debug({ err: err instanceof Error ? err.message : String(err), what }, 'adapter'),
    }),
    nodes: new RedisNodeRegistry(commands, config.redisPrefix, nodeId),
    deadlines: new RedisDeadlineIndex(commands, config.redisPrefix),
    supervise: true,
    touch: (p) => store.touchProgram(p),
    // The stream is the path: the adapter (above) delivers what the scripts append to it.
    announceThrough: () => {},
    recordOutbox: state as unknown as RedisOutboxCommands,
    async close() {
      await store.close();
      await Promise.allSettled([state.close(), pub.close(), sub.close()]);
    },
  };
}
