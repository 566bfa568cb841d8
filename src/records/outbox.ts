/**
 * Where a finished aggro waits when the database cannot take it: durable storage outside the
 * database (Redis, or a journal file), drained into the database once it can take the record.
 * Draining is safe to repeat and to run from many servers at once because `saveAggro` keeps the
 * first record of an `aggroUID` and ignores the rest.
 */
import { z } from 'zod';
import type { AggroRecord } from '../domain/model.js';
import { END_REASONS } from './record-store.js';

export interface Outbox {
  /** For logs and the `to` label of `onair_records_deferred_total`. */
  readonly name: 'redis' | 'journal';
  /** Keep a record until `remove`; resolves once it is durable, rejects when it could not be. */
  put(record: AggroRecord): Promise<void>;
  /** Up to `limit` waiting records (any order: the database sorts on read). */
  pending(limit: number): Promise<AggroRecord[]>;
  /** Forget records now in the database. */
  remove(aggroUIDs: string[]): Promise<void>;
  size(): Promise<number>;
  /** Housekeeping a drain round may retry (a journal that could not be compacted). */
  maintain?(): Promise<void>;
}

const recordSchema = z.object({
  aggroUID: z.string().min(1),
  scheduleUID: z.string().min(1),
  roomId: z.string().min(1),
  userUID: z.string(),
  displayName: z.string(),
  msg: z.string(),
  type: z.enum(['A', 'AP']),
  titleBroad: z.string().optional(),
  point: z.number().int(),
  up: z.number().int(),
  down: z.number().int(),
  startedAt: z.number().int(),
  endedAt: z.number().int(),
  endReason: z.enum(END_REASONS as [AggroRecord['endReason'], ...AggroRecord['endReason'][]]),
});

/** A record read back from an outbox, or `null` for text that is not one (a torn line). */
export function parseRecord(text: string): AggroRecord | null {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return null;
    const { titleBroad, ...rest } = parsed.data;
    return titleBroad === undefined ? rest : { ...rest, titleBroad };
  } catch {
    return null;
  }
}
