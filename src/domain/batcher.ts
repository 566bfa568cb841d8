/**
 * The seed's traffic rule: `count` and `aggroPoint` go out at most once per interval, carrying
 * the latest value. The first change opens a window (claimed atomically in the store, so one
 * owner per window even with many servers); its owner flushes it when the interval has passed.
 * A flush closes the window before the next change can open one, so two sends of the same key
 * are always at least one interval apart. `intervalMs` 0 turns batching off. The flush itself
 * announces what it sends (`StateStore`), so a flush never overtakes the room's deletion.
 */
import type { Logger } from 'pino';
import type { Deadline, DeadlineIndex } from './ports/cluster.js';
import type { StateStore } from './ports/store.js';
import type { Clock } from './clock.js';
import { quietObserver, type DomainObserver } from './ports/observer.js';
import type { TimerSet } from './timers.js';

/** A window outlives its interval by this factor only when its owner died before flushing. */
const WINDOW_TTL_FACTOR = 3;

export class Batcher {
  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly log: Logger,
    private readonly deadlines: DeadlineIndex,
    private readonly observer: DomainObserver = quietObserver,
  ) {}

  async countChanged(p: string, roomId: string, timers: TimerSet): Promise<void> {
    await this.changed({ kind: 'count', p, roomId }, timers);
  }

  async pointChanged(p: string, roomId: string, aggroUID: string, timers: TimerSet): Promise<void> {
    await this.changed({ kind: 'point', p, roomId, aggroUID }, timers);
  }

  private async changed(d: Extract<Deadline, { kind: 'count' | 'point' }>, timers: TimerSet): Promise<void> {
    if (this.intervalMs <= 0) return this.flush(d);
    const ttl = this.intervalMs * WINDOW_TTL_FACTOR;
    const owned = d.kind === 'count' ? await this.store.claimCountWindow(d.p, d.roomId, ttl) : await this.store.claimPointWindow(d.p, d.aggroUID, ttl);
    if (!owned) return;
    // Registered so that another server flushes the window should this one die first.
    await this.deadlines.add(d, this.clock.now() + this.intervalMs);
    timers.after(this.intervalMs, () => void this.flush(d));
  }

  /** Send the window's latest value if it changed; safe to call from any server, any number of times. */
  async flush(d: Extract<Deadline, { kind: 'count' | 'point' }>): Promise<void> {
    if (d.kind === 'count') await this.flushCount(d.p, d.roomId);
    else await this.flushPoint(d.p, d.roomId, d.aggroUID);
    await this.deadlines.remove(d).catch(() => {});
  }

  private async flushCount(p: string, roomId: string): Promise<void> {
    try {
      const count = await this.store.flushCount(p, roomId);
      if (count === null) return;
      this.observer.batchedEmit('count');
    } catch (err) {
      this.observer.backendError('state');
      this.log.warn({ err, program: p, roomId }, 'count flush failed');
    }
  }

  private async flushPoint(p: string, roomId: string, aggroUID: string): Promise<void> {
    try {
      const point = await this.store.flushPoint(p, roomId, aggroUID, this.clock.now());
      if (point === null) return;
      this.observer.batchedEmit('aggroPoint');
    } catch (err) {
      this.observer.backendError('state');
      this.log.warn({ err, program: p, aggroUID }, 'aggroPoint flush failed');
    }
  }
}
