/** `ModerationRecords` over the SQL both databases share (`$n` placeholders, row-value bounds). */
import { randomBytes } from 'node:crypto';
import type { FilterEntry } from '../domain/moderation/word-filter.js';
import type { AuditEntry, FilterList, ModerationRecords, Page, Report, ReportResolution } from '../domain/ports/moderation-records.js';
import type { SqlRunner } from './sql-record-store.js';

interface AuditRow {
  id: string;
  at: number | string;
  actor: string;
  action: string;
  schedule_uid: string | null;
  target: string | null;
  reason: string | null;
  detail: string | null;
}

interface ReportRow {
  id: string;
  schedule_uid: string;
  room_id: string;
  target_kind: string;
  target_id: string;
  target_user: string | null;
  text: string | null;
  reporter: string;
  reason: string;
  created_at: number | string;
  status: string;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: number | string | null;
}

const newId = () => randomBytes(12).toString('base64url');

function encode(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decode(cursor: string): { at: number; id: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || !Number.isSafeInteger(v[0]) || typeof v[1] !== 'string') return null;
    return { at: v[0] as number, id: v[1] as string };
  } catch {
    return null;
  }
}

function auditFromRow(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    scheduleUID: r.schedule_uid,
    target: r.target,
    reason: r.reason,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

function reportFromRow(r: ReportRow): Report {
  return {
    id: r.id,
    scheduleUID: r.schedule_uid,
    roomId: r.room_id,
    kind: r.target_kind as Report['kind'],
    targetId: r.target_id,
    targetUserUID: r.target_user,
    text: r.text,
    reporterUID: r.reporter,
    reason: r.reason,
    createdAt: Number(r.created_at),
    status: r.status as Report['status'],
    resolution: r.resolution as ReportResolution | null,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
  };
}

export class SqlModerationRecords implements ModerationRecords {
  constructor(private readonly sql: SqlRunner) {}

  async filters(): Promise<FilterList> {
    const rows = await this.sql.all<{ version: number | string; entries: string; updated_at: number | string }>('SELECT version, entries, updated_at FROM filter_list WHERE id = 1', []);
    const r = rows[0];
    return r ? { version: Number(r.version), entries: JSON.parse(r.entries) as FilterEntry[], updatedAt: Number(r.updated_at) } : { version: 0, entries: [], updatedAt: 0 };
  }

  async filterVersion(): Promise<number> {
    const rows = await this.sql.all<{ version: number | string }>('SELECT version FROM filter_list WHERE id = 1', []);
    return Number(rows[0]?.version ?? 0);
  }

  /** One statement: a server polling meanwhile reads the old list or the new one, never half. */
  async putFilters(entries: FilterEntry[], now: number): Promise<number> {
    const rows = await this.sql.all<{ version: number | string }>(
      'UPDATE filter_list SET version = version + 1, entries = $1, updated_at = $2 WHERE id = 1 RETURNING version',
      [JSON.stringify(entries), now],
    );
    return Number(rows[0]!.version);
  }

  async audit(e: Omit<AuditEntry, 'id'>): Promise<void> {
    await this.sql.run(
      'INSERT INTO audit_log (id, at, actor, action, schedule_uid, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [newId(), e.at, e.actor, e.action, e.scheduleUID, e.target, e.reason, e.detail === null ? null : JSON.stringify(e.detail)],
    );
  }

  async listAudit(q: { limit: number; cursor?: string | undefined; scheduleUID?: string | undefined }): Promise<Page<AuditEntry> | null> {
    const after = q.cursor === undefined ? undefined : decode(q.cursor);
    if (after === null) return null;
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.scheduleUID !== undefined) {
      params.push(q.scheduleUID);
      where.push(`schedule_uid = $${params.length}`);
    }
    if (after) {
      params.push(after.at, after.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(q.limit + 1);
    const rows = await this.sql.all<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, q.limit).map(auditFromRow);
    const last = items.at(-1);
    return { items, next: rows.length > q.limit && last ? encode(last.at, last.id) : null };
  }

  async addReport(r: Omit<Report, 'id' | 'status' | 'resolution' | 'resolvedBy' | 'resolvedAt'>): Promise<{ created: boolean; id: string; reporters: number }> {
    const id = newId();
    const created =
      (await this.sql.run(
        `INSERT INTO reports (id, schedule_uid, room_id, target_kind, target_id, target_user, text, reporter, reason, created_at, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open') ON CONFLICT (schedule_uid, target_kind, target_id, reporter) DO NOTHING`,
        [id, r.scheduleUID, r.roomId, r.kind, r.targetId, r.targetUserUID, r.text, r.reporterUID, r.reason, r.createdAt],
      )) > 0;
    const rows = await this.sql.all<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM reports WHERE schedule_uid = $1 AND target_kind = $2 AND target_id = $3',
      [r.scheduleUID, r.kind, r.targetId],
    );
    return { created, id, reporters: Number(rows[0]!.n) };
  }

  async listReports(q: { status: 'open' | 'resolved'; limit: number; cursor?: string | undefined }): Promise<Page<Report> | null> {
    const after = q.cursor === undefined ? undefined : decode(q.cursor);
    if (after === null) return null;
    const rows = after
      ? await this.sql.all<ReportRow>('SELECT * FROM reports WHERE status = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC LIMIT $4', [
          q.status,
          after.at,
          after.id,
          q.limit + 1,
        ])
      : await this.sql.all<ReportRow>('SELECT * FROM reports WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [q.status, q.limit + 1]);
    const items = rows.slice(0, q.limit).map(reportFromRow);
    const last = items.at(-1);
    return { items, next: rows.length > q.limit && last ? encode(last.createdAt, last.id) : null };
  }

  async getReport(id: string): Promise<Report | null> {
    const rows = await this.sql.all<ReportRow>('SELECT * FROM reports WHERE id = $1', [id]);
    return rows[0] ? reportFromRow(rows[0]) : null;
  }

  async resolveReports(id: string, resolution: ReportResolution, by: string, now: number): Promise<boolean> {
    const r = await this.getReport(id);
    if (!r || r.status !== 'open') return false;
    // Conditional on `open`: of two moderators resolving at once, one wins.
    const changed = await this.sql.run(
      `UPDATE reports SET status = 'resolved', resolution = $1, resolved_by = $2, resolved_at = $3
       WHERE schedule_uid = $4 AND target_kind = $5 AND target_id = $6 AND status = 'open'`,
      [resolution, by, now, r.scheduleUID, r.kind, r.targetId],
    );
    return changed > 0;
  }
}
