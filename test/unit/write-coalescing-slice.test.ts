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
  it('uncorks a room-sized flush in one turn, however long it takes', async () => {
    const log: { id: number; turn: number }[] = [];
    let turn = 0;
    const sockets = fakeSockets(120, 0.1, log, () => turn);
    for (const s of sockets) corkFor(s);
    await new Promise((r) => setImmediate(r));
    turn = 1;
    expect(log.length).toBe(120);
  });

  it('spreads a long flush over turns, each socket uncorked once, in the order they were corked', async () => {
    const log: { id: number; turn: number }[] = [];
    let turn = 0;
    let counting = true;
    const tick = () => setImmediate(() => ((turn += 1), counting && tick()));
    tick();
    const sockets = fakeSockets(300, 0.1, log, () => turn);
    // Corked in reverse: the order of corking, not of the list, is the order of writing.
    for (const s of [...sockets].reverse()) expect(corkFor(s)).toBe(true);
    // A second frame for a socket still corked stays in it (no second cork).
    expect(corkFor(sockets[0]!)).toBe(true);
    while (log.length < 300) await new Promise((r) => setImmediate(r));
    counting = false;
    expect(log.map((e) => e.id)).toEqual(sockets.map((_, i) => 299 - i));
    expect(sockets.every((s) => s.corks === 1)).toBe(true);
    // 300 × 0.1 ms: at least 128 a turn (a room's fan-out is never split), then no more once
    // 4 ms have gone: 128, 128 and 44, in three turns.
    const perTurn = new Map<number, number>();
    for (const e of log) perTurn.set(e.turn, (perTurn.get(e.turn) ?? 0) + 1);
    expect([...perTurn.values()]).toEqual([128, 128, 44]);
  });

  it('a socket corked while the flush is spread still waits for its own turn, after those corked before it', async () => {
    const log: { id: number; turn: number }[] = [];
    const sockets = fakeSockets(240, 0.1, log, () => 0);
    for (const s of sockets.slice(0, 200)) corkFor(s);
    // After the first slice (128), some wait; the latecomers queue behind them.
    await new Promise((r) => setImmediate(r));
    expect(log.length).toBe(128);
    for (const s of sockets.slice(200)) expect(corkFor(s)).toBe(true);
    while (log.length < 240) await new Promise((r) => setImmediate(r));
    expect(log.map((e) => e.id)).toEqual(sockets.map((_, i) => i));
  });
});
