/**
 * The admin HTTP API under `/admin` (enabled by `ADMIN_TOKEN`). Each route is one entry of
 * `adminRoutes`: its method, path, schemas and handler; the OpenAPI document is made from the
 * same table. Every input is parsed before anything changes; answers are JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z, type ZodType } from 'zod';
import type { Clock } from '../domain/clock.js';
import { isOnAir, type Programme } from '../domain/schedule.js';
import type { OnAirService } from '../domain/service.js';
import { roomSummary } from '../domain/payloads.js';
import type { RoomView } from '../domain/model.js';
import { decodeCursor, type RecordStore } from '../records/record-store.js';
import type { StateStore } from '../domain/ports/store.js';
import * as S from './admin-schemas.js';
import { bearerMatches, readJson, sendEmpty, sendError, sendFile, sendJson } from './http.js';
import { compileRoute, findRoute, parse, routeParams, type CompiledRoute } from './route-table.js';
import { HttpError, httpErrors, type HttpErrorCode } from './http-errors.js';
import type { Programmes } from './programmes.js';
import type { Moderation } from '../domain/moderation/moderation.js';
import type { FilterSync } from './filter-sync.js';
import { moderationRoutes } from './moderation-routes.js';
import { consoleRoutes } from './console-routes.js';
import type { MessageRate } from './message-rate.js';

export interface AdminDeps {
  token: string;
  /** `MODERATOR_TOKENS`: these open the moderation routes only. */
  moderators: readonly { name: string; token: string }[];
  /** The moderation rules (spec 9) and this server's copy of the word filter. */
  moderation: Moderation;
  filters: Pick<FilterSync, 'refresh'>;
  service: OnAirService;
  /** The live state, read as it is (the live view decides nothing). */
  state: Pick<StateStore, 'sessionCount' | 'listRooms' | 'liveAggros' | 'getRoom' | 'history' | 'members' | 'roomCounts'>;
  /** Chat messages per second per programme, as this server takes them (the console's live screen). */
  messageRate: Pick<MessageRate, 'perSecond'>;
  records: RecordStore;
  programmes: Programmes;
  clock: Clock;
  log: Logger;
  roomMaxLimit: number;
  /** Programmes with state (for bans "everywhere"). */
  activePrograms(): Promise<string[]>;
  openapi(): unknown;
}

interface Call {
  /** Who calls, as the audit log names them: `admin` or `moderator:<name>`. */
  actor: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

type Reply =
  | { status: 200 | 201; body: unknown }
  | { status: 204 }
  /** Not JSON: a file to download (the records' CSV). */
  | { status: 200; text: string; contentType: string; filename: string };

export interface AdminRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** With `:name` parameters. */
  path: string;
  summary: string;
  /** A moderation route (spec 9): open to moderators' tokens too. */
  moderation?: true;
  body?: ZodType;
  /** The body may be left out. */
  bodyOptional?: true;
  query?: ZodType;
  /** The success body's media type when it is not JSON (the OpenAPI document says so). */
  contentType?: string;
  /** Status of success and the schema of its body (none for 204). */
  ok: [200 | 201, ZodType] | [204];
  /** Errors this route answers beyond those of every route (401, 503, and 400 when it takes
   * input); the OpenAPI document lists them. */
  errors?: HttpErrorCode[];
  handle(deps: AdminDeps, call: Call): Promise<Reply>;
}

const params: Record<string, ZodType> = { scheduleUID: S.scheduleUID, roomId: S.objectId, aggroUID: S.objectId, userUID: S.userUID, id: S.objectId };


const notFound = () => new HttpError('NOT_FOUND');

/** The audit log keeps the operator's moderation actions too (spec 9), beside the moderators'. */
function audit(d: AdminDeps, actor: string, action: string, p: string | null, target: string | null, reason: string | null = null, detail: Record<string, unknown> | null = null) {
  return d.records.moderation.audit({ at: d.clock.now(), actor, action, scheduleUID: p, target, reason, detail });
}

function programmeReply(p: Programme, now: number) {
  return { ...p, onAir: isOnAir(p, now) };
}

function roomReply(r: RoomView) {
  return { ...roomSummary(r), persistent: r.persistent };
}

export function adminRoutes(deps: Pick<AdminDeps, 'roomMaxLimit'>): AdminRoute[] {
  const roomBody = S.roomBody({ roomMaxLimit: deps.roomMaxLimit });
  const table: AdminRoute[] = [
    {
      method: 'GET',
      path: '/admin/programs',
      summary: 'The schedule',
      ok: [200, z.object({ programs: z.array(S.programmeReply) })],
      async handle(d) {
        const now = d.clock.now();
        return { status: 200, body: { programs: d.programmes.schedule.list().map((p) => programmeReply(p, now)) } };
      },
    },
    {
      method: 'PUT',
      path: '/admin/programs/:scheduleUID',
      summary: 'Create or replace a programme',
      body: S.programmeBody,
      ok: [200, S.programmeReply],
      async handle(d, { params, body }) {
        const p: Programme = { scheduleUID: params.scheduleUID!, ...parse(S.programmeBody, body) };
        await d.programmes.put(p);
        return { status: 200, body: programmeReply(p, d.clock.now()) };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/programs/:scheduleUID',
      summary: 'Remove a programme; one on air ends (PROGRAM_ENDED, aggros recorded, sockets disconnected)',
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params }) {
        if (!(await d.programmes.remove(params.scheduleUID!))) throw notFound();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/live',
      summary: 'Live view: connections, rooms with counts, live aggros',
      ok: [200, S.liveReply],
      errors: ['NOT_FOUND'],
      async handle(d, { params }) {
        const p = params.scheduleUID!;
        const [connections, live, stored, aggros] = await Promise.all([
          d.state.sessionCount(p),
          d.state.listRooms(p),
          d.records.listRooms(p),
          d.state.liveAggros(p),
        ]);
        // Persistent rooms of a programme nobody is in are only in the database until it is
        // active again; they are shown empty rather than restored from here.
        const rooms: RoomView[] = [...live, ...stored.filter((r) => !live.some((l) => l.roomId === r.roomId)).map((r) => ({ ...r, count: 0 }))];
        if (!d.programmes.schedule.get(p) && connections === 0 && rooms.length === 0) throw notFound();
        return {
          status: 200,
          body: {
            connections,
            rooms: rooms.map(roomReply),
            aggros: aggros.map((a) => ({ aggroUID: a.aggroUID, roomId: a.roomId, userUID: a.userUID, msg: a.msg, point: a.point, expiresAt: a.expiresAt })),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/admin/programs/:scheduleUID/rooms',
      summary: 'Open a persistent room (the lobby gets addRoom with count 0)',
      body: roomBody,
      ok: [201, S.roomReply],
      errors: ['TOO_MANY_ROOMS'],
      async handle(d, { params, body }) {
        const p = params.scheduleUID!;
        const input = parse(roomBody, body);
        // Its stored rooms first, so that they count towards ROOMS_PER_PROGRAM_MAX.
        await d.programmes.activate(p);
        const out = await d.service.createPersistentRoom(p, input, {
          save: (room) => d.records.saveRoom(p, room),
          discard: async (room) => void (await d.records.deleteRoom(p, room.roomId)),
        });
        if (!out.ok) throw new HttpError('TOO_MANY_ROOMS');
        return { status: 201, body: roomReply(out.room) };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/programs/:scheduleUID/rooms/:roomId',
      summary: 'Delete a room: members get leaveRoom for each other and return to the lobby; the lobby gets deleteRoom',
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, actor }) {
        const p = params.scheduleUID!;
        const stored = await d.records.deleteRoom(p, params.roomId!);
        const live = await d.service.deleteRoom(p, params.roomId!);
        if (!stored && !live) throw notFound();
        await audit(d, actor, 'delete_room', p, params.roomId!);
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/programs/:scheduleUID/aggros/:aggroUID',
      summary: 'Remove a live aggro: its room gets deleteAggro; recorded as removed',
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, actor }) {
        if (!(await d.service.removeAggro(params.scheduleUID!, params.aggroUID!))) throw notFound();
        await audit(d, actor, 'remove_aggro', params.scheduleUID!, params.aggroUID!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/programs/:scheduleUID/aggros',
      summary: 'Recorded aggros of the programme, highest point first, paged; `q` searches their text',
      query: S.aggroQuery,
      ok: [200, S.aggroPageReply],
      async handle(d, { params, query }) {
        const q = parse(S.aggroQuery, Object.fromEntries(query));
        if (q.cursor !== undefined && !decodeCursor(q.cursor)) throw new HttpError('BAD_REQUEST', 'invalid cursor');
        const page = await d.records.listAggros(params.scheduleUID!, { limit: q.limit, cursor: q.cursor ?? null, q: q.q ?? null });
        return {
          status: 200,
          body: {
            items: page.items.map((a) => ({
              aggroUID: a.aggroUID,
              roomId: a.roomId,
              userUID: a.userUID,
              displayName: a.displayName,
              msg: a.msg,
              titleBroad: a.titleBroad ?? null,
              point: a.point,
              up: a.up,
              down: a.down,
              startedAt: a.startedAt,
              endedAt: a.endedAt,
              endReason: a.endReason,
            })),
            next: page.next,
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/admin/programs/:scheduleUID/kick',
      summary: "Disconnect a user's session (system KICKED) and refuse their handshakes into the programme for KICK_COOLDOWN_MS (connect_error KICKED)",
      body: S.kickBody,
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, body, actor }) {
        const { userUID } = parse(S.kickBody, body);
        await audit(d, actor, 'kick', params.scheduleUID!, userUID);
        // 404 when offline, though the kick's cooldown (KICK_COOLDOWN_MS) is kept all the same.
        if (!(await d.service.kick(params.scheduleUID!, userUID, 'An operator removed you from this programme.'))) throw notFound();
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/bans',
      summary: 'Bans in force',
      ok: [200, z.object({ bans: z.array(S.banReply) })],
      async handle(d) {
        return { status: 200, body: { bans: await d.records.listBans(d.clock.now()) } };
      },
    },
    {
      method: 'PUT',
      path: '/admin/bans/:userUID',
      summary: 'Ban from one programme or everywhere; online sessions get system BANNED and are disconnected',
      body: S.banBody,
      bodyOptional: true,
      ok: [204],
      async handle(d, { params, body, actor }) {
        const input = parse(S.banBody, body ?? {});
        const userUID = params.userUID!;
        const now = d.clock.now();
        await d.records.putBan({ userUID, createdAt: now, ...input });
        await audit(d, actor, 'ban', input.scheduleUID ?? null, userUID, input.reason ?? null, input.until === undefined ? null : { until: input.until });
        if (input.until === undefined || input.until > now) {
          const programmes = input.scheduleUID ? [input.scheduleUID] : await d.activePrograms();
          for (const p of programmes) await d.service.endSession(p, userUID, 'BANNED', 'An operator banned you.');
        }
        d.log.info({ userUID, scheduleUID: input.scheduleUID ?? '*' }, 'user banned');
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/admin/bans/:userUID',
      summary: 'Lift a ban (`?scheduleUID=` for a programme ban; without it, the ban everywhere)',
      query: S.unbanQuery,
      ok: [204],
      errors: ['NOT_FOUND'],
      async handle(d, { params, query, actor }) {
        const q = parse(S.unbanQuery, Object.fromEntries(query));
        if (!(await d.records.deleteBan(params.userUID!, q.scheduleUID))) throw notFound();
        await audit(d, actor, 'unban', q.scheduleUID ?? null, params.userUID!);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/admin/openapi.json',
      summary: 'This API as an OpenAPI 3.1 document',
      moderation: true,
      ok: [200, z.object({}).passthrough()],
      async handle(d) {
        return { status: 200, body: d.openapi() };
      },
    },
    ...moderationRoutes(),
    // The operator console's reads and the schedule upload; `whoami` lists the whole table.
    ...consoleRoutes(() => table),
  ];
  return table;
}

/** Who the bearer is. Every token is compared, each in constant time, so the time taken tells
 * nothing of which one (if any) matched; no token is ever logged. */
function actorOf(header: string | undefined, deps: Pick<AdminDeps, 'token' | 'moderators'>): { actor: string; moderator: boolean } | null {
  let found: { actor: string; moderator: boolean } | null = bearerMatches(header, deps.token) ? { actor: 'admin', moderator: false } : null;
  for (const m of deps.moderators) {
    if (bearerMatches(header, m.token) && !found) found = { actor: `moderator:${m.name}`, moderator: true };
  }
  return found;
}

/** The `/admin` handler: `true` when it took the request. */
export function adminHandler(deps: AdminDeps, routes: AdminRoute[]) {
  const compiled = routes.map(compileRoute);
  return (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const who = actorOf(req.headers.authorization, deps);
    if (!who) {
      res.setHeader('www-authenticate', 'Bearer');
      return sendError(res, 'UNAUTHORIZED');
    }
    const match = findRoute(compiled, req.method, url.pathname);
    if ('error' in match) return sendError(res, match.error);
    if (who.moderator && !match.found.route.moderation) return sendError(res, 'FORBIDDEN');
    void run(match.found, match.params, url, req, res, who.actor);
  };

  async function run(c: CompiledRoute<AdminRoute>, m: RegExpExecArray, url: URL, req: IncomingMessage, res: ServerResponse, actor: string): Promise<void> {
    try {
      const values = routeParams(c, m, params);
      const body = req.method === 'PUT' || req.method === 'POST' ? await readJson(req) : undefined;
      const reply = await c.route.handle(deps, { actor, params: values, query: url.searchParams, body });
      if (reply.status === 204) sendEmpty(res, 204);
      else if ('text' in reply) sendFile(res, reply.text, reply.contentType, reply.filename);
      else sendJson(res, reply.status, reply.body);
    } catch (err) {
      if (err instanceof HttpError) {
        sendError(res, err.code, { message: err.message, ...(err.issues ? { issues: err.issues } : {}) });
        return;
      }
      deps.log.error({ err, method: req.method, path: url.pathname }, 'admin call failed');
      sendError(res, 'UNAVAILABLE', { message: httpErrors.UNAVAILABLE.message });
    }
  }
}
