/**
 * Sampling of refused-handshake log lines. A flood of refused handshakes (one address, thousands
 * a second) would otherwise write one info line each and make the log the bottleneck; the
 * operator needs to know who and why, not every attempt (`onair_refusals_total` counts them all).
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { ConnectErrorCode } from '../protocol/index.js';

/** Keys (address and code) remembered at once; beyond it new keys are not logged until old
 * windows expire, so a spoofed-address flood cannot grow this map without bound. */
const MAX_KEYS = 10_000;

interface Window {
  start: number;
  suppressed: number;
}

export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly intervalMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Whether this refusal should be logged: the first per key in each interval is. Returns how
   * many of the same key were left out since the last logged one, or `null` to leave it out.
   */
  sample(key: string): { suppressed: number } | null {
    if (this.intervalMs === 0) return { suppressed: 0 };
    const now = this.clock.now();
    const w = this.windows.get(key);
    if (w && now - w.start < this.intervalMs) {
      w.suppressed += 1;
      return null;
    }
    if (!w && this.windows.size >= MAX_KEYS) {
      this.prune(now);
      if (this.windows.size >= MAX_KEYS) return null;
    }
    const suppressed = w?.suppressed ?? 0;
    this.windows.set(key, { start: now, suppressed: 0 });
    return { suppressed };
  }

  private prune(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.intervalMs) this.windows.delete(key);
  }
}

/** Every refused handshake is counted; only a sample is logged (a flood would otherwise flood
 * the log). */
export class HandshakeRefusals {
  private readonly sampler: RefusalLog;

  constructor(
    private readonly metrics: { refused(code: string): void; handshakeFloodClosed(): void },
    private readonly log: Logger,
    intervalMs: number,
    clock: Clock,
  ) {
    this.sampler = new RefusalLog(intervalMs, clock);
  }

  refused(address: string, program: string, code: ConnectErrorCode, message: string): void {
    this.metrics.refused(code);
    const sampled = this.sampler.sample(`${address}\0${code}`);
    if (sampled) this.log.info({ address, program, code, reason: message, suppressed: sampled.suppressed }, 'handshake refused');
  }

  /** A connection closed for sending too many refused handshakes. */
  closed(address: string, refused: number): void {
    this.metrics.handshakeFloodClosed();
    const sampled = this.sampler.sample(`${address}\0closed`);
    if (sampled) this.log.info({ address, refused, suppressed: sampled.suppressed }, 'connection closed: too many refused handshakes');
  }
}
