/**
 * The app API under `/v1`, as one table like the admin API's: each route's method, path,
 * schemas, whether it needs the caller's identity, and its handler. The OpenAPI document
 * (`openapi.ts`) is made from the same table.
 */
import { z, type ZodType } from 'zod';
import type { AggroRecord } from '../domain/model.js';
import { HttpError, type HttpErrorCode } from '../operator/http-errors.js';
import { parse } from '../operator/route-table.js';
import { decodeCursor, decodeUserCursor, type RecordStore } from '../records/record-store.js';
import type { BoardSnapshot } from './board.js';
import * as S from './schemas.js';

export interface AppDeps {
  board: { readonly snapshot: BoardSnapshot };
  records: Pick<RecordStore, 'listAggros' | 'listUserAggros'>;
  /** `max-age` of the on-air list: about one refresh of the board. */
  onAirMaxAgeS: number;
  openapi(): unknown;
}

export interface AppCall {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The caller's userUID, for routes with `user`. */
  userUID: string | null;
}

export interface AppReply {
  body: unknown;
  /** The body already serialised (the board keeps it so). */
  json?: string;
  /** With it, `If-None-Match` is answered `304`. */
  etag?: string;
  cacheControl: string;
}

export interface AppRoute {
  method: 'GET';
  path: string;
  summary: string;
  query?: ZodType;
  ok: [200, ZodType];
  /** The caller's identity is required (401 without). */
  user?: true;
  /** Answered with an `ETag`, and `304` when `If-None-Match` has it. */
  etag?: true;
  /** Errors beyond those of every route (429, and 400 when it takes input). */
  errors?: HttpErrorCode[];
  handle(deps: AppDeps, call: AppCall): Promise<AppReply>;
}


function page(query: URLSearchParams, valid: (cursor: string) => boolean): { limit: number; cursor: string | null } {
  const q = parse(S.pageQuery, Object.fromEntries(query));
  if (q.cursor !== undefined && !valid(q.cursor)) throw new HttpError('BAD_REQUEST', 'invalid cursor');
  return { limit: q.limit, cursor: q.cursor ?? null };
}

/** Only what the author showed in the room: never the userUID, the room or the votes' split. */
function publicAggro(a: AggroRecord) {
  return { displayName: a.displayName, ...(a.photoURL ? { photoURL: a.photoURL } : {}), msg: a.msg, point: a.point, endedAt: a.endedAt };
}

function myAggro(a: AggroRecord) {
  return {
    aggroUID: a.aggroUID,
    scheduleUID: a.scheduleUID,
    titleBroad: a.titleBroad ?? null,
    msg: a.msg,
    point: a.point,
    up: a.up,
    down: a.down,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    endReason: a.endReason,
  };
}

export function appRoutes(): AppRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/programs/on-air',
      summary: 'Programmes on air (most viewers first) and upcoming (soonest first); from memory, refreshed every ON_AIR_REFRESH_MS',
      ok: [200, S.onAirReply],
      etag: true,
      async handle(d) {
        const s = d.board.snapshot;
        return { body: s.list, json: s.json, etag: s.etag, cacheControl: `public, max-age=${d.onAirMaxAgeS}` };
      },
    },
    {
      method: 'GET',
      path: '/v1/programs/:scheduleUID/aggros',
      summary: "A programme's finished aggros, highest point first, paged; display fields only",
      query: S.pageQuery,
      ok: [200, S.publicAggroPage],
      errors: ['UNAVAILABLE'],
      async handle(d, { params, query }) {
        const p = await d.records.listAggros(params.scheduleUID!, page(query, (c) => decodeCursor(c) !== null));
        return { body: { items: p.items.map(publicAggro), next: p.next }, cacheControl: 'public, max-age=5' };
      },
    },
    {
      method: 'GET',
      path: '/v1/me/aggros',
      summary: "The caller's own finished aggros, newest first, paged",
      query: S.pageQuery,
      ok: [200, S.myAggroPage],
      user: true,
      errors: ['UNAUTHORIZED', 'UNAVAILABLE'],
      async handle(d, { query, userUID }) {
        const p = await d.records.listUserAggros(userUID!, page(query, (c) => decodeUserCursor(c) !== null));
        return { body: { items: p.items.map(myAggro), next: p.next }, cacheControl: 'private, no-store' };
      },
    },
    {
      method: 'GET',
      path: '/v1/openapi.json',
      summary: 'This API as an OpenAPI 3.1 document',
      ok: [200, z.object({}).passthrough()],
      async handle(d) {
        return { body: d.openapi(), cacheControl: 'public, max-age=300' };
      },
    },
  ];
}
