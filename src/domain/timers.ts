/**
 * Timeouts owned by one object and cleared together when it stops, so that nothing fires
 * after a programme is released or the server has shut down.
 */
export class TimerSet {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  /**
   * `fn` once `now()` has reached `deadline`. A timeout runs on the event loop's monotonic
   * clock, which can be a millisecond ahead of the wall clock the deadline was taken from: one
   * that fires early is armed once more for what is left, so an aggro is never ended (and
   * recorded) before its `expiresAt`. Once only: a clock a test moves by hand may never get there.
   */
  at(deadline: number, now: () => number, fn: () => void): void {
    this.after(deadline - now(), () => {
      const left = deadline - now();
      if (left > 0) this.after(left, fn);
      else fn();
    });
  }

  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
