/**
 * The moderation rules of spec section 9 over the shared moderation state, the database and
 * `Delivery`: what a viewer may post (the word filter, mutes, slow mode, duplicates), what
 * moderators do (remove a message, mute, slow a room) and viewers' reports. `OnAirService`
 * consults it as its `ChatGuard`; the admin API calls its actions. Every action is audited in
 * the database before it is reported done.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChatMessage } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { fail, type Failure, type Member, type Result } from '../model.js';
import type { Delivery } from '../ports/delivery.js';
import type { Actor, ModerationRecords, ReportTargetKind } from '../ports/moderation-records.js';
import type { IndexedMessage, ModerationStore } from '../ports/moderation-store.js';
import type { StateStore } from '../ports/store.js';
import { normalise } from './normalise.js';
import { WordFilter } from './word-filter.js';

/** What `OnAirService` asks before it lets a text or a vote through. */
export interface ChatGuard {
  /** The text as it may be broadcast (masked where the filter says so), or `null`: blocked. */
  screen(p: string, text: string): string | null;
  /** Seat (EM001: `socketId` is not in the message's room), mute, slow mode and duplicates for
   * a chat message; `null` when it may go. */
  admit(p: string, message: ChatMessage, socketId: string): Promise<Failure | null>;
  /** EM004 while the user is muted (aggros and votes); `null` otherwise. */
  muted(p: string, userUID: string): Promise<Failure | null>;
}

export interface ModerationOptions {
  /** `DUPLICATE_WINDOW_MS`. @default 10000 */
  duplicateWindowMs: number;
  /** `REPORT_HIDE_THRESHOLD`: distinct reporters that hide a message at once. @default 5 */
  reportHideThreshold: number;
  /** How many recent messages per programme can be removed or reported by id. @default 10000 */
  messageIndexSize: number;
}

export interface ModerationDeps {
  store: ModerationStore;
  state: Pick<StateStore, 'roomOf' | 'removeChat' | 'sessionOf' | 'members' | 'liveAggros'>;
  records: ModerationRecords;
  delivery: Delivery;
  clock: Clock;
  log: Logger;
  /** The filter in force (replaced whenever the database's list changes). */
  filter(): WordFilter;
}

export interface ReportInput {
  roomId: string;
  id?: string | undefined;
  aggroUID?: string | undefined;
  userUID?: string | undefined;
  reason: string;
}

export class Moderation implements ChatGuard {
  constructor(
    private readonly deps: ModerationDeps,
    readonly options: ModerationOptions,
  ) {}

  // ---- the guard ------------------------------------------------------------------------

  screen(p: string, text: string): string | null {
    const v = this.deps.filter().apply(p, text);
    return v.blocked ? null : v.text;
  }

  async admit(p: string, message: ChatMessage, socketId: string): Promise<Failure | null> {
    const indexed: IndexedMessage = { id: message.id, roomId: message.roomId, userUID: message.userUID, msg: message.msg, ts: message.ts };
    // Compared as the filter reads them, so `hi!!` right after `Hi` is the same text.
    const textKey = createHash('sha1').update(normalise(message.msg).text).digest('base64url');
    const out = await this.deps.store.admit(p, indexed, textKey, this.deps.clock.now(), {
      duplicateWindowMs: this.options.duplicateWindowMs,
      indexSize: this.options.messageIndexSize,
    }, { socketId });
    return out.ok ? null : out;
  }

  async muted(p: string, userUID: string): Promise<Failure | null> {
    const until = await this.deps.store.mutedUntil(p, userUID, this.deps.clock.now());
    return until > 0 ? { ok: false, code: 'EM004', until } : null;
  }

  // ---- actions ----------------------------------------------------------------------------

  private async audit(actor: Actor, action: string, p: string | null, target: string | null, reason: string | null, detail: Record<string, unknown> | null = null): Promise<void> {
    await this.deps.records.audit({ at: this.deps.clock.now(), actor, action, scheduleUID: p, target, reason, detail });
  }

  /** Take a message down: out of the history, `deleteChat` to its room. `false` when it is not
   * (any more) in the index of recent messages, or was removed already. */
  async removeMessage(p: string, id: string, actor: Actor, reason: string | null = null): Promise<boolean> {
    const m = await this.deps.store.claimRemoval(p, id);
    if (!m) return false;
    await this.deps.state.removeChat(p, m.roomId, id);
    this.deps.delivery.toRoom(p, m.roomId, null, 'deleteChat', { roomId: m.roomId, id });
    await this.audit(actor, 'remove_message', p, id, reason, { roomId: m.roomId, userUID: m.userUID, msg: m.msg });
    this.deps.log.info({ program: p, roomId: m.roomId, id, actor }, 'message removed');
    return true;
  }

  /** Mute the user for `seconds`: told at once with `MUTED` if online; stays connected. */
  async mute(p: string, userUID: string, seconds: number, actor: Actor, reason: string | null = null): Promise<number> {
    const now = this.deps.clock.now();
    const until = now + seconds * 1000;
    await this.deps.store.mute(p, { userUID, until, ...(reason ? { reason } : {}) }, now);
    await this.audit(actor, 'mute', p, userUID, reason, { seconds, until });
    const socketId = await this.deps.state.sessionOf(p, userUID);
    if (socketId) this.deps.delivery.toSocket(p, socketId, 'system', { code: 'MUTED', message: 'A moderator muted you for a while: you can read but not post.', until });
    this.deps.log.info({ program: p, userUID, until, actor }, 'user muted');
    return until;
  }

  async unmute(p: string, userUID: string, actor: Actor): Promise<boolean> {
    if (!(await this.deps.store.unmute(p, userUID, this.deps.clock.now()))) return false;
    await this.audit(actor, 'unmute', p, userUID, null);
    const socketId = await this.deps.state.sessionOf(p, userUID);
    // `until` in the past: the mute is over.
    if (socketId) this.deps.delivery.toSocket(p, socketId, 'system', { code: 'MUTED', message: 'You may post again.', until: this.deps.clock.now() });
    return true;
  }

  async mutes(p: string) {
    return this.deps.store.mutes(p, this.deps.clock.now());
  }

  /** Slow a room (or, without `roomId`, every room of the programme); 0 ends it. */
  async setSlowMode(p: string, seconds: number, roomId: string | null, actor: Actor): Promise<void> {
    await this.deps.store.setSlowMode(p, roomId, seconds);
    await this.audit(actor, 'slow_mode', p, roomId, null, { seconds });
    const message = seconds > 0 ? `Slow mode: one message every ${seconds} s.` : 'Slow mode is off.';
    if (roomId) this.deps.delivery.toRoom(p, roomId, null, 'system', { code: 'SLOW_MODE', message, seconds, roomId });
    else this.deps.delivery.toProgramme(p, 'everywhere', 'system', { code: 'SLOW_MODE', message, seconds });
  }

  async slowModes(p: string) {
    return this.deps.store.slowModes(p);
  }

  /**
   * A viewer reports a message, an aggro or a member of the room it sits in. The text reported
   * is the server's copy, never the client's. Reaching `reportHideThreshold` distinct reporters
   * hides a message at once.
   */
  async report(p: string, m: Member, input: ReportInput): Promise<Result<{ reported: boolean }>> {
    if ((await this.deps.state.roomOf(p, m.socketId)) !== input.roomId) return fail('EM001');
    let kind: ReportTargetKind;
    let targetId: string;
    let targetUserUID: string | null;
    let text: string | null = null;
    if (input.id !== undefined) {
      const msg = await this.deps.store.message(p, input.id);
      if (!msg || msg.roomId !== input.roomId) return fail('EV001');
      [kind, targetId, targetUserUID, text] = ['message', msg.id, msg.userUID, msg.msg];
    } else if (input.aggroUID !== undefined) {
      const a = (await this.deps.state.liveAggros(p)).find((x) => x.aggroUID === input.aggroUID && x.roomId === input.roomId);
      if (!a) return fail('EV001');
      [kind, targetId, targetUserUID, text] = ['aggro', a.aggroUID, a.userUID, a.msg];
    } else {
      const member = (await this.deps.state.members(p, input.roomId)).find((x) => x.userUID === input.userUID);
      if (!member) return fail('EV001');
      [kind, targetId, targetUserUID] = ['user', member.userUID, member.userUID];
    }
    // Reporting oneself would let one user hide their own messages' reports' meaning; refused.
    if (targetUserUID === m.userUID) return fail('EV001');
    const out = await this.deps.records.addReport({
      scheduleUID: p,
      roomId: input.roomId,
      kind,
      targetId,
      targetUserUID,
      text,
      reporterUID: m.userUID,
      reason: input.reason,
      createdAt: this.deps.clock.now(),
    });
    if (out.created && kind === 'message' && out.reporters >= this.options.reportHideThreshold) {
      // Whoever crosses the threshold first (on any server) claims the removal; the rest find it gone.
      await this.removeMessage(p, targetId, 'reports', `${out.reporters} reports`);
    }
    return { ok: true, reported: out.created };
  }
}
