/**
 * The outbox with Redis: one hash in the service slot (`<prefix>{_service}:records:outbox`, see
 * `state/redis/keys.ts`), `aggroUID` to the record's JSON. Any server drains it; two draining at
 * once write a record twice, which the database ignores. Records a server of an earlier version
 * left under the untagged name (`<prefix>records:outbox`, before Redis Cluster) are drained too,
 * on a single Redis, so an upgrade loses none.
 */
import type { AggroRecord } from '../domain/model.js';
import { serviceKey } from '../state/redis/keys.js';
import { parseRecord, type Outbox } from './outbox.js';

/** The slice of a node-redis client this outbox uses. */
export interface RedisOutboxCommands {
  hSet(key: string, field: string, value: string): Promise<unknown>;
  hDel(key: string, fields: string[]): Promise<unknown>;
  hLen(key: string): Promise<number>;
  hScan(key: string, cursor: string, options: { COUNT: number }): Promise<{ cursor: string; entries: { field: string; value: string }[] }>;
}

export class RedisOutbox implements Outbox {
  readonly name = 'redis' as const;
  readonly key: string;
  /** The name before the service slot; `null` on a Redis Cluster, which never had it. */
  private readonly legacyKey: string | null;

  constructor(
    private readonly redis: RedisOutboxCommands,
    prefix: string,
    options: { legacy?: boolean } = {},
  ) {
    this.key = serviceKey(prefix, 'records:outbox');
    this.legacyKey = options.legacy === false ? null : `${prefix}records:outbox`;
  }

  async put(record: AggroRecord): Promise<void> {
    await this.redis.hSet(this.key, record.aggroUID, JSON.stringify(record));
  }

  async pending(limit: number): Promise<AggroRecord[]> {
    const out = await this.read(this.key, limit);
    // Checked each round, so records an old server still puts there during a rolling upgrade
    // are drained too; one HLEN when there are none.
    if (this.legacyKey && out.length < limit && (await this.redis.hLen(this.legacyKey)) > 0) {
      out.push(...(await this.read(this.legacyKey, limit - out.length)));
    }
    return out.slice(0, limit);
  }

  private async read(key: string, limit: number): Promise<AggroRecord[]> {
    const out: AggroRecord[] = [];
    const junk: string[] = [];
    let cursor = '0';
    do {
      const page = await this.redis.hScan(key, cursor, { COUNT: limit });
      cursor = String(page.cursor);
      for (const { field, value } of page.entries) {
        const r = parseRecord(String(value));
        if (r) out.push(r);
        else junk.push(String(field));
      }
    } while (cursor !== '0' && out.length < limit);
    // Not a record (written by something else): it would otherwise count as pending forever.
    if (junk.length) await this.redis.hDel(key, junk);
    return out.slice(0, limit);
  }

  async remove(aggroUIDs: string[]): Promise<void> {
    if (!aggroUIDs.length) return;
    await this.redis.hDel(this.key, aggroUIDs);
    if (this.legacyKey) await this.redis.hDel(this.legacyKey, aggroUIDs);
  }

  async size(): Promise<number> {
    return (await this.redis.hLen(this.key)) + (this.legacyKey ? await this.redis.hLen(this.legacyKey) : 0);
  }
}
