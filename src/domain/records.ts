import type { Logger } from 'pino';
import type { AggroRecord } from './model.js';

/** Where finished aggros go. `record` resolves once the record is durable: the end of an aggro
 * is broadcast only after it, so a client never sees an end that was not kept. */
export interface RecordSink {
  record(record: AggroRecord): Promise<void>;
  close(): Promise<void>;
}

/** The sink of a server without a database: one structured log line per finished aggro. */
export class LogRecordSink implements RecordSink {
  constructor(private readonly log: Logger) {}
  async record(record: AggroRecord): Promise<void> {
    this.log.info({ aggro: record }, 'aggro recorded');
  }
  async close(): Promise<void> {}
}
