/** Node liveness, per-node socket lists and shared deadlines in Redis (see `../cluster.ts`). */
import type { Deadline, DeadlineIndex, NodeRegistry, SocketEntry } from '../cluster.js';

export interface RedisClusterCommands {
  zAdd(key: string, members: { score: number; value: string }[]): Promise<unknown>;
  zRem(key: string, member: string | string[]): Promise<number>;
  zRangeByScore(key: string, min: number | string, max: number | string, options?: { LIMIT: { offset: number; count: number } }): Promise<string[]>;
  sAdd(key: string, member: string): Promise<unknown>;
  sRem(key: string, member: string): Promise<unknown>;
  sMembers(key: string): Promise<string[]>;
  del(key: string | string[]): Promise<unknown>;
}

export class RedisNodeRegistry implements NodeRegistry {
  constructor(
    private readonly redis: RedisClusterCommands,
    private readonly prefix: string,
    readonly nodeId: string,
  ) {}

  private get nodesKey(): string {
    return `${this.prefix}nodes`;
  }
  private socketsKey(nodeId: string): string {
    return `${this.prefix}node:${nodeId}:sockets`;
  }

  async heartbeat(now: number): Promise<boolean> {
    return (await this.redis.zAdd(this.nodesKey, [{ score: now, value: this.nodeId }])) === 1;
  }

  async leave(): Promise<void> {
    await this.redis.zRem(this.nodesKey, this.nodeId);
    await this.redis.del(this.socketsKey(this.nodeId));
  }

  async addSocket(entry: SocketEntry): Promise<void> {
    await this.redis.sAdd(this.socketsKey(this.nodeId), JSON.stringify(entry));
  }

  async removeSocket(entry: SocketEntry): Promise<void> {
    await this.redis.sRem(this.socketsKey(this.nodeId), JSON.stringify(entry));
  }

  async claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]> {
    const stale = await this.redis.zRangeByScore(this.nodesKey, '-inf', now - timeoutMs);
    const claimed: { nodeId: string; sockets: SocketEntry[] }[] = [];
    for (const nodeId of stale) {
      if (nodeId === this.nodeId) continue;
      // ZREM answers 1 to exactly one caller: that server owns the clean-up.
      if ((await this.redis.zRem(this.nodesKey, nodeId)) !== 1) continue;
      const key = this.socketsKey(nodeId);
      const sockets = (await this.redis.sMembers(key)).map((s) => JSON.parse(s) as SocketEntry);
      await this.redis.del(key);
      claimed.push({ nodeId, sockets });
    }
    return claimed;
  }
}

function encode(d: Deadline): string {
  return d.kind === 'count' ? `count\n${d.p}\n${d.roomId}` : `${d.kind}\n${d.p}\n${d.roomId}\n${d.aggroUID}`;
}

function decode(s: string): Deadline | null {
  const [kind, p, roomId, aggroUID] = s.split('\n');
  if (!p || !roomId) return null;
  if (kind === 'count') return { kind, p, roomId };
  if ((kind === 'aggro' || kind === 'point') && aggroUID) return { kind, p, roomId, aggroUID };
  return null;
}

export class RedisDeadlineIndex implements DeadlineIndex {
  constructor(
    private readonly redis: RedisClusterCommands,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return `${this.prefix}deadlines`;
  }

  async add(d: Deadline, at: number): Promise<void> {
    await this.redis.zAdd(this.key, [{ score: at, value: encode(d) }]);
  }

  async remove(d: Deadline): Promise<void> {
    await this.redis.zRem(this.key, encode(d));
  }

  async due(before: number, limit: number): Promise<Deadline[]> {
    const raw = await this.redis.zRangeByScore(this.key, '-inf', before, { LIMIT: { offset: 0, count: limit } });
    return raw.map(decode).filter((d): d is Deadline => d !== null);
  }
}
