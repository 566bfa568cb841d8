/** Bodies, queries and replies of the moderation routes of the admin API (spec section 9). */
import { z } from 'zod';
import { line, REPORT_REASON_MAX } from '../protocol/index.js';
import { objectId, scheduleUID, userUID } from './admin-schemas.js';

/** The most entries a filter list may hold: the automaton of 20,000 stays small and fast. */
export const FILTER_ENTRIES_MAX = 20_000;

const filterEntry = z.strictObject({
  text: line(100).describe('The word or phrase, matched after normalisation (case, width, spacing, punctuation, zero-width characters, Hangul jamo)'),
  action: z.enum(['block', 'mask']).describe('block: refused with EM003 (EC001 for a room title); mask: replaced by * of the same length'),
  scheduleUID: scheduleUID.optional().describe('Only this programme; absent: everywhere'),
});

export const filtersBody = z.strictObject({ entries: z.array(filterEntry).max(FILTER_ENTRIES_MAX) });
export const filtersReply = z.object({ version: z.number().int(), entries: z.array(filterEntry), updatedAt: z.number().int() });

const reason = z.string().trim().min(1).max(REPORT_REASON_MAX).optional();

/** At most a week: longer is a ban. */
export const muteBody = z.strictObject({ seconds: z.number().int().min(1).max(604_800), reason });
export const muteReply = z.object({ userUID, until: z.number().int().describe('epoch ms') });
export const mutesReply = z.object({ mutes: z.array(z.object({ userUID, until: z.number().int(), reason: z.string().optional() })) });

export const slowModeBody = z.strictObject({
  seconds: z.number().int().min(0).max(3600).describe('One N message per this many seconds; 0 ends it'),
  roomId: objectId.optional().describe('This room only; absent: every room of the programme without its own'),
});
export const slowModesReply = z.object({ slowModes: z.array(z.object({ roomId: objectId.nullable(), seconds: z.number().int() })) });

const page = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
};

export const reportsQuery = z.strictObject({ status: z.enum(['open', 'resolved']).default('open'), ...page });
export const auditQuery = z.strictObject({ ...page, scheduleUID: scheduleUID.optional() });

export const resolveBody = z.strictObject({
  action: z.enum(['dismiss', 'remove', 'mute', 'ban']).describe('remove: the message or aggro comes down; mute: its author, for `seconds` (default 600); ban: its author, from the programme'),
  seconds: z.number().int().min(1).max(604_800).optional(),
  reason,
});

export const reportReply = z.object({
  id: z.string(),
  scheduleUID,
  roomId: z.string(),
  kind: z.enum(['message', 'aggro', 'user']),
  targetId: z.string(),
  targetUserUID: z.string().nullable(),
  text: z.string().nullable().describe('A copy of the reported text, as it was'),
  reporterUID: z.string(),
  reason: z.string(),
  createdAt: z.number().int(),
  status: z.enum(['open', 'resolved']),
  resolution: z.enum(['dismiss', 'remove', 'mute', 'ban']).nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.number().int().nullable(),
});
export const reportsReply = z.object({ items: z.array(reportReply), next: z.string().nullable() });

export const auditReply = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      at: z.number().int(),
      actor: z.string().describe('admin, moderator:<name>, or reports (hidden by viewers)'),
      action: z.string(),
      scheduleUID: z.string().nullable(),
      target: z.string().nullable(),
      reason: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  next: z.string().nullable(),
});
