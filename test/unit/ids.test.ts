import { describe, expect, it } from 'vitest';
import { randomIds } from '../../src/domain/ids.js';

describe('random ids', () => {
  it('are base64url of 96 bits (rooms, aggros) and 72 bits (messages), never repeated across refills of the pool', () => {
    const seen = new Set<string>();
    // 4096-byte pool: 20,000 message ids (9 bytes each) refill it about 44 times.
    for (let i = 0; i < 20_000; i++) {
      const id = i % 3 === 0 ? randomIds.roomId() : i % 3 === 1 ? randomIds.aggroUID() : randomIds.messageId();
      expect(id).toMatch(i % 3 === 2 ? /^[A-Za-z0-9_-]{12}$/ : /^[A-Za-z0-9_-]{16}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });
});
