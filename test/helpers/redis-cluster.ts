/**
 * A private Redis Cluster for tests: 3 masters and a replica each, started from
 * /usr/bin/redis-server with `--cluster-enabled yes` on free ports (the cluster bus on a free
 * port of its own too, `--cluster-port`), each in its own temporary directory and without
 * persistence, joined with `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, and
 * removed afterwards (every process killed by its PID, the directories deleted). The machine's
 * shared Redis on 6379 is never touched.
 *
 * `--cluster-node-timeout 2000`: a killed master is marked failed after 2 s and its replica
 * promoted a second or so later (the failover test counts on that). `--cluster-require-full-coverage
 * no`: the other shards keep serving meanwhile.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort } from './net.js';
import { REDIS_BIN } from './redis.js';

const REDIS_CLI = process.env.REDIS_CLI_BIN ?? '/usr/bin/redis-cli';
const NODE_TIMEOUT_MS = 2000;
const run = promisify(execFile);

export interface ClusterRedisNode {
  port: number;
  url: string;
  /** Whether the process still runs (a test may have killed it). */
  readonly alive: boolean;
}

export interface ClusterShard {
  master: ClusterRedisNode;
  replicas: ClusterRedisNode[];
  /** Inclusive ranges. */
  slots: [number, number][];
}

export interface PrivateRedisCluster {
  nodes: ClusterRedisNode[];
  /** Every node's URL: what `REDIS_CLUSTER_NODES` gets. */
  urls: string[];
  /** The hash slot of a key (`CLUSTER KEYSLOT`, asked of a live node). */
  keySlot(key: string): Promise<number>;
  /** The shards as a live node sees them now (`CLUSTER NODES`). */
  shards(): Promise<ClusterShard[]>;
  /** The master serving `slot` now. */
  masterOf(slot: number): Promise<ClusterRedisNode>;
  /** SIGKILL one node, as a crashed machine. */
  kill(node: ClusterRedisNode): Promise<void>;
  /** Until every live node says `cluster_state:ok` and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Kill every process and delete the directories. */
  remove(): Promise<void>;
}

interface Proc {
  node: ClusterRedisNode;
  child: ChildProcess;
  exited: Promise<void>;
}

async function command(port: number, args: string[]): Promise<string> {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  c.on('error', () => {});
  await c.connect();
  try {
    return String(await c.sendCommand(args));
  } finally {
    c.destroy();
  }
}

/** Poll until `check` holds: redis-server has no event a test could wait on instead. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`redis cluster: ${what} within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseNodes(text: string, byPort: Map<number, ClusterRedisNode>): ClusterShard[] {
  const rows = text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(' '))
    .map(([id, addr, flags, masterId, , , , , ...slots]) => ({
      id: id!,
      port: Number(addr!.split('@')[0]!.split(':')[1]),
      flags: flags!.split(','),
      masterId: masterId!,
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [a, b] = s.split('-');
        return [Number(a), Number(b ?? a)] as [number, number];
      }),
    }));
  const shards: ClusterShard[] = [];
  for (const m of rows.filter((r) => r.flags.includes('master') && !r.flags.includes('fail') && r.slots.length > 0)) {
    const master = byPort.get(m.port);
    if (!master) continue;
    const replicas = rows.filter((r) => r.masterId === m.id).map((r) => byPort.get(r.port)).filter((n): n is ClusterRedisNode => n !== undefined);
    shards.push({ master, replicas, slots: m.slots });
  }
  return shards;
}

export async function startRedisCluster(options: { masters?: number; replicas?: number } = {}): Promise<PrivateRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const count = masters * (1 + replicas);
  const dir = mkdtempSync(join(tmpdir(), 'onair-rcluster-'));
  const procs: Proc[] = [];
  const remove = async () => {
    await Promise.all(
      procs.map(async (p) => {
        if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
        await p.exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i += 1) {
      const port = await freePort();
      const bus = await freePort();
      const own = mkdtempSync(join(dir, `n${i}-`));
      const child = spawn(
        REDIS_BIN,
        [
          '--port', String(port),
          '--cluster-port', String(bus),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
          // As onair needs it in production (docs/scaling.md): with full coverage required (Redis'
          // default) every shard answers CLUSTERDOWN while one has no master, so one shard's
          // failover would stop every programme.
          '--cluster-require-full-coverage', 'no',
          '--cluster-config-file', join(own, 'nodes.conf'),
          '--dir', own,
          '--save', '',
          '--appendonly', 'no',
          '--protected-mode', 'yes',
        ],
        { stdio: 'ignore' },
      );
      let alive = true;
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          alive = false;
          resolve();
        }),
      );
      const node: ClusterRedisNode = {
        port,
        url: `redis://127.0.0.1:${port}`,
        get alive() {
          return alive;
        },
      };
      procs.push({ node, child, exited });
    }
    const nodes = procs.map((p) => p.node);
    // Six redis-servers start at once beside two test files' servers: on a loaded 2-core machine
    // one took over 5 s to answer (CI, 2026-12-02).
    for (const n of nodes) await until(`node ${n.port} answers`, 20_000, async () => (await command(n.port, ['PING'])) === 'PONG');
    await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: 30_000,
    });
    const byPort = new Map(nodes.map((n) => [n.port, n]));
    const live = () => nodes.filter((n) => n.alive);

    const shards = async () => {
      for (const n of live()) {
        try {
          return parseNodes(await command(n.port, ['CLUSTER', 'NODES']), byPort);
        } catch {
          // That node is going away: ask the next.
        }
      }
      throw new Error('redis cluster: no live node answers');
    };

    const waitHealthy = async (timeoutMs = 20_000) => {
      await until('every live node says cluster_state:ok', timeoutMs, async () => {
        for (const n of live()) {
          if (!(await command(n.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
        }
        // Every slot has a live master, as every live node sees it, and every replica of a live
        // master is in sync (a replica that is not may not take over when its master dies).
        for (const n of live()) {
          const seen = parseNodes(await command(n.port, ['CLUSTER', 'NODES']), byPort);
          const covered = seen.filter((s) => s.master.alive).reduce((sum, s) => sum + s.slots.reduce((a, [x, y]) => a + y - x + 1, 0), 0);
          if (covered !== 16384) return false;
        }
        for (const s of await shards()) {
          for (const r of s.replicas.filter((x) => x.alive)) {
            if (!(await command(r.port, ['INFO', 'replication'])).includes('master_link_status:up')) return false;
          }
        }
        return true;
      });
    };
    await waitHealthy();

    return {
      nodes,
      urls: nodes.map((n) => n.url),
      keySlot: async (key) => {
        for (const n of live()) {
          try {
            return Number(await command(n.port, ['CLUSTER', 'KEYSLOT', key]));
          } catch {
            // Try the next node.
          }
        }
        throw new Error('redis cluster: no live node answers');
      },
      shards,
      masterOf: async (slot) => {
        const s = (await shards()).find((x) => x.slots.some(([a, b]) => slot >= a && slot <= b));
        if (!s) throw new Error(`redis cluster: no master serves slot ${slot}`);
        return s.master;
      },
      kill: async (node) => {
        const p = procs.find((x) => x.node === node);
        if (!p || !node.alive) return;
        p.child.kill('SIGKILL');
        await p.exited;
      },
      waitHealthy,
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
