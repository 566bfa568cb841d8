import { describe, expect, it } from 'vitest';
import { compareIds } from '../../src/state/redis/streams-adapter.js';

describe('stream ids', () => {
  it('compare as Redis orders them: milliseconds, then sequence, as numbers not strings', () => {
    expect(compareIds('1700000000000-0', '1700000000000-0')).toBe(0);
    expect(compareIds('1700000000000-9', '1700000000000-10')).toBeLessThan(0);
    expect(compareIds('999-5', '1000-0')).toBeLessThan(0);
    expect(compareIds('1000-0', '999-5')).toBeGreaterThan(0);
    expect(compareIds('0-0', '1-0')).toBeLessThan(0);
  });
});
