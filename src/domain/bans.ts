/** Bans: a user kept out of one programme or, without `scheduleUID`, of every programme. */
export interface Ban {
  userUID: string;
  /** Absent: everywhere. */
  scheduleUID?: string;
  reason?: string;
  /** Epoch ms when the ban lifts by itself; absent: until lifted. */
  until?: number;
  createdAt: number;
}

/** How a ban's reach is stored: a programme's id, or this for "everywhere" (no valid
 * `scheduleUID` can be `*`). */
export const EVERYWHERE = '*';

export function banScope(scheduleUID: string | undefined): string {
  return scheduleUID ?? EVERYWHERE;
}

export function banApplies(ban: Ban, scheduleUID: string, now: number): boolean {
  if (ban.until !== undefined && ban.until <= now) return false;
  return ban.scheduleUID === undefined || ban.scheduleUID === scheduleUID;
}
