/**
 * Latency histograms (HDR, microseconds) that travel between processes as compressed base64, and
 * server resource samples from pidusage.
 */
import * as hdr from 'hdr-histogram-js';
import pidusage from 'pidusage';

/** 1 µs to 120 s at 3 significant digits: plenty for loopback latencies up to a meltdown. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
}

export function encode(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function merge(encoded: string[]): hdr.Histogram {
  const total = newHistogram();
  for (const e of encoded) {
    const h = hdr.decodeFromCompressedBase64(e);
    total.add(h);
    h.destroy();
  }
  return total;
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Milliseconds, from a histogram in microseconds. */
export function latency(h: hdr.Histogram): Latency {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes of one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface Usage {
  /** CPU over the window since the previous sample, percent of one core (sum over pids). */
  cpu: number;
  /** Resident set, MiB (sum over pids). */
  rssMiB: number;
}

/** pidusage measures CPU between two calls for the same pid: call at a window's start and end. */
export async function sample(pids: number[]): Promise<Usage> {
  const stats = await Promise.all(pids.map((p) => pidusage(p)));
  return {
    cpu: Math.round(stats.reduce((s, x) => s + x.cpu, 0)),
    rssMiB: Math.round(stats.reduce((s, x) => s + x.memory, 0) / 1048576),
  };
}

export async function rssBytes(pid: number): Promise<number> {
  return (await pidusage(pid)).memory;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
