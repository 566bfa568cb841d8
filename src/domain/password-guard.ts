/**
 * Every password hash of the service goes through here: bounded in number (`HashQueue`) and, for
 * tries at a room's password, within the wrong-password budgets (`WrongPasswordBudget`). What is
 * refused costs no hashing.
 */
import type { Clock } from './clock.js';
import { HashQueue } from './hash-queue.js';
import { hashPassword, verifyPassword } from './password.js';
import { WrongPasswordBudget, type BudgetScope } from './password-budget.js';

export interface PasswordLimits {
  /** Hashes running at once. @default 2 */
  hashConcurrency: number;
  /** Hashes waiting beyond those; more are refused. @default 16 */
  hashQueue: number;
  /** @default 5 */
  failuresPerUser: number;
  /** @default 20 */
  failuresPerRoom: number;
  /** @default 60000 */
  lockMs: number;
}

export const defaultPasswordLimits: PasswordLimits = {
  hashConcurrency: 2,
  hashQueue: 16,
  failuresPerUser: 5,
  failuresPerRoom: 20,
  lockMs: 60_000,
};

/** What the operator's metrics hear; cheap, never throws. */
export interface PasswordObserver {
  /** A hash was computed (a new room's password, or a try). */
  passwordHashed(): void;
  /** A try or a new password refused without hashing: the queue was full, or a budget spent. */
  passwordRefused(reason: 'busy' | 'locked'): void;
  /** A budget was spent just now: its lock begins. */
  passwordLockout(scope: BudgetScope): void;
}

export const quietPasswordObserver: PasswordObserver = {
  passwordHashed() {},
  passwordRefused() {},
  passwordLockout() {},
};

export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
}

export const scryptHashing: PasswordHashing = { hash: hashPassword, verify: verifyPassword };

/** `busy`: the hash queue is full; `locked`: a wrong-password budget is spent. */
export type PasswordCheck = 'ok' | 'wrong' | 'busy' | 'locked';

export class PasswordGuard {
  private readonly queue: HashQueue;
  private readonly budget: WrongPasswordBudget;

  constructor(
    limits: PasswordLimits,
    clock: Clock,
    private readonly observer: PasswordObserver = quietPasswordObserver,
    private readonly hashing: PasswordHashing = scryptHashing,
  ) {
    this.queue = new HashQueue(limits.hashConcurrency, limits.hashQueue);
    this.budget = new WrongPasswordBudget({ perUser: limits.failuresPerUser, perRoom: limits.failuresPerRoom, periodMs: limits.lockMs }, clock);
  }

  /** Hashes waiting for a slot. */
  get queued(): number {
    return this.queue.queued;
  }

  /** A new room's password hash; `null` when the queue is full. An operator's (`always`) waits. */
  async hash(password: string, always = false): Promise<string | null> {
    const run = this.queue.run(() => {
      this.observer.passwordHashed();
      return this.hashing.hash(password);
    }, always);
    if (!run) this.observer.passwordRefused('busy');
    return run;
  }

  /** A try at room `roomId` of programme `p`. A missing password is wrong without hashing. */
  async check(p: string, roomId: string, userUID: string, password: string | undefined, stored: string): Promise<PasswordCheck> {
    if (!password) return 'wrong';
    const roomKey = `${p}\n${roomId}`;
    if (this.budget.begin(roomKey, userUID)) {
      this.observer.passwordRefused('locked');
      return 'locked';
    }
    const run = this.queue.run(() => {
      this.observer.passwordHashed();
      return this.hashing.verify(password, stored);
    });
    if (!run) {
      this.budget.settle(roomKey, userUID, false);
      this.observer.passwordRefused('busy');
      return 'busy';
    }
    let right: boolean;
    try {
      right = await run;
    } catch (err) {
      this.budget.settle(roomKey, userUID, false);
      throw err;
    }
    for (const scope of this.budget.settle(roomKey, userUID, !right)) this.observer.passwordLockout(scope);
    return right ? 'ok' : 'wrong';
  }
}
