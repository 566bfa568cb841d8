import type { AggroRecord } from '../model.js';

/** Where finished aggros go. `record` resolves once the record is durable (in the database, or
 * in an outbox that writes it there later): the end of an aggro is broadcast only after it. */
export interface RecordSink {
  record(record: AggroRecord): Promise<void>;
  close(): Promise<void>;
  /** False while records wait for a database that cannot take them (`/readyz`). */
  writable?(): boolean;
}
