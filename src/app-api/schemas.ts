/**
 * Queries and replies of the app API (`/v1`). As in the admin API, the same schemas parse what
 * comes in and make the OpenAPI document, so the two cannot drift. The public replies name no
 * user: no `userUID`, no room, nothing an app could join to a person beyond the name and picture
 * the author showed in the room.
 */
import { z } from 'zod';
import { scheduleUID } from '../operator/admin-schemas.js';

export { scheduleUID };

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).default(20).describe('Items per page, 1-50'),
  cursor: z.string().min(1).max(200).optional().describe("The previous page's `next`"),
});

const programme = {
  scheduleUID,
  title: z.string(),
  broadcaster: z.string(),
  startAt: z.number().int().describe('epoch ms'),
  endAt: z.number().int().describe('epoch ms'),
};

export const onAirReply = z.object({
  programs: z
    .array(
      z.object({
        ...programme,
        viewers: z.number().int().describe('Connected sockets of the programme on every server'),
        rooms: z.number().int().describe('Rooms open in it'),
      }),
    )
    .describe('On air now, most viewers first'),
  upcoming: z.array(z.object(programme)).describe('Not started yet, soonest first (at most 20)'),
});

export const publicAggroPage = z.object({
  items: z.array(
    z.strictObject({
      displayName: z.string(),
      photoURL: z.string().optional(),
      msg: z.string(),
      point: z.number().int(),
      endedAt: z.number().int().describe('epoch ms'),
    }),
  ),
  next: z.string().nullable().describe('Cursor of the next page; null at the end'),
});

export const myAggroPage = z.object({
  items: z.array(
    z.strictObject({
      aggroUID: z.string(),
      scheduleUID: z.string(),
      titleBroad: z.string().nullable().describe('The programme as `title_broadcaster`; null when the schedule did not know it'),
      msg: z.string(),
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
