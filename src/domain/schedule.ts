/**
 * What is on air. A programme is on air while `startAt <= now < endAt`. The schedule decides
 * who may connect and when a programme's sockets must be ended; it holds no timers itself, so
 * the server asks it on its own clock and tests ask it on theirs.
 */
export interface Programme {
  scheduleUID: string;
  title: string;
  broadcaster: string;
  /** Epoch ms. */
  startAt: number;
  /** Epoch ms; after `startAt`. */
  endAt: number;
}

export type ScheduleMode = 'open' | 'strict';

export function isOnAir(p: Programme, now: number): boolean {
  return p.startAt <= now && now < p.endAt;
}

/** The seed's "title_broadcaster", kept with every aggro of the programme. */
export function titleBroadOf(p: Programme): string {
  return `${p.title}_${p.broadcaster}`;
}

export class Schedule {
  private programmes = new Map<string, Programme>();

  constructor(readonly mode: ScheduleMode) {}

  /** Replace the whole schedule (a reload from the database). */
  replace(list: readonly Programme[]): void {
    this.programmes = new Map(list.map((p) => [p.scheduleUID, { ...p }]));
  }

  put(p: Programme): void {
    this.programmes.set(p.scheduleUID, { ...p });
  }

  remove(scheduleUID: string): boolean {
    return this.programmes.delete(scheduleUID);
  }

  get(scheduleUID: string): Programme | undefined {
    const p = this.programmes.get(scheduleUID);
    return p ? { ...p } : undefined;
  }

  list(): Programme[] {
    return [...this.programmes.values()].map((p) => ({ ...p })).sort((a, b) => a.startAt - b.startAt || a.scheduleUID.localeCompare(b.scheduleUID));
  }

  /**
   * Whether sockets of the programme may be connected now. `open`: a programme the schedule
   * does not know is accepted; `strict`: only programmes on air are.
   */
  admits(scheduleUID: string, now: number): boolean {
    const p = this.programmes.get(scheduleUID);
    if (!p) return this.mode === 'open';
    return isOnAir(p, now);
  }

  titleBroad(scheduleUID: string): string | undefined {
    const p = this.programmes.get(scheduleUID);
    return p ? titleBroadOf(p) : undefined;
  }
}
