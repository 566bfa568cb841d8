import type { Clock } from './clock.js';

/**
 * A token bucket: `burst` tokens, refilled at `ratePerSec`. Allows short bursts (a user
 * tapping vote twice) while capping the sustained rate a hostile client can reach.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  take(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again, so a keyed limiter may forget it. */
  isIdle(): boolean {
    return this.tokens + ((this.clock.now() - this.last) / 1000) * this.ratePerSec >= this.burst;
  }
}

/** Buckets per key (an address), pruned when full so memory stays bounded by active keys. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size > 10_000) this.prune();
      bucket = new TokenBucket(this.ratePerSec, this.burst, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.isIdle()) this.buckets.delete(key);
  }
}
