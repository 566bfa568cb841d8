import type { AggroRecord } from '../domain/model.js';
import type { RecordSink } from '../domain/records.js';
import type { RecordStore } from './record-store.js';

/** Finished aggros into the database; the end is broadcast only once this resolves. */
export class DatabaseRecordSink implements RecordSink {
  constructor(private readonly store: RecordStore) {}
  async record(record: AggroRecord): Promise<void> {
    await this.store.saveAggro(record);
  }
  /** The store belongs to the app, which closes it. */
  async close(): Promise<void> {}
}
