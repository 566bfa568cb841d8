/**
 * Chat messages per second per programme, for the operator console's live screen. Counted by
 * this server as its sockets' messages are taken (the domain's `message` observation), over the
 * last `windowS` whole seconds: cheap enough for every message (one array slot), and no shared
 * state, so with many servers each answers its own share (docs/operator-console.md).
 */
import type { Clock } from '../domain/clock.js';
import type { DomainObserver } from '../domain/ports/observer.js';

export class MessageRate {
  private readonly counts = new Map<string, { second: number; buckets: number[] }>();

  constructor(
    private readonly clock: Clock,
    private readonly windowS = 10,
  ) {}

  /** The observer `base` with every message also counted here. */
  observe(base: DomainObserver): DomainObserver {
    // A derived object rather than a copy: `base`'s methods keep reading their own fields.
    return Object.create(base, {
      message: {
        value: (p: string) => {
          base.message(p);
          this.add(p);
        },
      },
    }) as DomainObserver;
  }

  add(p: string): void {
    const now = Math.floor(this.clock.now() / 1000);
    let c = this.counts.get(p);
    if (!c) {
      c = { second: now, buckets: new Array<number>(this.windowS).fill(0) };
      this.counts.set(p, c);
    }
    this.advance(c, now);
    c.buckets[now % this.windowS]! += 1;
  }

  /** Messages per second over the last `windowS` seconds (the current one included). */
  perSecond(p: string): number {
    const c = this.counts.get(p);
    if (!c) return 0;
    this.advance(c, Math.floor(this.clock.now() / 1000));
    const total = c.buckets.reduce((a, b) => a + b, 0);
    if (total === 0) this.counts.delete(p);
    return Math.round((total / this.windowS) * 10) / 10;
  }

  /** Empties the buckets of the seconds that passed since the last message. */
  private advance(c: { second: number; buckets: number[] }, now: number): void {
    for (let s = Math.max(c.second + 1, now - this.windowS + 1); s <= now; s++) c.buckets[s % this.windowS] = 0;
    c.second = Math.max(c.second, now);
  }
}
