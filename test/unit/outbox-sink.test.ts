/**
 * The records sink at shutdown: a record whose save is still under way when `close()` is called
 * must reach the outbox before `close()` returns, or the process exits with it in nobody's hands.
 * (The database is a stand-in whose one write the test fails at the chosen moment; the outbox is
 * the real journal on disk.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AggroRecord } from '../../src/domain/model.js';
import { JOURNAL_FILE, JournalOutbox } from '../../src/records/journal.js';
import { OutboxRecordSink } from '../../src/records/outbox-sink.js';
import type { RecordStore } from '../../src/records/record-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const record: AggroRecord = {
  aggroUID: 'a1',
  scheduleUID: 'p',
  roomId: 'r',
  userUID: 'u',
  displayName: 'Mina',
  msg: 'hello',
  type: 'A',
  point: 3,
  up: 4,
  down: 1,
  startedAt: 1,
  endedAt: 2,
  endReason: 'expired',
};

describe('OutboxRecordSink.close', () => {
  it('waits for a record whose database write fails during shutdown, so it is in the journal when close() returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onair-outbox-'));
    dirs.push(dir);
    let failWrite: (err: Error) => void = () => {};
    const store = {
      saveAggro: () => new Promise<void>((_, reject) => (failWrite = reject)),
    } as unknown as RecordStore;
    const file = join(dir, JOURNAL_FILE);
    const sink = new OutboxRecordSink(store, [new JournalOutbox(file)], {
      retryMs: 60_000,
      writeTimeoutMs: 60_000,
      log: pino({ level: 'silent' }),
      observer: { recordDeferred: () => {}, recordsWrittenLate: () => {}, backendError: () => {} },
    });

    const recorded = sink.record(record);
    const closing = sink.close();
    failWrite(new Error('disk full'));
    await closing;
    expect(await new JournalOutbox(file).size()).toBe(1);
    await recorded;
  });
});
