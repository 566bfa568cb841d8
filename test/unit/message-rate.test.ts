/** Messages per second for the operator console: a sliding window of whole seconds. */
import { describe, expect, it } from 'vitest';
import { quietObserver } from '../../src/domain/ports/observer.js';
import { MessageRate } from '../../src/operator/message-rate.js';

describe('MessageRate', () => {
  it('averages the last ten seconds per programme and forgets what is older', () => {
    let now = 1_000_000;
    const rate = new MessageRate({ now: () => now });
    for (let i = 0; i < 30; i++) rate.add('news');
    rate.add('quiz');
    expect(rate.perSecond('news')).toBe(3);
    expect(rate.perSecond('quiz')).toBe(0.1);
    now += 5_000;
    for (let i = 0; i < 10; i++) rate.add('news');
    expect(rate.perSecond('news')).toBe(4);
    // Ten seconds after the first burst it has left the window; the second one is still in it.
    now += 5_000;
    expect(rate.perSecond('news')).toBe(1);
    now += 20_000;
    expect(rate.perSecond('news')).toBe(0);
    expect(rate.perSecond('unknown')).toBe(0);
  });

  it('counts through the domain observer and still tells the one it wraps', () => {
    const seen: string[] = [];
    const base = { ...quietObserver, message: (p: string) => void seen.push(p) };
    const rate = new MessageRate({ now: () => 0 });
    const observer = rate.observe(base);
    observer.message('news');
    observer.joined('news');
    expect(seen).toEqual(['news']);
    expect(rate.perSecond('news')).toBe(0.1);
  });
});
