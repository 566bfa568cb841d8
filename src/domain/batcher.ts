/**
 * The seed's traffic rule: `count` and `aggroPoint` go out at most once per interval, carrying
 * the latest value. The first change opens a window (claimed atomically in the store, so one
 * owner per window even with many servers); its owner flushes it when the interval has passed.
 * A flush closes the window before the next change can open one, so two sends of the same key
 * are always at least one interval apart. `intervalMs` 0 turns batching off.
 */
import type { Logger } from 'pino';
import type { StateStore } from '../state/store.js';
import type { Clock } from './clock.js';
import type { Delivery } from './delivery.js';
import type { TimerSet } from './timers.js';

/** A window outlives its interval by this factor only when its owner died before flushing. */
const WINDOW_TTL_FACTOR = 3;

export class Batcher {
  constructor(
    private readonly store: StateStore,
    private readonly delivery: Delivery,
    private readonly clock: Clock,
    readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  async countChanged(p: string, roomId: string, timers: TimerSet): Promise<void> {
    if (this.intervalMs <= 0) return this.flushCount(p, roomId);
    if (await this.store.claimWindow(p, `count:${roomId}`, this.intervalMs * WINDOW_TTL_FACTOR)) {
      timers.after(this.intervalMs, () => void this.flushCount(p, roomId));
    }
  }

  async pointChanged(p: string, roomId: string, aggroUID: string, timers: TimerSet): Promise<void> {
    if (this.intervalMs <= 0) return this.flushPoint(p, roomId, aggroUID);
    if (await this.store.claimWindow(p, `point:${aggroUID}`, this.intervalMs * WINDOW_TTL_FACTOR)) {
      timers.after(this.intervalMs, () => void this.flushPoint(p, roomId, aggroUID));
    }
  }

  private async flushCount(p: string, roomId: string): Promise<void> {
    try {
      const count = await this.store.flushCount(p, roomId);
      if (count !== null) this.delivery.toLobby(p, 'count', { roomId, count });
    } catch (err) {
      this.log.warn({ err, p, roomId }, 'count flush failed');
    }
  }

  private async flushPoint(p: string, roomId: string, aggroUID: string): Promise<void> {
    try {
      const point = await this.store.flushPoint(p, roomId, aggroUID, this.clock.now());
      if (point !== null) this.delivery.toRoom(p, roomId, null, 'aggroPoint', { aggroUID, point });
    } catch (err) {
      this.log.warn({ err, p, aggroUID }, 'aggroPoint flush failed');
    }
  }
}
