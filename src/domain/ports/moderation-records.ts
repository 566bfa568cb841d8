/**
 * What moderation keeps in the database (spec section 9): the word-filter list (one document,
 * replaced whole, with a version every server polls), the audit log, and viewers' reports.
 * Implemented once over SQL for SQLite and PostgreSQL (`src/records/moderation-records.ts`).
 * Being in the database is what makes them hold across servers: a report's uniqueness per
 * reporter and target is the table's own constraint.
 */
import type { FilterEntry } from '../moderation/word-filter.js';

export interface FilterList {
  version: number;
  entries: FilterEntry[];
  updatedAt: number;
}

/** Who acted: `admin`, `moderator:<name>`, `owner:<userUID>` or `reports` (automatic hiding). */
export type Actor = string;

export interface AuditEntry {
  id: string;
  at: number;
  actor: Actor;
  action: string;
  scheduleUID: string | null;
  target: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

export type ReportTargetKind = 'message' | 'aggro' | 'user';
export type ReportResolution = 'dismiss' | 'remove' | 'mute' | 'ban';

export interface Report {
  id: string;
  scheduleUID: string;
  roomId: string;
  kind: ReportTargetKind;
  /** The message id, aggroUID or reported userUID. */
  targetId: string;
  /** The author of the reported message or aggro, or the reported user. */
  targetUserUID: string | null;
  /** A copy of the reported text as it was when reported (`null` for a user). */
  text: string | null;
  reporterUID: string;
  reason: string;
  createdAt: number;
  status: 'open' | 'resolved';
  resolution: ReportResolution | null;
  resolvedBy: Actor | null;
  resolvedAt: number | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface ModerationRecords {
  filters(): Promise<FilterList>;
  /** The version alone: what every server polls to see a change within a second. */
  filterVersion(): Promise<number>;
  /** Replace the whole list; the new version. */
  putFilters(entries: FilterEntry[], now: number): Promise<number>;

  audit(entry: Omit<AuditEntry, 'id'>): Promise<void>;
  /** Newest first; `scheduleUID` narrows to one programme. `null` for a cursor that is not ours. */
  listAudit(q: { limit: number; cursor?: string | undefined; scheduleUID?: string | undefined }): Promise<Page<AuditEntry> | null>;

  /** Keep a report unless this reporter reported this target already (`created: false`); the
   * number of distinct reporters of the target after it. */
  addReport(r: Omit<Report, 'id' | 'status' | 'resolution' | 'resolvedBy' | 'resolvedAt'>): Promise<{ created: boolean; id: string; reporters: number }>;
  listReports(q: { status: 'open' | 'resolved'; limit: number; cursor?: string | undefined }): Promise<Page<Report> | null>;
  getReport(id: string): Promise<Report | null>;
  /** Resolve every open report of the same target as `id`; `false` when `id` is unknown or already resolved. */
  resolveReports(id: string, resolution: ReportResolution, by: Actor, now: number): Promise<boolean>;
}
