/** Queries and replies of the admin API routes the operator console reads (`console-routes.ts`). */
import { z } from 'zod';
import { line, ROOM_PAGE_MAX, TITLE_MAX } from '../protocol/index.js';
import { objectId, scheduleUID } from './admin-schemas.js';

export const whoamiReply = z.object({
  actor: z.string().describe('admin, or moderator:<name>: as the audit log names the caller'),
  role: z.enum(['admin', 'moderator']),
  routes: z.array(z.string()).describe('Every route this token may call, as "METHOD /path/:param"'),
});

export const liveProgramsReply = z.object({
  now: z.number().int().describe("The server's clock, epoch ms (for countdowns)"),
  programs: z.array(
    z.object({
      scheduleUID,
      title: z.string().nullable().describe('null: a programme the schedule does not know (SCHEDULE_MODE=open)'),
      broadcaster: z.string().nullable(),
      endAt: z.number().int().nullable(),
      connections: z.number().int(),
    }),
  ),
});

export const overviewReply = z.object({
  now: z.number().int().describe("The server's clock, epoch ms"),
  connections: z.number().int().describe('Sessions of the programme on every server'),
  rooms: z.number().int().describe('Rooms of the programme (live state)'),
  messagesPerSecond: z.number().describe('Chat messages per second over the last 10 s, taken by the server answering'),
  aggros: z.array(
    z.object({
      aggroUID: objectId,
      roomId: objectId,
      roomTitle: z.string().nullable(),
      userUID: z.string(),
      displayName: z.string(),
      msg: z.string(),
      point: z.number().int(),
      up: z.number().int(),
      down: z.number().int(),
      expiresAt: z.number().int(),
    }),
  ),
});

export const roomsQuery = z.strictObject({
  q: line(TITLE_MAX).optional().describe('Titles containing this (NFKC, letter case aside), as listRooms'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(ROOM_PAGE_MAX).default(20),
});

const roomItem = z.object({
  roomId: objectId,
  title: z.string(),
  max: z.number().int(),
  count: z.number().int(),
  password: z.literal(true).optional(),
});

export const roomsPageReply = z.object({ rooms: z.array(roomItem), next: z.string().nullable().describe('Cursor of the next page; null at the end') });

export const roomCountsQuery = z.strictObject({
  ids: z
    .string()
    .max(100 * 25)
    .transform((s) => s.split(',').filter((x) => x.length > 0))
    .pipe(z.array(objectId).min(1).max(ROOM_PAGE_MAX))
    .describe('Room ids, comma-separated (at most 100)'),
});
export const roomCountsReply = z.object({ counts: z.record(z.string(), z.number().int().nullable()).describe('null: the room no longer exists') });

export const messagesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });
export const messagesReply = z.object({
  room: roomItem.extend({ members: z.array(z.object({ userUID: z.string(), displayName: z.string() })) }),
  messages: z
    .array(z.object({ id: z.string(), userUID: z.string(), displayName: z.string(), msg: z.string(), ts: z.number().int(), roomId: z.string(), type: z.literal('N'), photoURL: z.string().optional() }))
    .describe("The room's newest messages, oldest first: what its history holds (HISTORY_SIZE); a removed message is no longer among them"),
});

export const scheduleUploadReply = z.object({ written: z.number().int() });

/** What the records' search takes (the JSON pages take it too: `aggroQuery`). */
export const recordsSearch = z.string().trim().min(1).max(100).describe('Only records whose message or author name contains this (letter case aside)');
export const csvQuery = z.strictObject({ q: recordsSearch.optional() });
