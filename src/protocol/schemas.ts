/**
 * Runtime schemas for every client payload. The server parses each payload with these before
 * anything touches state; clients may use them to check input before sending.
 */
import { z } from 'zod';
import { cleanLine, cleanMessage, codePointLength, hasForbiddenKeys, hasIllFormedText, isCleanId } from './text.js';

/** Room and aggro ids are server-made and URL-safe; anything else cannot name one. The one id
 * pattern: the admin API's OpenAPI document states it from here too. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A scheduleUID is also a namespace name (`/<scheduleUID>`): the same URL-safe id, except that
 * a leading `_` is reserved for the server's own namespaces (`/_programs`), so the schedule, the
 * admin API and the namespace matcher all refuse it. */
export const SCHEDULE_UID_PATTERN = /^(?!_)[A-Za-z0-9_-]{1,64}$/;

export const TITLE_MAX = 40;
export const PASSWORD_MAX = 32;
export const TITLE_BROAD_MAX = 100;
export const USER_UID_MAX = 128;
export const DISPLAY_NAME_MAX = 30;
export const PHOTO_URL_MAX = 512;
export const REPORT_REASON_MAX = 200;

export interface Limits {
  /** Largest `max` a room may have. @default 120 */
  roomMaxLimit: number;
  /** Longest chat message, in characters. @default 300 */
  chatMaxLength: number;
}
/** The most messages one `history` page may ask for (section 4.1). */
export const HISTORY_PAGE_MAX = 50;
/** A `history` page without `limit`. */
export const HISTORY_PAGE_DEFAULT = 20;

/** The largest `listRooms` page, and one without `limit` (section 3.1). */
export const ROOM_PAGE_MAX = 100;
export const ROOM_PAGE_DEFAULT = 20;
/** How many rooms one `watchRooms` takes. */
export const WATCH_ROOMS_MAX = 100;

export const DEFAULT_LIMITS: Limits = { roomMaxLimit: 120, chatMaxLength: 300 };

const id = z.string().regex(ID_PATTERN);

/** A trimmed single line of 1..max characters. The raw bound (4 bytes a character) stops work
 * on absurd input before normalising it. */
export function line(max: number) {
  return z
    .string()
    .max(max * 8)
    .transform((s, ctx) => {
      const t = cleanLine(s);
      if (t === null || t.length === 0 || codePointLength(t) > max) {
        ctx.addIssue({ code: 'custom', message: `must be 1-${max} characters, something visible, no controls` });
        return z.NEVER;
      }
      return t;
    });
}

/** `""` and `null` mean "no password": the seed's form sends an empty field for open rooms. */
export const password = z
  .union([z.string().max(PASSWORD_MAX * 4), z.null()])
  .optional()
  .transform((p, ctx) => {
    if (p === undefined || p === null || p === '') return undefined;
    if (codePointLength(p) > PASSWORD_MAX || /\p{Cc}/u.test(p)) {
      ctx.addIssue({ code: 'custom', message: `password must be 1-${PASSWORD_MAX} characters` });
      return z.NEVER;
    }
    return p;
  });

/** `updateRoom`'s password: a new one, or `null`/`''` to open the room (`null` out); absent
 * leaves it as it is, which is why this is not `password` above (it folds `''` into absent). */
const roomPasswordChange = z.union([z.string().max(PASSWORD_MAX * 4), z.null()]).transform((p, ctx) => {
  if (p === null || p === '') return null;
  if (codePointLength(p) > PASSWORD_MAX || /\p{Cc}/u.test(p)) {
    ctx.addIssue({ code: 'custom', message: `password must be 1-${PASSWORD_MAX} characters` });
    return z.NEVER;
  }
  return p;
});

/** A string id, or `{ [key]: id }`: the seed sends bare strings, newer clients may send objects. */
function idOrObject<K extends string>(key: K) {
  return z.union([id, z.object({ [key]: id } as Record<K, typeof id>)]).transform((v) =>
    typeof v === 'string' ? v : (v as Record<K, string>)[key],
  );
}

export function createSchemas(limits: Limits = DEFAULT_LIMITS) {
  return {
    createRoom: z.object({
      title: line(TITLE_MAX),
      max: z.number().int().min(2).max(limits.roomMaxLimit),
      password,
      scheduleUID: z.string().regex(SCHEDULE_UID_PATTERN).optional(),
    }),
    joinRoom: z.object({ roomId: id, password }),
    leaveRoom: idOrObject('roomId'),
    chat: z.object({
      roomId: id,
      type: z.enum(['N', 'A', 'AP']),
      msg: z
        .string()
        .max(limits.chatMaxLength * 8)
        .transform((s, ctx) => {
          const t = cleanMessage(s);
          if (t.length === 0 || codePointLength(t) > limits.chatMaxLength) {
            ctx.addIssue({ code: 'custom', message: `msg must be 1-${limits.chatMaxLength} characters` });
            return z.NEVER;
          }
          return t;
        }),
      titleBroad: z
        .union([line(TITLE_BROAD_MAX), z.literal(''), z.null()])
        .optional()
        .transform((t) => (t ? t : undefined)),
    }),
    vote: idOrObject('aggroUID'),
    // Exactly one target; the reason is a line, so it shows as written in the queue.
    report: z
      .object({ roomId: id, id: id.optional(), aggroUID: id.optional(), userUID: z.string().min(1).max(USER_UID_MAX * 2).optional(), reason: line(REPORT_REASON_MAX) })
      .strict()
      .refine((r) => [r.id, r.aggroUID, r.userUID].filter((t) => t !== undefined).length === 1, 'exactly one of id, aggroUID, userUID'),
    listRooms: z
      .object({
        cursor: z.string().max(64).optional(),
        limit: z.number().int().min(1).max(ROOM_PAGE_MAX).optional(),
        q: line(TITLE_MAX).optional(),
        open: z.boolean().optional(),
      }),
    watchRooms: z.array(id).max(WATCH_ROOMS_MAX),
    setLobbyMode: z.union([z.enum(['batched', 'rooms']), z.object({ mode: z.enum(['batched', 'rooms']) })]).transform((m) => (typeof m === 'string' ? m : m.mode)),
    quickJoin: z
      .object({
        q: line(TITLE_MAX).optional(),
        create: z.object({ title: line(TITLE_MAX), max: z.number().int().min(2).max(limits.roomMaxLimit) }).optional(),
      }),
    // Spec 9, the room owner's calls: on the caller's own room, so no roomId.
    removeMember: z.object({ userUID: z.string().min(1).max(USER_UID_MAX * 2).refine((u) => codePointLength(u) <= USER_UID_MAX && isCleanId(u)) }).strict(),
    updateRoom: z
      .object({ title: line(TITLE_MAX).optional(), password: roomPasswordChange.optional() })
      .strict()
      .refine((u) => u.title !== undefined || u.password !== undefined, 'title or password'),
    history: z.object({
      roomId: id,
      before: id.optional(),
      limit: z.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
    }),
  };
}
export type Schemas = ReturnType<typeof createSchemas>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parse an untrusted payload; never throws. */
export function parsePayload<S extends z.ZodType>(schema: S, raw: unknown): ParseResult<z.output<S>> {
  if (hasForbiddenKeys(raw)) return { ok: false, reason: 'forbidden key' };
  if (hasIllFormedText(raw)) return { ok: false, reason: 'lone surrogate in text' };
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}

/** A handshake identity (dev mode's `auth`/`query`, or claims of a verified token). */
export const identitySchema = z.object({
  userUID: z
    .string()
    .min(1)
    .max(USER_UID_MAX * 2)
    .refine((u) => codePointLength(u) <= USER_UID_MAX && isCleanId(u), 'userUID must be 1-128 characters without whitespace, controls or invisible characters'),
  displayName: line(DISPLAY_NAME_MAX),
  photoURL: z
    .union([z.string().max(PHOTO_URL_MAX), z.null()])
    .optional()
    .transform((u, ctx) => {
      if (u === undefined || u === null || u === '' || u === 'null' || u === 'undefined') return undefined;
      // Only web URLs: a client renders this as an image, and a `javascript:` URL must not get there.
      if (!/^https?:\/\/[^\s\p{Cc}]+$/iu.test(u)) {
        ctx.addIssue({ code: 'custom', message: 'photoURL must be an http(s) URL' });
        return z.NEVER;
      }
      return u;
    }),
});
