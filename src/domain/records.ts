import type { AggroRecord } from './model.js';

/** Where finished aggros go. `record` resolves once the record is durable: the end of an aggro
 * is broadcast only after it, so a client never sees an end that was not kept. */
export interface RecordSink {
  record(record: AggroRecord): Promise<void>;
  close(): Promise<void>;
}
