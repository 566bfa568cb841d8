/**
 * The outline (property names, required or optional) of every payload and acknowledgement, as
 * run-time data. TypeScript types vanish at run time, and the AsyncAPI contract test needs
 * something to compare `docs/asyncapi.yaml` with; the compiler holds these tables to the types in
 * `events.ts`, so a field added to or removed from an interface fails `npm run typecheck` until
 * the table, and then the document, follow.
 */
import type { z } from 'zod';
import type { ClientEventName, ClientToServerEvents, ServerEventName, ServerToClientEvents } from './events.js';
import type { ProgramsFeedEvents } from './programs.js';
import type { Schemas } from './schemas.js';

export type Presence = 'required' | 'optional';

/** A payload down to its top-level property names: a scalar, an array, a union or an object. */
export type Outline =
  | 'scalar'
  | { readonly items: Outline }
  | { readonly oneOf: readonly Outline[] }
  | { readonly properties: Readonly<Record<string, Presence>> };

type Scalar = string | number | boolean | bigint | null | undefined;
type PresenceOf<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? 'optional' : 'required' };
type IsUnion<T, All = T> = T extends unknown ? ([All] extends [T] ? false : true) : never;
// Distributes over a union, so each member of one becomes its own variant.
type VariantOf<T> = T extends Scalar
  ? 'scalar'
  : T extends readonly (infer I)[]
    ? { readonly items: OutlineOf<I> }
    : { readonly properties: PresenceOf<T> };
/** The outline a payload of type `T` must have; a union of string literals is one scalar. */
export type OutlineOf<T> = [T] extends [Scalar]
  ? 'scalar'
  : true extends IsUnion<T>
    ? { readonly oneOf: readonly VariantOf<T>[] }
    : VariantOf<T>;

type ServerPayload<E extends ServerEventName> = Parameters<ServerToClientEvents[E]>[0];
type ClientArgs<E extends ClientEventName> = NonNullable<Parameters<ClientToServerEvents[E]>[number]>;
type ClientPayload<E extends ClientEventName> = Exclude<ClientArgs<E>, (...args: never[]) => unknown>;
type AckResultOf<E extends ClientEventName> = Parameters<Extract<ClientArgs<E>, (...args: never[]) => unknown>>[0];

// `satisfies` refuses a missing, extra or wrong field in a listed variant; these check the other
// way, that no variant of a union was left out of a `oneOf`.
type Variants<O> = O extends { readonly oneOf: readonly (infer V)[] } ? V : O;
type Unlisted<Table, Expected> = {
  [E in keyof Expected]: [Variants<Expected[E]>] extends [Variants<Table[E & keyof Table]>] ? never : E;
}[keyof Expected];
type ExpectNone<T extends never> = T;

type ServerOutlines = { [E in ServerEventName]: OutlineOf<ServerPayload<E>> };
type AckOutlines = { [E in ClientEventName]: OutlineOf<AckResultOf<E>> };

const roomSummary = {
  properties: { roomId: 'required', title: 'required', max: 'required', count: 'required', password: 'optional' },
} as const;
const userInfo = { properties: { userUID: 'required', displayName: 'required', photoURL: 'optional' } } as const;
const ackError = { properties: { ok: 'required', code: 'required', message: 'required', until: 'optional', retryAfterMs: 'optional' } } as const;

/** The payload of every server event. */
export const serverEventFields = {
  loadRooms: { items: roomSummary },
  loadUsers: { items: userInfo },
  createRoomReq: {
    oneOf: [
      { properties: { result: 'required', roomId: 'required', title: 'required' } },
      { properties: { result: 'required', err: 'required' } },
    ],
  },
  addRoom: roomSummary,
  joinRoomReq: {
    oneOf: [{ properties: { result: 'required' } }, { properties: { result: 'required', err: 'required' } }],
  },
  count: { properties: { roomId: 'required', count: 'required' } },
  joinRoom: userInfo,
  leaveRoom: { properties: { userUID: 'required', displayName: 'required' } },
  deleteRoom: { properties: { roomId: 'required' } },
  chat: {
    properties: {
      displayName: 'required',
      msg: 'required',
      roomId: 'required',
      type: 'required',
      userUID: 'required',
      photoURL: 'optional',
      id: 'required',
      ts: 'required',
    },
  },
  aggro: {
    properties: {
      displayName: 'required',
      msg: 'required',
      roomId: 'required',
      type: 'required',
      userUID: 'required',
      aggroUID: 'required',
      photoURL: 'optional',
      point: 'required',
      ts: 'required',
      expiresAt: 'required',
    },
  },
  aggroErr: 'scalar',
  aggroPoint: { properties: { aggroUID: 'required', point: 'required' } },
  stopAggro: 'scalar',
  deleteAggro: 'scalar',
  roomCounts: { properties: { counts: 'required', added: 'required', deleted: 'required' } },
  system: { properties: { code: 'required', message: 'required', retryAfterMs: 'optional', until: 'optional', seconds: 'optional', roomId: 'optional', userUID: 'optional' } },
  insufficient: { properties: { code: 'required', message: 'required' } },
  deleteChat: { properties: { roomId: 'required', id: 'required' } },
  session: { properties: { resumed: 'required', roomId: 'required' } },
} as const satisfies ServerOutlines;
type ServerVariantsListed = ExpectNone<Unlisted<typeof serverEventFields, ServerOutlines>>;

/** The result every client event's acknowledgement receives. */
export const clientAckFields = {
  loadRooms: { oneOf: [{ properties: { ok: 'required', rooms: 'required' } }, ackError] },
  loadUsers: { oneOf: [{ properties: { ok: 'required', users: 'required', ownerUID: 'optional' } }, ackError] },
  createRoom: { oneOf: [{ properties: { ok: 'required', roomId: 'required', title: 'required', ownerUID: 'optional' } }, ackError] },
  joinRoom: { oneOf: [{ properties: { ok: 'required', roomId: 'required', history: 'required', ownerUID: 'optional' } }, ackError] },
  leaveRoom: { oneOf: [{ properties: { ok: 'required' } }, ackError] },
  chat: {
    oneOf: [
      { properties: { ok: 'required', id: 'required', ts: 'required' } },
      { properties: { ok: 'required', aggroUID: 'required', ts: 'required', expiresAt: 'required' } },
      ackError,
    ],
  },
  aggroUp: { oneOf: [{ properties: { ok: 'required', point: 'required' } }, ackError] },
  aggroDown: { oneOf: [{ properties: { ok: 'required', point: 'required' } }, ackError] },
  history: { oneOf: [{ properties: { ok: 'required', messages: 'required' } }, ackError] },
  report: { oneOf: [{ properties: { ok: 'required', reported: 'required' } }, ackError] },
  listRooms: { oneOf: [{ properties: { ok: 'required', rooms: 'required', next: 'required' } }, ackError] },
  watchRooms: { oneOf: [{ properties: { ok: 'required' } }, ackError] },
  setLobbyMode: { oneOf: [{ properties: { ok: 'required', mode: 'required', rooms: 'required' } }, ackError] },
  quickJoin: {
    oneOf: [{ properties: { ok: 'required', roomId: 'required', title: 'required', history: 'required', created: 'optional', ownerUID: 'optional' } }, ackError],
  },
  removeMember: { oneOf: [{ properties: { ok: 'required' } }, ackError] },
  updateRoom: { oneOf: [{ properties: { ok: 'required', room: 'required' } }, ackError] },
} as const satisfies AckOutlines;
type AckVariantsListed = ExpectNone<Unlisted<typeof clientAckFields, AckOutlines>>;

/**
 * Which schema of `createSchemas` parses each client event's payload (`null`: the event has
 * none). The schemas are the run-time truth for client payloads; the check below holds their
 * input types to the payload types of `ClientToServerEvents`.
 */
export const clientPayloadSchemas = {
  loadRooms: null,
  loadUsers: null,
  createRoom: 'createRoom',
  joinRoom: 'joinRoom',
  leaveRoom: 'leaveRoom',
  chat: 'chat',
  aggroUp: 'vote',
  aggroDown: 'vote',
  history: 'history',
  report: 'report',
  listRooms: 'listRooms',
  watchRooms: 'watchRooms',
  setLobbyMode: 'setLobbyMode',
  quickJoin: 'quickJoin',
  removeMember: 'removeMember',
  updateRoom: 'updateRoom',
} as const satisfies { [E in ClientEventName]: keyof Schemas | null };

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SchemaDrift = {
  [E in ClientEventName]: (typeof clientPayloadSchemas)[E] extends infer S extends keyof Schemas
    ? Same<OutlineOf<z.input<Schemas[S]>>, OutlineOf<ClientPayload<E>>> extends true
      ? never
      : E
    : [ClientPayload<E>] extends [never]
      ? never
      : E;
}[ClientEventName];
type SchemasMatchEvents = ExpectNone<SchemaDrift>;

type FeedOutlines = { [E in keyof ProgramsFeedEvents]: OutlineOf<Parameters<ProgramsFeedEvents[E]>[0]> };

/** The events of the programmes feed `/_programs` (spec section 10). */
export const programsFeedEventNames = ['loadPrograms', 'addProgram', 'removeProgram', 'viewers'] as const satisfies readonly (keyof ProgramsFeedEvents)[];

const programOnAir = {
  properties: { scheduleUID: 'required', title: 'required', broadcaster: 'required', startAt: 'required', endAt: 'required', viewers: 'required', rooms: 'required' },
} as const;

/** The payload of every event of the feed; `viewers` is a map, whose keys are scheduleUIDs. */
export const programsFeedFields = {
  loadPrograms: { properties: { programs: 'required', upcoming: 'required' } },
  addProgram: programOnAir,
  removeProgram: 'scalar',
  viewers: { properties: {} },
} as const satisfies FeedOutlines;
