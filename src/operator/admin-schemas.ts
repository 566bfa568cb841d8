/**
 * Bodies and parameters of the admin API, parsed before anything changes. The same schemas
 * make the OpenAPI document (`openapi.ts`), so the document cannot drift from what is accepted.
 */
import { z } from 'zod';
import { ID_PATTERN, line, password, SCHEDULE_UID_PATTERN, USER_UID_MAX, type Limits } from '../protocol/index.js';

export const scheduleUID = z.string().regex(SCHEDULE_UID_PATTERN).describe('Programme id, also its namespace');
export const userUID = z
  .string()
  .min(1)
  .max(USER_UID_MAX)
  .regex(/^[^\s\p{Cc}]+$/u)
  .describe('The user id as authenticated (JWT `sub`)');
export const objectId = z.string().regex(ID_PATTERN);

/** ISO 8601 with a zone, or epoch milliseconds; becomes epoch ms. */
const instant = z
  .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })])
  .transform((v) => (typeof v === 'number' ? v : Date.parse(v)))
  .describe('ISO 8601 date-time with a zone, or epoch milliseconds');

const programmeFields = {
  title: line(100).describe('Programme title'),
  broadcaster: line(100).describe('Broadcaster name'),
  startAt: instant,
  endAt: instant,
};

function endsAfterStart(v: { startAt: number; endAt: number }, ctx: z.RefinementCtx): void {
  if (v.endAt <= v.startAt) ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt must be after startAt' });
}

export const programmeBody = z.strictObject(programmeFields).superRefine(endsAfterStart);

/** One programme of a schedule file. */
export const scheduleRow = z.strictObject({ scheduleUID, ...programmeFields }).superRefine(endsAfterStart);

/** `SCHEDULE_FILE`: a JSON array of programmes. */
export const scheduleFile = z.array(scheduleRow).max(100_000);

export function roomBody(limits: Pick<Limits, 'roomMaxLimit'>) {
  return z.strictObject({
    title: line(40).describe('Room title, 1-40 characters'),
    max: z.number().int().min(2).max(limits.roomMaxLimit).describe('Seats'),
    password: password.describe('Locks the room; 1-32 characters, stored only as a salted hash'),
  });
}

export const kickBody = z.strictObject({ userUID });

export const banBody = z.strictObject({
  scheduleUID: scheduleUID.optional().describe('Ban from this programme only; absent: everywhere'),
  reason: z.string().trim().max(200).optional(),
  until: instant.optional().describe('When the ban lifts by itself; absent: until lifted'),
});

export const aggroQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
  q: z.string().trim().min(1).max(100).optional().describe('Only records whose message or author name contains this (letter case aside)'),
});

export const unbanQuery = z.strictObject({ scheduleUID: scheduleUID.optional() });

// ---- replies (documentation only: the OpenAPI document is made from these) ----

export const programmeReply = z.object({
  scheduleUID,
  title: z.string(),
  broadcaster: z.string(),
  startAt: z.number().int().describe('epoch ms'),
  endAt: z.number().int().describe('epoch ms'),
  onAir: z.boolean(),
});

export const roomReply = z.object({
  roomId: objectId,
  title: z.string(),
  max: z.number().int(),
  count: z.number().int(),
  persistent: z.boolean(),
  password: z.literal(true).optional().describe('Present when the room is locked'),
});

export const liveReply = z.object({
  connections: z.number().int().describe('Sessions of the programme on every server'),
  rooms: z.array(roomReply),
  aggros: z.array(
    z.object({ aggroUID: objectId, roomId: objectId, userUID: z.string(), msg: z.string(), point: z.number().int(), expiresAt: z.number().int() }),
  ),
});

export const aggroPageReply = z.object({
  items: z.array(
    z.object({
      aggroUID: objectId,
      roomId: objectId,
      userUID: z.string(),
      displayName: z.string(),
      msg: z.string(),
      titleBroad: z.string().nullable(),
      point: z.number().int(),
      up: z.number().int(),
      down: z.number().int(),
      startedAt: z.number().int(),
      endedAt: z.number().int(),
      endReason: z.enum(['expired', 'room_emptied', 'removed', 'program_ended', 'shutdown']),
    }),
  ),
  next: z.string().nullable().describe('Cursor of the next page; null at the end'),
});

export const banReply = z.object({
  userUID: z.string(),
  scheduleUID: scheduleUID.optional().describe('Absent: banned everywhere'),
  reason: z.string().optional(),
  until: z.number().int().optional(),
  createdAt: z.number().int(),
});

export const errorReply = z.object({ code: z.string(), message: z.string().optional(), issues: z.array(z.unknown()).optional() });
