/** Node liveness, per-node socket lists and shared deadlines in Redis (see `../cluster.ts`). Every
 * key here is service-wide, under one hash tag (`keys.ts`), so the claim below touches one slot
 * on a Redis Cluster. */
import type { Deadline, DeadlineIndex, NodeRegistry, SocketEntry } from '../../domain/ports/cluster.js';
import { serviceKey } from './keys.js';

/** Claim stale servers: each still stale at the moment of the claim is removed from `nodes`, and
 * its socket set moves to `orphans:<id>` (listed in `orphans`) until each socket is settled.
 * KEYS: nodes, orphans. ARGV: cutoff, own id, the service keys' prefix (`<prefix>{_service}:`, the
 * slot of both KEYS, so the keys made from it are in that slot too). */
const CLAIM_DEAD = `
local claimed = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  if id ~= ARGV[2] then
    redis.call('ZREM', KEYS[1], id)
    local sockets = ARGV[3] .. 'node:' .. id .. ':sockets'
    local orphans = ARGV[3] .. 'orphans:' .. id
    if redis.call('EXISTS', sockets) == 1 then
      redis.call('SUNIONSTORE', orphans, orphans, sockets)
      redis.call('DEL', sockets)
      redis.call('SADD', KEYS[2], id)
    end
    claimed[#claimed + 1] = id
  end
end
return claimed
`;

export interface RedisClusterCommands {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  sCard(key: string): Promise<number>;
  zAdd(key: string, members: { score: number; value: string }[]): Promise<unknown>;
  zRem(key: string, member: string | string[]): Promise<number>;
  zRangeByScore(key: string, min: number | string, max: number | string, options?: { LIMIT: { offset: number; count: number } }): Promise<string[]>;
  sAdd(key: string, member: string): Promise<unknown>;
  sRem(key: string, member: string): Promise<unknown>;
  sMembers(key: string): Promise<string[]>;
  del(key: string | string[]): Promise<unknown>;
}

/** An entry by value: the same fields in the same order, whatever object it came in. */
function encodeSocket(e: SocketEntry): string {
  return JSON.stringify({ p: e.p, socketId: e.socketId, userUID: e.userUID, displayName: e.displayName });
}

export class RedisNodeRegistry implements NodeRegistry {
  constructor(
    private readonly redis: RedisClusterCommands,
    private readonly prefix: string,
    readonly nodeId: string,
  ) {}

  private get nodesKey(): string {
    return serviceKey(this.prefix, 'nodes');
  }
  private socketsKey(nodeId: string): string {
    return serviceKey(this.prefix, `node:${nodeId}:sockets`);
  }
  private orphanKey(nodeId: string): string {
    return serviceKey(this.prefix, `orphans:${nodeId}`);
  }

  async heartbeat(now: number): Promise<boolean> {
    return (await this.redis.zAdd(this.nodesKey, [{ score: now, value: this.nodeId }])) === 1;
  }

  async leave(): Promise<void> {
    await this.redis.zRem(this.nodesKey, this.nodeId);
    await this.redis.del(this.socketsKey(this.nodeId));
  }

  async addSocket(entry: SocketEntry): Promise<void> {
    await this.redis.sAdd(this.socketsKey(this.nodeId), encodeSocket(entry));
  }

  async removeSocket(entry: SocketEntry): Promise<void> {
    await this.redis.sRem(this.socketsKey(this.nodeId), encodeSocket(entry));
  }

  private get orphansKey(): string {
    return serviceKey(this.prefix, 'orphans');
  }

  async claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]> {
    await this.redis.eval(CLAIM_DEAD, {
      keys: [this.nodesKey, this.orphansKey],
      arguments: [String(now - timeoutMs), this.nodeId, serviceKey(this.prefix, '')],
    });
    const pending: { nodeId: string; sockets: SocketEntry[] }[] = [];
    for (const nodeId of await this.redis.sMembers(this.orphansKey)) {
      const sockets = (await this.redis.sMembers(this.orphanKey(nodeId))).map((s) => JSON.parse(s) as SocketEntry);
      if (sockets.length === 0) await this.redis.sRem(this.orphansKey, nodeId);
      else pending.push({ nodeId, sockets });
    }
    return pending;
  }

  async settle(nodeId: string, entry: SocketEntry): Promise<void> {
    const key = this.orphanKey(nodeId);
    await this.redis.sRem(key, encodeSocket(entry));
    if ((await this.redis.sCard(key)) === 0) await this.redis.sRem(this.orphansKey, nodeId);
  }
}

function encode(d: Deadline): string {
  if (d.kind === 'session') return `session\n${d.p}\n${d.userUID}\n${d.socketId}`;
  return d.kind === 'count' ? `count\n${d.p}\n${d.roomId}` : `${d.kind}\n${d.p}\n${d.roomId}\n${d.aggroUID}`;
}

function decode(s: string): Deadline | null {
  const [kind, p, roomId, aggroUID] = s.split('\n');
  if (!p || !roomId) return null;
  if (kind === 'count') return { kind, p, roomId };
  // A session's: the user and the socket in the places of the room and the aggro.
  if (kind === 'session' && aggroUID) return { kind, p, userUID: roomId, socketId: aggroUID };
  if ((kind === 'aggro' || kind === 'point') && aggroUID) return { kind, p, roomId, aggroUID };
  return null;
}

export class RedisDeadlineIndex implements DeadlineIndex {
  constructor(
    private readonly redis: RedisClusterCommands,
    private readonly prefix: string,
  ) {}

  private get key(): string {
    return serviceKey(this.prefix, 'deadlines');
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
