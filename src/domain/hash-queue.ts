/**
 * A bound on password hashing. scrypt runs on libuv's thread pool, which file and DNS work share:
 * left unbounded, a flood of wrong passwords queues thousands of hashes there and everything else
 * waits behind them (a right password took over 10 s). Here at most `concurrency` hashes run,
 * at most `queueMax` wait, and anything beyond is refused at once, before any work is spent.
 */
export class HashQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueMax: number,
  ) {}

  /** Hashes waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Run `job` once a slot is free; `null` at once when the queue is full. `always` (an
   * operator's call, not a client's) waits whatever the queue holds, still within `concurrency`.
   */
  run<T>(job: () => Promise<T>, always = false): Promise<T> | null {
    if (this.running < this.concurrency) {
      this.running += 1;
      return this.execute(job);
    }
    if (!always && this.waiting.length >= this.queueMax) return null;
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.execute(job));
  }

  private async execute<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } finally {
      // The slot passes straight to the next waiter, so `running` never exceeds the bound.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
