/**
 * The outbox without Redis: an append-only file of JSON lines in `DATA_DIR`, each append
 * fsync'd before the record counts as kept. Read back at start; emptied (or rewritten without the
 * records now in the database) as the database takes them. A line may be torn by a full disk or
 * a crash: every append starts on a fresh line and unreadable lines are skipped, so a torn line
 * costs only its own record, which was never reported kept.
 *
 * One process per file: servers sharing a `DATA_DIR` without Redis are not a supported topology.
 */
import { readFileSync } from 'node:fs';
import { open, rename, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AggroRecord } from '../domain/model.js';
import { parseRecord, type Outbox } from './outbox.js';

export const JOURNAL_FILE = 'records-outbox.jsonl';

export class JournalOutbox implements Outbox {
  readonly name = 'journal' as const;
  /** What the file holds that the database may not: the file is the truth at start only. */
  private readonly entries = new Map<string, AggroRecord>();
  /** The file still holds records the database has taken; compaction failed and is retried. */
  private stale = false;
  /** Appends and rewrites one at a time, so a rewrite never drops a concurrent append. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Reads what a previous run left (synchronously: at start, before any record is ended). */
  constructor(readonly file: string) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const r = parseRecord(line);
      if (r) this.entries.set(r.aggroUID, r);
    }
    this.stale = text.length > 0 && this.entries.size === 0;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  put(record: AggroRecord): Promise<void> {
    return this.serial(async () => {
      const fh = await open(this.file, 'a');
      try {
        await fh.write(`\n${JSON.stringify(record)}`);
        await fh.sync();
      } finally {
        await fh.close().catch(() => {});
      }
      this.entries.set(record.aggroUID, record);
    });
  }

  async pending(limit: number): Promise<AggroRecord[]> {
    return [...this.entries.values()].slice(0, limit);
  }

  async size(): Promise<number> {
    return this.entries.size;
  }

  async remove(aggroUIDs: string[]): Promise<void> {
    for (const uid of aggroUIDs) this.entries.delete(uid);
    if (aggroUIDs.length) this.stale = true;
    await this.maintain();
  }

  /** Drop the lines of records now in the database. Failing (a full or read-only disk) leaves
   * the old file: a superset, replayed harmlessly since the database ignores a second write. */
  maintain(): Promise<void> {
    if (!this.stale) return Promise.resolve();
    return this.serial(async () => {
      if (this.entries.size === 0) {
        await truncate(this.file, 0);
      } else {
        const tmp = `${this.file}.tmp`;
        const fh = await open(tmp, 'w');
        try {
          await fh.write([...this.entries.values()].map((r) => `\n${JSON.stringify(r)}`).join(''));
          await fh.sync();
        } finally {
          await fh.close().catch(() => {});
        }
        await rename(tmp, this.file);
        const dir = await open(dirname(this.file), 'r');
        await dir.sync().finally(() => dir.close());
      }
      this.stale = false;
    }).catch(() => {});
  }
}
