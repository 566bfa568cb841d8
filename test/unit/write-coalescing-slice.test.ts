/**
 * Issue 12: the coalescing flush (`write-coalescing.ts`) uncorks a few milliseconds of sockets
 * per turn of the event loop, first corked first written, so that writing a big fan-out does
 * not hold every call on the server behind it. Driven with stand-ins for the TLS sockets whose
 * `uncork` costs what encrypting and writing costs (a busy wait).
 */
import { describe, expect, it } from 'vitest';
import { corkFor } from '../../src/transport/write-coalescing.js';

function fakeSockets(n: number, uncorkMs: number, log: { id: number; turn: number }[], turn: () => number) {
  return Array.from({ length: n }, (_, id) => ({
    destroyed: false,
    writableLength: 0,
    corks: 0,
    cork() {
      this.corks += 1;
    },
    uncork() {
      const until = performance.now() + uncorkMs;
      while (performance.now() < until);
      log.push({ id, turn: turn() });
    },
  }));
}

describe('the coalescing flush', () => {
  it('spreads a long flush over turns, each socket uncorked once, in the order they were corked', async () => {
    const log: { id: number; turn: number }[] = [];
    let turn = 0;
    let counting = true;
    const tick = () => setImmediate(() => ((turn += 1), counting && tick()));
    tick();
    const sockets = fakeSockets(64, 0.5, log, () => turn);
    // Corked in reverse: the order of corking, not of the list, is the order of writing.
    for (const s of [...sockets].reverse()) expect(corkFor(s)).toBe(true);
    // A second frame for a socket still corked stays in it (no second cork).
    expect(corkFor(sockets[0]!)).toBe(true);
    while (log.length < 64) await new Promise((r) => setImmediate(r));
    counting = false;
    expect(log.map((e) => e.id)).toEqual(sockets.map((_, i) => 63 - i));
    expect(sockets.every((s) => s.corks === 1)).toBe(true);
    // 64 × 0.5 ms with a 4 ms slice checked every 16 sockets: four turns, 16 sockets each.
    const turns = new Set(log.map((e) => e.turn));
    expect(turns.size).toBe(4);
  });

  it('a socket corked while the flush is spread still waits for its own turn, after those corked before it', async () => {
    const log: { id: number; turn: number }[] = [];
    const sockets = fakeSockets(40, 0.5, log, () => 0);
    for (const s of sockets.slice(0, 32)) corkFor(s);
    // After the first slice (16), some wait; the latecomers queue behind them.
    await new Promise((r) => setImmediate(r));
    expect(log.length).toBe(16);
    for (const s of sockets.slice(32)) expect(corkFor(s)).toBe(true);
    while (log.length < 40) await new Promise((r) => setImmediate(r));
    expect(log.map((e) => e.id)).toEqual(sockets.map((_, i) => i));
  });
});
