/**
 * The admin API routes the operator console (`/admin/ui/`) is built on, beside the operator and
 * moderation routes: who the token is, the live screens (programmes on air, a programme's
 * figures, its rooms paged and searched, their counts, a room's chat watched), the schedule
 * uploaded as one file, and the records as CSV.
 *
 * The live reads are moderation routes: a moderator acts from what they watch. Watching a room
 * reads its history (the last `HISTORY_SIZE` messages, kept in the shared state on every
 * server) and its members from the state, so the watcher takes no seat, joins no socket.io room
 * and is in no member list; the console polls it.
 */
import { isOnAir, type Programme } from '../domain/schedule.js';
import { roomSummary } from '../domain/payloads.js';
import type { AggroRecord } from '../domain/model.js';
import { decodeCursor } from '../records/record-store.js';
import type { AdminRoute } from './admin-api.js';
import { scheduleRow } from './admin-schemas.js';
import * as C from './console-schemas.js';
import { HttpError } from './http-errors.js';
import { parse } from './route-table.js';
import { z } from 'zod';

/** The most rows one CSV download holds: a night's records fit many times over, and the
 * answer stays a few megabytes. */
export const CSV_ROWS_MAX = 10_000;

const CSV_COLUMNS = ['rank', 'point', 'up', 'down', 'msg', 'displayName', 'userUID', 'roomId', 'titleBroad', 'startedAt', 'endedAt', 'endReason', 'aggroUID'] as const;

/** A CSV field: quoted when it must be, and a leading `= + - @` (a formula to a spreadsheet,
 * which could run what a viewer wrote) made text with a `'`. */
function csvField(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(rank: number, a: AggroRecord): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  return [rank, a.point, a.up, a.down, a.msg, a.displayName, a.userUID, a.roomId, a.titleBroad ?? null, iso(a.startedAt), iso(a.endedAt), a.endReason, a.aggroUID].map(csvField).join(',');
}

export function consoleRoutes(table: () => readonly AdminRoute[]): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/whoami',
      summary: 'Who this token is, and every route it may call (the console offers only those)',
      moderation: true,
      ok: [200, C.whoamiReply],
      async handle(_d, { actor }) {
        const moderator = actor !== 'admin';
        const routes = table()
          .filter((r) => !moderator || r.moderation)
          .map((r) => `${r.method} ${r.path}`);
        return { status: 200, body: { actor, role: moderator ? 'moderator' : 'admin', routes } };
      },
    },
    {
      method: 'GET',
      path: '/admin/live',
      summary: 'Programmes on air, and any other with sessions, most connections first',
      moderation: true,
      ok: [200, C.liveProgramsReply],
      async handle(d) {
        const now = d.clock.now();
        const scheduled = d.programmes.schedule.list();
        const ids = new Set([...scheduled.filter((p) => isOnAir(p, now)).map((p) => p.scheduleUID), ...(await d.activePrograms())]);
        const known = new Map<string, Programme>(scheduled.map((p) => [p.scheduleUID, p]));
        const programs = await Promise.all(
          [...ids].map(async (id) => {
            const p = known.get(id);
            return { scheduleUID: id, title: p?.title ?? null, broadcaster: p?.broadcaster ?? null, endAt: p?.endAt ?? null, connections: await d.state.sessionCount(id) };
          }),
        );
        // A programme with state but off air and empty is only waiting to be released.
        const shown = programs.filter((p) => p.connections > 0 || (known.get(p.scheduleUID) && isOnAir(known.get(p.scheduleUID)!, now)));
        shown.sort((a, b) => b.connections - a.connections || a.scheduleUID.localeCompare(b.scheduleUID));
        return { status: 200, body: { now, programs: shown } };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/overview',
      summary: "A programme's live figures: connections, rooms, messages per second, live aggros with their points and ends",
      moderation: true,
      ok: [200, C.overviewReply],
      async handle(d, { params }) {
        const p = params.scheduleUID!;
        const [connections, rooms, aggros] = await Promise.all([d.state.sessionCount(p), d.state.listRooms(p), d.state.liveAggros(p)]);
        const titles = new Map(rooms.map((r) => [r.roomId, r.title]));
        return {
          status: 200,
          body: {
            now: d.clock.now(),
            connections,
            rooms: rooms.length,
            messagesPerSecond: d.messageRate.perSecond(p),
            aggros: aggros
              .sort((a, b) => b.point - a.point || a.expiresAt - b.expiresAt)
              .map((a) => ({
                aggroUID: a.aggroUID,
                roomId: a.roomId,
                roomTitle: titles.get(a.roomId) ?? null,
                userUID: a.userUID,
                displayName: a.displayName,
                msg: a.msg,
                point: a.point,
                up: a.up,
                down: a.down,
                expiresAt: a.expiresAt,
              })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/rooms',
      summary: "A page of the programme's rooms in creation order, searched by title (as listRooms, without the featured view)",
      moderation: true,
      query: C.roomsQuery,
      ok: [200, C.roomsPageReply],
      async handle(d, { params, query }) {
        const q = parse(C.roomsQuery, Object.fromEntries(query));
        const page = await d.service.pageRooms(params.scheduleUID!, { cursor: q.cursor, limit: q.limit, q: q.q });
        if (!page.ok) throw new HttpError('BAD_REQUEST', 'invalid cursor');
        return { status: 200, body: { rooms: page.rooms, next: page.next } };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/room-counts',
      summary: 'The member counts of these rooms (those the console shows), null for a room gone',
      moderation: true,
      query: C.roomCountsQuery,
      ok: [200, C.roomCountsReply],
      async handle(d, { params, query }) {
        const q = parse(C.roomCountsQuery, Object.fromEntries(query));
        return { status: 200, body: { counts: await d.state.roomCounts(params.scheduleUID!, q.ids) } };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/rooms/:roomId/messages',
      summary: "Watch a room: its newest messages (its history) and members, read without a seat or a membership",
      moderation: true,
      query: C.messagesQuery,
      ok: [200, C.messagesReply],
      errors: ['NOT_FOUND'],
      async handle(d, { params, query }) {
        const p = params.scheduleUID!;
        const { limit } = parse(C.messagesQuery, Object.fromEntries(query));
        const room = await d.state.getRoom(p, params.roomId!);
        if (!room) throw new HttpError('NOT_FOUND');
        const [messages, members] = await Promise.all([d.state.history(p, room.roomId, null, limit), d.state.members(p, room.roomId)]);
        return {
          status: 200,
          body: { room: { ...roomSummary(room), members: members.map((m) => ({ userUID: m.userUID, displayName: m.displayName })) }, messages },
        };
      },
    },
    {
      method: 'PUT',
      path: '/admin/schedule',
      summary: 'Write a schedule file (the JSON array of SCHEDULE_FILE): every row is checked first, and one bad row writes nothing (each is named in `issues`, its index first in `path`)',
      body: z.array(scheduleRow),
      ok: [200, C.scheduleUploadReply],
      async handle(d, { body }) {
        if (!Array.isArray(body)) throw new HttpError('BAD_REQUEST', 'the body must be a JSON array of programmes', [{ path: [], message: 'expected an array' }]);
        const issues: { row: number; path: (string | number)[]; message: string }[] = [];
        const rows: Programme[] = [];
        const seen = new Map<string, number>();
        body.forEach((raw, row) => {
          const r = scheduleRow.safeParse(raw);
          if (!r.success) {
            for (const i of r.error.issues) issues.push({ row, path: [row, ...(i.path as (string | number)[])], message: i.message });
            return;
          }
          const first = seen.get(r.data.scheduleUID);
          if (first !== undefined) issues.push({ row, path: [row, 'scheduleUID'], message: `${r.data.scheduleUID} is also row ${first}` });
          else seen.set(r.data.scheduleUID, row);
          rows.push(r.data);
        });
        if (body.length === 0) issues.push({ row: 0, path: [], message: 'the schedule is empty' });
        if (issues.length > 0) {
          const bad = new Set(issues.map((i) => i.row)).size;
          throw new HttpError('BAD_REQUEST', `${bad} of ${body.length} rows are invalid; nothing was written`, issues);
        }
        for (const p of rows) await d.programmes.put(p);
        return { status: 200, body: { written: rows.length } };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/aggros.csv',
      summary: `The recorded aggros as CSV (UTF-8 with a byte order mark), highest point first, at most ${CSV_ROWS_MAX} rows; \`q\` searches their text`,
      query: C.csvQuery,
      contentType: 'text/csv; charset=utf-8',
      ok: [200, z.string()],
      async handle(d, { params, query }) {
        const p = params.scheduleUID!;
        const { q } = parse(C.csvQuery, Object.fromEntries(query));
        const lines: string[] = [CSV_COLUMNS.join(',')];
        let cursor: string | null = null;
        do {
          const page: { items: AggroRecord[]; next: string | null } = await d.records.listAggros(p, { limit: 100, cursor, q: q ?? null });
          for (const a of page.items) if (lines.length <= CSV_ROWS_MAX) lines.push(csvRow(lines.length, a));
          cursor = page.next && decodeCursor(page.next) ? page.next : null;
        } while (cursor && lines.length <= CSV_ROWS_MAX);
        // The byte order mark is what makes spreadsheet programs read Korean text as UTF-8.
        return { status: 200, text: `\uFEFF${lines.join('\r\n')}\r\n`, contentType: 'text/csv; charset=utf-8', filename: `${p}-aggros.csv` };
      },
    },
  ];
}
