/**
 * The payloads of the events the stores announce, made from the state in one place.
 *
 * A room summary and an aggro message are written as data (`ROOM_SUMMARY`, `AGGRO_MESSAGE`): the
 * mappers below read that data, and the Redis scripts are generated from the same data
 * (`state/redis/payload-lua.ts`), so a field added, renamed or made optional changes both
 * backends at once. Data rather than a hand-written Lua twin kept equal by a test: a test can
 * only catch a difference in the states it tries, one table cannot differ at all. The store
 * contract still compares what each backend announces with these mappers, which covers what a
 * table cannot (cjson's handling of absent values, numbers).
 *
 * The small payloads (`deleteRoom`, `count`, `aggroPoint`, the end of an aggro) are a field or
 * two of the decision's own values; the Lua writes them inline and the store contract asserts
 * them, exactly, on both backends.
 */
import type { AggroMessage, RoomDetails, RoomSummary } from '../protocol/index.js';
import type { LiveAggro, RoomView, UserRef } from './model.js';

/**
 * How one field of a payload is made from the state: `copy` always copies `from`; `optional`
 * copies it when present; `flag` is `true` when `from` is present and absent otherwise (a room's
 * `password`, which must never carry the hash). Present means neither undefined nor '' (what
 * `if (r.passwordHash)` meant before); the payloads have no optional number, where 0 would be
 * ambiguous.
 */
export interface FieldRule<In> {
  from: keyof In & string;
  kind: 'copy' | 'optional' | 'flag';
}

/** One rule for every field of `Out`, its optional ones included, each reading a field of `In`. */
export type PayloadSpec<Out, In> = { readonly [K in keyof Required<Out> & string]: FieldRule<In> };

/** Declared in the order the fields were always sent. */
export const ROOM_SUMMARY: PayloadSpec<RoomSummary, RoomView> = {
  roomId: { from: 'roomId', kind: 'copy' },
  title: { from: 'title', kind: 'copy' },
  max: { from: 'max', kind: 'copy' },
  count: { from: 'count', kind: 'copy' },
  password: { from: 'passwordHash', kind: 'flag' },
};

/** The wire fields only: no counters, no `titleBroad` (kept for the record). */
export const AGGRO_MESSAGE: PayloadSpec<AggroMessage, LiveAggro> = {
  displayName: { from: 'displayName', kind: 'copy' },
  msg: { from: 'msg', kind: 'copy' },
  roomId: { from: 'roomId', kind: 'copy' },
  type: { from: 'type', kind: 'copy' },
  userUID: { from: 'userUID', kind: 'copy' },
  aggroUID: { from: 'aggroUID', kind: 'copy' },
  point: { from: 'point', kind: 'copy' },
  ts: { from: 'startedAt', kind: 'copy' },
  expiresAt: { from: 'expiresAt', kind: 'copy' },
  photoURL: { from: 'photoURL', kind: 'optional' },
};

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

function project<Out, In>(spec: PayloadSpec<Out, In>, src: In): Out {
  const out: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(spec) as [string, FieldRule<In>][]) {
    const v = src[rule.from];
    if (rule.kind === 'copy') out[field] = v;
    else if (present(v)) out[field] = rule.kind === 'flag' ? true : v;
  }
  return out as Out;
}

export function roomSummary(r: RoomView): RoomSummary {
  return project(ROOM_SUMMARY, r);
}

/** What a v4 client asks for (spec 9): the summary and the room's owner, never broadcast. */
export function roomDetails(r: RoomView): RoomDetails {
  const d: RoomDetails = roomSummary(r);
  if (r.ownerUID) d.ownerUID = r.ownerUID;
  return d;
}

export function aggroMessage(a: LiveAggro): AggroMessage {
  return project(AGGRO_MESSAGE, a);
}

/** What follows the new owner's name in the `OWNER` notice; the Lua of the leave splices it in. */
export const OWNER_NOTICE_TAIL = ' now owns this room.';
/** The room's `system` notice of a handover (spec 9). */
export const ownerNotice = (owner: UserRef) => ({ code: 'OWNER' as const, message: `${owner.displayName}${OWNER_NOTICE_TAIL}`, userUID: owner.userUID });

export const roomGone = (roomId: string) => ({ roomId });
export const countUpdate = (roomId: string, count: number) => ({ roomId, count });
export const pointUpdate = (aggroUID: string, point: number) => ({ aggroUID, point });
