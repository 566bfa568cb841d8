/** The rules of an aggro's life that do not depend on storage. */
import type { AggroRecord, EndReason, Identity, LiveAggro } from './model.js';

/** Made with the other announced payloads, from one table (`payloads.ts`). */
export { aggroMessage } from './payloads.js';

export function newAggro(input: {
  aggroUID: string;
  roomId: string;
  author: Identity;
  msg: string;
  type: 'A' | 'AP';
  titleBroad: string | undefined;
  now: number;
  ttlMs: number;
}): LiveAggro {
  const a: LiveAggro = {
    aggroUID: input.aggroUID,
    roomId: input.roomId,
    userUID: input.author.userUID,
    displayName: input.author.displayName,
    msg: input.msg,
    type: input.type,
    point: 0,
    up: 0,
    down: 0,
    startedAt: input.now,
    expiresAt: input.now + input.ttlMs,
    pointSent: 0,
    pointSentAt: input.now,
  };
  if (input.author.photoURL) a.photoURL = input.author.photoURL;
  if (input.titleBroad) a.titleBroad = input.titleBroad;
  return a;
}

export function aggroRecord(scheduleUID: string, a: LiveAggro, endedAt: number, endReason: EndReason): AggroRecord {
  const r: AggroRecord = {
    aggroUID: a.aggroUID,
    scheduleUID,
    roomId: a.roomId,
    userUID: a.userUID,
    displayName: a.displayName,
    msg: a.msg,
    type: a.type,
    point: a.point,
    up: a.up,
    down: a.down,
    startedAt: a.startedAt,
    endedAt,
    endReason,
  };
  if (a.titleBroad) r.titleBroad = a.titleBroad;
  if (a.photoURL) r.photoURL = a.photoURL;
  return r;
}

/**
 * When the final total of an ending aggro may be sent: at once, unless an `aggroPoint` went out
 * less than one batching interval ago, because a client never gets two within one interval.
 */
export function finalPointDelay(a: LiveAggro, now: number, intervalMs: number): number {
  if (intervalMs <= 0) return 0;
  return Math.max(0, a.pointSentAt + intervalMs - now);
}
