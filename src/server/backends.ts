/**
 * The composition root of state: in memory for one process, or Redis (state, cross-server
 * delivery, node liveness, deadlines) when `REDIS_URL` is set, or a Redis Cluster when
 * `REDIS_CLUSTER_NODES` is (the same stores: every script touches one hash slot, see
 * `state/redis/keys.ts` and docs/scaling.md).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient, createCluster } from 'redis';
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
import { serviceKey } from '../state/redis/keys.js';
import { STREAM_MAX_LEN } from '../state/redis/scripts.js';
import { pingWithin, watchSilence, type WatchedConnection } from '../state/redis/silence-watch.js';
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
  /** The state is on a Redis Cluster (`REDIS_CLUSTER_NODES`). */
  redisCluster?: boolean;
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
    moderation: new MemoryModeration(store instanceof MemoryStore ? (p, socketId) => store.seatOf(p, socketId) : (p, socketId) => store.roomOf(p, socketId)),
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

const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);

/** Node-redis' client or cluster client, as this file handles it (each store types the slice
 * of commands it uses). */
interface Connection {
  on(event: string, listener: (err: Error) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

interface Connections {
  /** Fails fast while its Redis (or the shard a call needs) is away: ES001, nothing queued. */
  state: Connection;
  /** The adapter's: keeps its queue, so its stream reader waits for Redis instead of spinning. */
  pub: Connection;
  /** Readiness: PONG when the Redis every call needs answers. */
  ping: () => Promise<unknown>;
  cluster: boolean;
  /** Another connection like `pub` (queueing): the adapter's subscriber, and a stream reader per
   * programme (`reader`: on a cluster it connects only to the shard it reads from). */
  duplicate(reader: boolean): Connection;
  /** The adapter's commands, on `pub`. */
  streamCommands: StreamCommands;
  /** The connections `watchSilence` watches (none on a cluster: node-redis' own command timeout
   * stays on there). Not the stream readers: a blocking read holds the reply a PING would wait
   * behind; they resume where they were when Redis answers again. */
  watched: [string, WatchedConnection][];
}

/**
 * The adapter's commands on a cluster client. All but one route by their key, or need none
 * (`PUBLISH` reaches every node's subscribers over the cluster bus). `PUBSUB NUMSUB` counts only
 * the subscribers of the node it is sent to, and each server's subscriber sits on one node of
 * its choosing, so the count of servers is the sum over every node; a node that does not answer
 * at once (the state client does not queue) has lost its subscribers, which resubscribe elsewhere.
 */
function clusterStreamCommands(pub: ReturnType<typeof clusterOf>, state: ReturnType<typeof clusterOf>): StreamCommands {
  const commands = pub as unknown as StreamCommands;
  return {
    xAdd: (...a) => commands.xAdd(...a),
    xRange: (...a) => commands.xRange(...a),
    xRevRange: (...a) => commands.xRevRange(...a),
    set: (...a) => commands.set(...a),
    getDel: (key) => commands.getDel(key),
    publish: (channel, message) => commands.publish(channel, message),
    async pubSubNumSub(channel) {
      const counts = await Promise.allSettled(
        [...state.masters, ...state.replicas].map(async (node) => ((await state.nodeClient(node)).pubSubNumSub(channel) as Promise<Record<string, number>>)),
      );
      let sum = 0;
      for (const c of counts) if (c.status === 'fulfilled') sum += Number(c.value[channel] ?? 0);
      return { [channel]: sum };
    },
  };
}

/**
 * A Redis Cluster from some of its nodes. The URLs only find the cluster; every connection to a
 * node it discovers takes `defaults`, so credentials and TLS come from the first URL. A node that
 * stops answering makes the client refresh the topology a second after its first reconnection
 * attempt (node-redis' default is 5 s), so the calls of a failed-over shard reach its promoted
 * replica about when the cluster has promoted it.
 */
function clusterOf(urls: string[], disableOfflineQueue: boolean) {
  const first = new URL(urls[0]!);
  const credentials = {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
  };
  const tls = first.protocol === 'rediss:';
  return createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: {
      ...credentials,
      disableOfflineQueue,
      socket: tls ? { tls: true, reconnectStrategy, connectTimeout: 2000 } : { reconnectStrategy, connectTimeout: 2000 },
    },
    topologyRefreshOnReconnectionAttemptStrategy: 1000,
  });
}

function connections(config: Config): Connections {
  if (config.redisClusterNodes) {
    const state = clusterOf(config.redisClusterNodes, true);
    // The service slot's shard: the registry, the deadlines and the programme list every server
    // needs (`keys.ts`). A programme's shard being away costs that programme's calls (ES001)
    // until its replica takes over, and no more: the other programmes stay served, so readiness
    // does not follow it (a load balancer would otherwise take every server out at once).
    // A keyed read, not PING: node-redis' cluster client sends PING by its command policy to
    // every node, whatever key it is given, so it would fail with any one shard.
    const ping = async () => {
      await state.exists(serviceKey(config.redisPrefix, 'nodes'));
      return 'PONG';
    };
    const pub = clusterOf(config.redisClusterNodes, false);
    return {
      state,
      pub,
      ping,
      cluster: true,
      duplicate: (reader) => (reader ? pub.duplicate({ minimizeConnections: true }) : pub.duplicate()),
      streamCommands: clusterStreamCommands(pub, state),
      watched: [],
    };
  }
  // No per-command timeout: it never ends the wait for a written command, and costs a timer per
  // command; `watchSilence` (below, in createBackends) is what notices a Redis gone silent.
  const commandOptions = { timeout: 0 };
  // State calls fail at once while Redis is away (ES001 to the caller) instead of queueing.
  const state = createClient({ url: config.redisUrl, disableOfflineQueue: true, commandOptions, socket: { reconnectStrategy, connectTimeout: 2000 } });
  // The adapter's clients keep their queue: a broadcast made while Redis is briefly away is sent
  // when it is back rather than lost, and a stream reader waits for it instead of spinning.
  const pub = createClient({ url: config.redisUrl, commandOptions, socket: { reconnectStrategy, connectTimeout: 2000 } });
  return {
    state,
    pub,
    ping: () => pingWithin(state, config.redisSilenceMs),
    cluster: false,
    duplicate: () => pub.duplicate(),
    streamCommands: pub as unknown as StreamCommands,
    watched: [
      ['state', state],
      ['adapter', pub],
    ],
  };
}

/** What the metrics hear from the Redis backends. */
export interface BackendHooks {
  /** Every failure of a Redis connection. */
  onError(): void;
  /** Every stream entry a reader got (`StreamsAdapterOptions.onEntry`). */
  onStreamEntry(skipped: boolean): void;
}

export async function createBackends(config: Config, clock: Clock, log: Logger, hooks?: BackendHooks): Promise<Backends> {
  if (!config.redisUrl && !config.redisClusterNodes) return ownBackends(new MemoryStore(clock, undefined, config.lobbyViewSize));
  const redisLog = log.child({ module: 'redis' });
  const onError = () => hooks?.onError();
  const { state, pub, ping, cluster, duplicate, streamCommands, watched } = connections(config);
  let down = false;
  for (const [name, client] of [['state', state], ['adapter', pub]] as const) {
    const failed = (err: Error) => {
      onError();
      if (!down) redisLog.error({ err: err.message, client: name }, 'redis unavailable');
      down = true;
    };
    const back = () => {
      if (down) redisLog.info({ client: name }, 'redis available again');
      down = false;
    };
    // A cluster client reports each node's connection as `node-error`/`node-ready`.
    client.on('error', failed);
    client.on(cluster ? 'node-error' : 'error', failed);
    client.on(cluster ? 'node-ready' : 'ready', back);
  }
  const sub = duplicate(false);
  sub.on('error', () => {});
  await Promise.all([state.connect(), pub.connect(), sub.connect()]);
  const watches = watched.map(([name, client]) =>
    watchSilence(
      client,
      config.redisSilenceMs,
      () => {
        onError();
        redisLog.error({ client: name, silenceMs: config.redisSilenceMs }, 'redis silent: resetting the connection');
        // So that its return is logged, as after an outage.
        down = true;
      },
      (err) => redisLog.warn({ err: err instanceof Error ? err.message : String(err), client: name }, 'redis reconnection after silence failed'),
    ),
  );

  const nodeId = newNodeId();
  const store = new RedisStore(state as unknown as RedisCommands, {
    prefix: config.redisPrefix,
    idleTtlMs: config.stateIdleTtlMs,
    announce: { lobbyChannel: LOBBY, roomChannelPrefix: roomChannel('') },
    viewSize: config.lobbyViewSize,
    ping,
  });
  const commands = state as unknown as RedisClusterCommands;
  redisLog.info({ nodeId, prefix: config.redisPrefix, cluster }, cluster ? 'shared state in a redis cluster' : 'shared state in redis');
  return {
    store,
    moderation: new RedisModeration(state as never, { prefix: config.redisPrefix, ttlMs: config.stateIdleTtlMs }),
    shared: true,
    adapter: createStreamsAdapter({
      commands: streamCommands,
      subscriber: Promise.resolve(sub as unknown as Subscriber),
      // A blocking read holds its connection: one per programme this server serves.
      async openReader() {
        const reader = duplicate(true);
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
      ...(hooks ? { onEntry: (skipped: boolean) => hooks.onStreamEntry(skipped) } : {}),
    }),
    nodes: new RedisNodeRegistry(commands, config.redisPrefix, nodeId),
    deadlines: new RedisDeadlineIndex(commands, config.redisPrefix),
    supervise: true,
    touch: (p) => store.touchProgram(p),
    // The stream is the path: the adapter (above) delivers what the scripts append to it.
    announceThrough: () => {},
    recordOutbox: state as unknown as RedisOutboxCommands,
    redisCluster: cluster,
    async close() {
      for (const w of watches) w.stop();
      await store.close();
      await Promise.allSettled([state.close(), pub.close(), sub.close()]);
    },
  };
}
