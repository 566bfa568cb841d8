/**
 * The cluster topology: three onair server processes sharing one private redis-server. Starting
 * processes is slow next to a test, so a test file reuses one cluster per configuration (tests use
 * their own programme names) and stops them all, and Redis, after the file.
 *
 * The rediscluster topology: the same three servers on a private Redis Cluster instead
 * (`redis-cluster.ts`: 3 masters, a replica each), through `REDIS_CLUSTER_NODES`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { NodeMessage } from './cluster-node.js';
import { startRedis, type PrivateRedis } from './redis.js';
import { startRedisCluster, type PrivateRedisCluster } from './redis-cluster.js';
import { MemoryRecordSink, TEST_ENV, testDataDir, type TestServer } from './server.js';

const NODE_ENTRY = fileURLToPath(new URL('./cluster-node.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export interface ClusterNode extends TestServer {
  readonly child: ChildProcess;
  /** SIGKILL: the server dies without any clean-up, as a crashed machine would. */
  kill(): Promise<void>;
}

/** Servers sharing one state, whatever holds it. */
export interface Servers {
  nodes: ClusterNode[];
  records: MemoryRecordSink;
  prefix: string;
  env: Record<string, string>;
  /** Start one more server on the same Redis. */
  addNode(): Promise<ClusterNode>;
  close(): Promise<void>;
}

export interface Cluster extends Servers {
  redis: PrivateRedis;
}

/** Servers on a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export interface ServersOnRedisCluster extends Servers {
  redisCluster: PrivateRedisCluster;
}

function inProcessOnly(): never {
  throw new Error('this server is a child process: use startServer() for a test that needs the app itself');
}

export async function startNode(env: Record<string, string>, records: MemoryRecordSink, name: string): Promise<ClusterNode> {
  const config = loadConfig(env);
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_ENTRY], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, ONAIR_NODE_NAME: name },
    stdio: ['ignore', 'ignore', process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore', 'ipc'],
  });
  const events = new EventEmitter();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const ready = new Promise<{ port: number; cert: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster node ${name} did not start`)), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`cluster node ${name} exited with ${code} before listening`)));
    child.on('message', (m: NodeMessage) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === 'record') void records.record(m.record);
      else if (m.type === 'program-released') events.emit('program-released', m.program);
    });
  });
  const { port, cert } = await ready;
  const node: ClusterNode = {
    get app(): never {
      return inProcessOnly();
    },
    events,
    config,
    url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}`,
    ca: cert ?? undefined,
    records,
    child,
    async close() {
      if (exited) return;
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      if (exited) return;
      child.kill('SIGKILL');
      await exit;
    },
  };
  return node;
}

let redis: PrivateRedis | null = null;
const clusters = new Map<string, Promise<Cluster>>();

/** `size` servers on the Redis named by `backendEnv` (`REDIS_URL` or `REDIS_CLUSTER_NODES`). */
async function startServers(backendEnv: Record<string, string>, env: Record<string, string>, size: number): Promise<Servers> {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  const records = new MemoryRecordSink();
  const fullEnv = { ...TEST_ENV, DATA_DIR: testDataDir(), ...env, ...backendEnv, REDIS_PREFIX: prefix };
  let n = 0;
  const addNode = async () => {
    n += 1;
    const node = await startNode(fullEnv, records, `node${n}`);
    servers.nodes.push(node);
    return node;
  };
  const servers: Servers = {
    nodes: [],
    records,
    prefix,
    env: fullEnv,
    addNode,
    close: async () => {
      await Promise.all(servers.nodes.map((node) => node.close()));
    },
  };
  // One first, so the certificate in DATA_DIR is made once, then the rest side by side.
  await addNode();
  await Promise.all(Array.from({ length: size - 1 }, () => addNode()));
  return servers;
}

async function createCluster(env: Record<string, string>, size: number): Promise<Cluster> {
  redis ??= await startRedis();
  const r = redis;
  return { ...(await startServers({ REDIS_URL: r.url }, env, size)), redis: r };
}

let redisCluster: Promise<PrivateRedisCluster> | null = null;
const onRedisCluster = new Map<string, Promise<ServersOnRedisCluster>>();

/** `size` servers for this configuration on the test file's private Redis Cluster (started once
 * per file, ~8 s): shared within the file, as `sharedCluster`. */
export function sharedRedisClusterServers(env: Record<string, string> = {}, size = 3): Promise<ServersOnRedisCluster> {
  const key = JSON.stringify([Object.entries(env).sort(), size]);
  let c = onRedisCluster.get(key);
  if (!c) {
    c = (async () => {
      redisCluster ??= startRedisCluster();
      const rc = await redisCluster;
      return { ...(await startServers({ REDIS_CLUSTER_NODES: rc.urls.join(',') }, env, size)), redisCluster: rc };
    })();
    onRedisCluster.set(key, c);
  }
  return c;
}

/** Servers on a Redis Cluster of their own, for tests that kill its nodes. Close it yourself:
 * that removes the Redis Cluster too. */
export async function privateRedisClusterServers(env: Record<string, string> = {}, size = 3): Promise<ServersOnRedisCluster> {
  const rc = await startRedisCluster();
  try {
    const s = await startServers({ REDIS_CLUSTER_NODES: rc.urls.join(',') }, env, size);
    const close = s.close;
    return {
      ...s,
      redisCluster: rc,
      close: async () => {
        await close();
        await rc.remove();
      },
    };
  } catch (err) {
    await rc.remove();
    throw err;
  }
}

/** A cluster of `size` servers for this configuration: shared within the test file. */
export function sharedCluster(env: Record<string, string> = {}, size = 3): Promise<Cluster> {
  const key = JSON.stringify([Object.entries(env).sort(), size]);
  let c = clusters.get(key);
  if (!c) {
    c = createCluster(env, size);
    clusters.set(key, c);
  }
  return c;
}

/** A cluster of its own, for tests that kill servers or Redis. Close it yourself. */
export async function privateCluster(
  env: Record<string, string> = {},
  size = 3,
  redisOptions: { persistent?: boolean } = {},
): Promise<Cluster> {
  const r = await startRedis(redisOptions);
  const previous = redis;
  redis = r;
  try {
    const c = await createCluster(env, size);
    const close = c.close;
    c.close = async () => {
      await close();
      await r.remove();
    };
    return c;
  } finally {
    redis = previous;
  }
}

afterAll(async () => {
  const all = await Promise.allSettled([...clusters.values(), ...onRedisCluster.values()]);
  clusters.clear();
  onRedisCluster.clear();
  await Promise.all(all.map((c) => (c.status === 'fulfilled' ? c.value.close() : undefined)));
  await redis?.remove();
  redis = null;
  const rc = await redisCluster?.catch(() => null);
  redisCluster = null;
  await rc?.remove();
});
