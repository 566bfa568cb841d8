/**
 * How many wrong passwords a user, and a room, may cost before tries are refused without
 * hashing. Per user: `perUser` wrong passwords (counting tries still being checked) per
 * `periodMs`, whatever the room. Per room: once `perRoom` wrong passwords were given for it
 * within `periodMs`, it is locked for `periodMs`, but only against the users who gave one of
 * them: a lock against everyone would let a handful of accounts keep a room shut to the users
 * who know its password, for as long as they keep guessing.
 *
 * State is per process: with many servers each one keeps its own budgets.
 */
import type { Clock } from './clock.js';

export interface PasswordBudgetLimits {
  perUser: number;
  perRoom: number;
  periodMs: number;
}

interface Window {
  count: number;
  /** When the window (or, once the budget is spent, the lock) began. */
  since: number;
}

interface RoomWindow extends Window {
  failers: Set<string>;
}

export type BudgetScope = 'user' | 'room';

/** Past this many keys, expired windows are swept before another is added. */
const SWEEP_ABOVE = 10_000;

export class WrongPasswordBudget {
  private readonly users = new Map<string, Window>();
  private readonly rooms = new Map<string, RoomWindow>();
  /** Tries being checked, per user: they count against the budget before their outcome is known,
   * or a burst sent at once would all be hashed before the first failure registered. */
  private readonly inflight = new Map<string, number>();

  constructor(
    private readonly limits: PasswordBudgetLimits,
    private readonly clock: Clock,
  ) {}

  /** Start a try: `null` when it may be checked (and must later be `settle`d), else whose
   * budget refuses it. */
  begin(roomKey: string, userUID: string): BudgetScope | null {
    const now = this.clock.now();
    const pending = this.inflight.get(userUID) ?? 0;
    if ((this.live(this.users, userUID, now)?.count ?? 0) + pending >= this.limits.perUser) return 'user';
    const room = this.live(this.rooms, roomKey, now);
    if (room && room.count >= this.limits.perRoom && room.failers.has(userUID)) return 'room';
    this.inflight.set(userUID, pending + 1);
    return null;
  }

  /** The try's outcome; the budgets a wrong password spent just now (a lock begins). */
  settle(roomKey: string, userUID: string, wrong: boolean): BudgetScope[] {
    const pending = (this.inflight.get(userUID) ?? 1) - 1;
    if (pending > 0) this.inflight.set(userUID, pending);
    else this.inflight.delete(userUID);
    if (!wrong) return [];
    const now = this.clock.now();
    const spent: BudgetScope[] = [];
    const user = this.live(this.users, userUID, now) ?? this.open(this.users, userUID, { count: 0, since: now });
    user.count += 1;
    if (user.count === this.limits.perUser) {
      user.since = now;
      spent.push('user');
    }
    const room = this.live(this.rooms, roomKey, now) ?? this.open(this.rooms, roomKey, { count: 0, since: now, failers: new Set() });
    room.count += 1;
    room.failers.add(userUID);
    if (room.count === this.limits.perRoom) {
      room.since = now;
      spent.push('room');
    }
    return spent;
  }

  /** Keys remembered (for tests of the bound). */
  get size(): number {
    return this.users.size + this.rooms.size;
  }

  private live<W extends Window>(map: Map<string, W>, key: string, now: number): W | undefined {
    const w = map.get(key);
    if (w && now - w.since >= this.limits.periodMs) {
      map.delete(key);
      return undefined;
    }
    return w;
  }

  private open<W extends Window>(map: Map<string, W>, key: string, w: W): W {
    if (map.size >= SWEEP_ABOVE) {
      const now = this.clock.now();
      for (const [k, old] of map) if (now - old.since >= this.limits.periodMs) map.delete(k);
    }
    map.set(key, w);
    return w;
  }
}
