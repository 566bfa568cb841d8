/**
 * The outbox with Redis: one hash under the key prefix, `aggroUID` to the record's JSON. Any
 * server drains it; two draining at once write a record twice, which the database ignores.
 */
import type { AggroRecord } from '../domain/model.js';
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

  constructor(
    private readonly redis: RedisOutboxCommands,
    prefix: string,
  ) {
    this.key = `${prefix}records:outbox`;
  }

  async put(record: AggroRecord): Promise<void> {
    await this.redis.hSet(this.key, record.aggroUID, JSON.stringify(record));
  }

  async pending(limit: number): Promise<AggroRecord[]> {
    const out: AggroRecord[] = [];
    const junk: string[] = [];
    let cursor = '0';
    do {
      const page = await this.redis.hScan(this.key, cursor, { COUNT: limit });
      cursor = String(page.cursor);
      for (const { field, value } of page.entries) {
        const r = parseRecord(String(value));
        if (r) out.push(r);
        else junk.push(String(field));
      }
    } while (cursor !== '0' && out.length < limit);
    // Not a record (written by something else): it would otherwise count as pending forever.
    if (junk.length) await this.redis.hDel(this.key, junk);
    return out.slice(0, limit);
  }

  async remove(aggroUIDs: string[]): Promise<void> {
    if (aggroUIDs.length) await this.redis.hDel(this.key, aggroUIDs);
  }

  size(): Promise<number> {
    return this.redis.hLen(this.key);
  }
}
