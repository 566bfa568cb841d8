import { describe, expect, it } from 'vitest';
import { TimerSet } from '../../src/domain/timers.js';

describe('TimerSet.at', () => {
  it('never runs before the deadline by the given clock, even when the timeout fires early by it', async () => {
    const timers = new TimerSet();
    // A wall clock that falls 5 ms behind the event loop's after the deadline is taken (as
    // Date.now() and the loop's monotonic clock drift): the first timeout fires early by it.
    let calls = 0;
    const now = () => Date.now() - (calls++ === 0 ? 0 : 5);
    const deadline = now() + 20;
    const ranAt = await new Promise<number>((resolve) => timers.at(deadline, now, () => resolve(now())));
    expect(ranAt).toBeGreaterThanOrEqual(deadline);
    expect(timers.size).toBe(0);
  });

  it('runs after one more try with a clock that does not move (a test clock): never armed for ever', async () => {
    const timers = new TimerSet();
    const frozen = 1_000;
    let ran = 0;
    await new Promise<void>((resolve) => timers.at(frozen + 5, () => frozen, () => ((ran += 1), resolve())));
    expect(ran).toBe(1);
    expect(timers.size).toBe(0);
  });
});
