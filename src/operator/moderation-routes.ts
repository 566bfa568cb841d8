/**
 * The moderation routes of the admin API (spec section 9): the only ones a moderator's token
 * opens (`moderation: true`); `ADMIN_TOKEN` opens them too. Every action is audited, naming who
 * acted (`Call.actor`).
 */
import { z } from 'zod';
import type { AdminRoute } from './admin-api.js';
import { HttpError } from './http-errors.js';
import * as M from './moderation-schemas.js';

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError('BAD_REQUEST', 'invalid request', r.error.issues.map((i) => ({ path: i.path, message: i.message })));
  return r.data;
}

/** A resolution's mute without `seconds`: ten minutes, a common timeout. */
const DEFAULT_MUTE_SECONDS = 600;

export function moderationRoutes(): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/filters',
      summary: 'The word filter: every entry, everywhere and per programme',
      moderation: true,
      ok: [200, M.filtersReply],
      async handle(d) {
        return { status: 200, body: await d.records.moderation.filters() };
      },
    },
    {
      method: 'PUT',
      path: '/admin/filters',
      summary: 'Replace the word filter; in force on every server within a second',
      moderation: true,
      body: M.filtersBody,
      ok: [200, M.filtersReply],
      async handle(d, { body, actor }) {
        const { entries } = parse(M.filtersBody, body);
        const clean = entries.map((e) => ({ text: e.text, action: e.action, ...(e.scheduleUID ? { scheduleUID: e.scheduleUID } : {}) }));
        const now = d.clock.now();
        const version = await d.records.moderation.putFilters(clean, now);
        await d.records.moderation.audit({ at: now, actor, action: 'filters', scheduleUID: null, target: null, reason: null, detail: { version, entries: clean.length } });
        // This server at once; the others at their next poll.
        await d.filters.refresh();
        return { status: 200, body: { version, entries: clean, updatedAt: now } };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/programs/:scheduleUID/messages/:id',
      summary: 'Remove a chat message: its room gets deleteChat and it leaves the history',
      moderation: true,
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, actor }) {
        if (!(await d.moderation.removeMessage(params.scheduleUID!, params.id!, actor))) throw new HttpError('NOT_FOUND');
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/mutes',
      summary: 'Mutes in force, soonest end first',
      moderation: true,
      ok: [200, M.mutesReply],
      async handle(d, { params }) {
        return { status: 200, body: { mutes: await d.moderation.mutes(params.scheduleUID!) } };
      },
    },
    {
      method: 'PUT',
      path: '/admin/programs/:scheduleUID/mutes/:userUID',
      summary: 'Mute a user for `seconds`: chat, aggros and votes get EM004 with `until`; the user gets system MUTED and stays connected',
      moderation: true,
      body: M.muteBody,
      ok: [200, M.muteReply],
      async handle(d, { params, body, actor }) {
        const input = parse(M.muteBody, body);
        const until = await d.moderation.mute(params.scheduleUID!, params.userUID!, input.seconds, actor, input.reason ?? null);
        return { status: 200, body: { userUID: params.userUID!, until } };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/programs/:scheduleUID/mutes/:userUID',
      summary: 'Lift a mute',
      moderation: true,
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, actor }) {
        if (!(await d.moderation.unmute(params.scheduleUID!, params.userUID!, actor))) throw new HttpError('NOT_FOUND');
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/slow-mode',
      summary: 'Slow modes in force (roomId null: every room of the programme)',
      moderation: true,
      ok: [200, M.slowModesReply],
      async handle(d, { params }) {
        return { status: 200, body: { slowModes: await d.moderation.slowModes(params.scheduleUID!) } };
      },
    },
    {
      method: 'PUT',
      path: '/admin/programs/:scheduleUID/slow-mode',
      summary: 'Slow mode for a room or the whole programme (0 ends it): sooner is EM005 with retryAfterMs; the room gets system SLOW_MODE',
      moderation: true,
      body: M.slowModeBody,
      ok: [200, M.slowModesReply],
      async handle(d, { params, body, actor }) {
        const input = parse(M.slowModeBody, body);
        const p = params.scheduleUID!;
        await d.moderation.setSlowMode(p, input.seconds, input.roomId ?? null, actor);
        return { status: 200, body: { slowModes: await d.moderation.slowModes(p) } };
      },
    },
    {
      method: 'GET',
      path: '/admin/reports',
      summary: "Viewers' reports, newest first, paged",
      moderation: true,
      query: M.reportsQuery,
      ok: [200, M.reportsReply],
      async handle(d, { query }) {
        const q = parse(M.reportsQuery, Object.fromEntries(query));
        const page = await d.records.moderation.listReports({ status: q.status, limit: q.limit, cursor: q.cursor });
        if (!page) throw new HttpError('BAD_REQUEST', 'invalid cursor');
        return { status: 200, body: page };
      },
    },
    {
      method: 'POST',
      path: '/admin/reports/:id/resolve',
      summary: 'Resolve a report and every other open report of the same target: dismiss, remove the message or aggro, mute or ban its author; a resolved report comes back as it was, nothing done again',
      moderation: true,
      body: M.resolveBody,
      ok: [200, M.reportReply],
      errors: ['NOT_FOUND'],
      async handle(d, { params, body, actor }) {
        const input = parse(M.resolveBody, body);
        const report = await d.records.moderation.getReport(params.id!);
        if (!report) throw new HttpError('NOT_FOUND');
        const now = d.clock.now();
        // The resolution is decided first: of two moderators resolving at once, one acts; the
        // other (and anyone resolving it again) gets the report as it was resolved, unchanged.
        if (!(await d.records.moderation.resolveReports(report.id, input.action, actor, now))) {
          return { status: 200, body: (await d.records.moderation.getReport(report.id))! };
        }
        const p = report.scheduleUID;
        const reason = input.reason ?? `report ${report.id}`;
        if (input.action === 'remove') {
          if (report.kind === 'message') await d.moderation.removeMessage(p, report.targetId, actor, reason);
          else if (report.kind === 'aggro') await d.service.removeAggro(p, report.targetId);
        } else if (input.action === 'mute' && report.targetUserUID) {
          await d.moderation.mute(p, report.targetUserUID, input.seconds ?? DEFAULT_MUTE_SECONDS, actor, reason);
        } else if (input.action === 'ban' && report.targetUserUID) {
          await d.records.putBan({ userUID: report.targetUserUID, scheduleUID: p, reason, createdAt: now });
          await d.service.endSession(p, report.targetUserUID, 'BANNED', 'A moderator banned you.');
        }
        await d.records.moderation.audit({ at: now, actor, action: `report_${input.action}`, scheduleUID: p, target: report.targetUserUID ?? report.targetId, reason, detail: { report: report.id, kind: report.kind, targetId: report.targetId } });
        return { status: 200, body: (await d.records.moderation.getReport(report.id))! };
      },
    },
    {
      method: 'GET',
      path: '/admin/audit',
      summary: 'Every moderation action, newest first, paged (`scheduleUID` narrows to one programme)',
      moderation: true,
      query: M.auditQuery,
      ok: [200, M.auditReply],
      async handle(d, { query }) {
        const q = parse(M.auditQuery, Object.fromEntries(query));
        const page = await d.records.moderation.listAudit({ limit: q.limit, cursor: q.cursor, scheduleUID: q.scheduleUID });
        if (!page) throw new HttpError('BAD_REQUEST', 'invalid cursor');
        return { status: 200, body: page };
      },
    },
  ];
}
