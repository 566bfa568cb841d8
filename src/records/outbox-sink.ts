/**
 * Finished aggros into the database, or into an outbox when the database cannot take them, so
 * the end of an aggro is told on time whatever the database is doing, and its record is written
 * later, once (the database keeps the first record of an `aggroUID`).
 *
 * A record is kept in the first outbox that takes it (Redis, then the journal in `DATA_DIR`); if
 * none can (the journal sits on the same full disk as the database), it is held in memory and
 * retried: lost only if this process dies while neither the database nor an outbox can be
 * written.
 */
import type { Logger } from 'pino';
import type { AggroRecord } from '../domain/model.js';
import type { RecordSink } from '../domain/ports/records.js';
import type { Outbox } from './outbox.js';
import type { RecordStore } from './record-store.js';

export interface RecordsObserver {
  /** A record that the database could not take when its aggro ended; `to` where it waits. */
  recordDeferred(to: 'redis' | 'journal' | 'memory'): void;
  /** Records written to the database after waiting. */
  recordsWrittenLate(n: number): void;
  backendError(backend: 'database'): void;
}

export interface OutboxSinkOptions {
  /** How often waiting records are tried again. */
  retryMs: number;
  /** How long the end of an aggro waits for the database before its record goes to the outbox. */
  writeTimeoutMs: number;
  log: Logger;
  observer: RecordsObserver;
}

/** Per drain round, so a long backlog on a synchronous database (SQLite) never hogs the loop. */
const BATCH = 100;
const BATCHES_PER_ROUND = 10;

class WriteTimeout extends Error {
  constructor(ms: number) {
    super(`the database did not answer within ${ms} ms`);
  }
}

export class OutboxRecordSink implements RecordSink {
  /** Records no outbox could take. */
  private readonly memory = new Map<string, AggroRecord>();
  /** The last database write succeeded. While false, new records go straight to the outbox and
   * only the drain round probes the database: a locked or unreachable database then costs one
   * attempt per round, not one per aggro. */
  private databaseOk = true;
  private waiting = 0;
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private closed = false;
  /** Log a failure once per outage, not once per record. */
  private reported = false;
  /** Records still on their way to the database or an outbox: `close()` waits for them, or a
   * save failing during shutdown would reach memory after the last sweep and be lost unlogged. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly store: RecordStore,
    private readonly outboxes: Outbox[],
    private readonly options: OutboxSinkOptions,
  ) {}

  /** Drain what a previous run left, then keep draining. */
  start(): void {
    const round = () => void this.drain().catch((err: unknown) => this.options.log.error({ err }, 'draining records failed'));
    this.timer ??= setInterval(round, this.options.retryMs).unref();
    round();
  }

  /** Records waiting for the database (as of the last drain round, plus those deferred since). */
  pending(): number {
    return this.waiting;
  }

  writable(): boolean {
    return this.databaseOk || this.waiting === 0;
  }

  record(record: AggroRecord): Promise<void> {
    const work = this.keep(record).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
    return work;
  }

  private async keep(record: AggroRecord): Promise<void> {
    if (this.databaseOk && !this.closed) {
      try {
        await this.save(record);
        return;
      } catch (err) {
        this.failed(err, 'recording aggro failed; it waits in the outbox');
      }
    }
    await this.defer(record);
  }

  /** Resolves once written; rejects on failure or after `writeTimeoutMs` (the write may still
   * land: the outbox copy is then written again, harmlessly). */
  private save(record: AggroRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      const ms = this.options.writeTimeoutMs;
      const t = setTimeout(() => reject(new WriteTimeout(ms)), ms);
      this.store.saveAggro(record).then(
        () => {
          clearTimeout(t);
          this.databaseOk = true;
          resolve();
        },
        (err: unknown) => {
          clearTimeout(t);
          reject(err);
        },
      );
    });
  }

  private failed(err: unknown, message: string): void {
    this.databaseOk = false;
    this.options.observer.backendError('database');
    if (!this.reported) this.options.log.error({ err }, message);
    this.reported = true;
  }

  private async defer(record: AggroRecord): Promise<void> {
    this.waiting += 1;
    for (const outbox of this.outboxes) {
      try {
        await outbox.put(record);
        this.options.observer.recordDeferred(outbox.name);
        return;
      } catch (err) {
        this.options.log.warn({ err, outbox: outbox.name, aggroUID: record.aggroUID }, 'outbox failed');
      }
    }
    this.memory.set(record.aggroUID, record);
    this.options.observer.recordDeferred('memory');
    this.options.log.error({ aggroUID: record.aggroUID }, 'neither the database nor an outbox can take the record; held in memory and retried');
  }

  /** One drain round at a time. */
  drain(): Promise<void> {
    this.round ??= this.drainRound().finally(() => (this.round = null));
    return this.round;
  }

  private async drainRound(): Promise<void> {
    let written = 0;
    let down = false;
    for (const r of [...this.memory.values()]) {
      try {
        await this.save(r);
        this.memory.delete(r.aggroUID);
        written += 1;
      } catch (err) {
        this.failed(err, 'writing waiting records failed; will retry');
        down = true;
        break;
      }
    }
    // What the database would not take, an outbox may now keep durably.
    for (const r of [...this.memory.values()]) {
      for (const outbox of this.outboxes) {
        try {
          await outbox.put(r);
          this.memory.delete(r.aggroUID);
          break;
        } catch {
          // the next outbox, or memory until the next round
        }
      }
    }
    for (const outbox of this.outboxes) {
      for (let n = 0; !down && n < BATCHES_PER_ROUND; n += 1) {
        const batch = await outbox.pending(BATCH).catch(() => []);
        if (!batch.length) break;
        const done: string[] = [];
        for (const r of batch) {
          try {
            await this.save(r);
            done.push(r.aggroUID);
          } catch (err) {
            this.failed(err, 'writing waiting records failed; will retry');
            down = true;
            break;
          }
        }
        written += done.length;
        // Not forgotten: written again next round, which the database ignores.
        const removed = await outbox.remove(done).then(() => true, () => false);
        if (!removed || done.length < batch.length) break;
      }
      await outbox.maintain?.().catch(() => {});
    }
    if (written) this.options.observer.recordsWrittenLate(written);
    let waiting = this.memory.size;
    for (const outbox of this.outboxes) waiting += await outbox.size().catch(() => 0);
    this.waiting = waiting;
    if (written && !down) {
      if (this.reported) this.options.log.info({ written, waiting }, 'the database takes records again');
      this.reported = false;
    }
  }

  /** Stop draining; what is still only in memory is tried in the outboxes once more, and
   * reported lost if it cannot be kept. Outboxes keep theirs for the next start (or, in Redis,
   * for any other server). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.inFlight]);
    await this.round;
    if (this.memory.size && this.databaseOk) await this.drainRound().catch(() => {});
    for (const r of [...this.memory.values()]) {
      for (const outbox of this.outboxes) {
        if (await outbox.put(r).then(() => true, () => false)) {
          this.memory.delete(r.aggroUID);
          break;
        }
      }
    }
    if (this.memory.size) {
      this.options.log.error({ lost: this.memory.size, aggroUIDs: [...this.memory.keys()] }, 'records lost: neither the database nor an outbox could take them before shutdown');
    }
  }
}
