import { describe, expect, it } from 'vitest';
import { OpenRooms } from '../../src/state/memory/open-rooms.js';

describe('OpenRooms (the memory store quickJoin index)', () => {
  it('keeps the open rooms best first through random joins, leaves, locks and removals', () => {
    const rooms = new Map<string, { id: string }>();
    const roomOf = (id: string) => rooms.get(id) ?? (rooms.set(id, { id }), rooms.get(id)!);
    const index = new OpenRooms<{ id: string }>();
    const oracle = new Map<string, number>();
    // A seeded generator: a failure can be replayed.
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let step = 0; step < 5000; step++) {
      const room = `r${rand(200)}`;
      const seq = Number(room.slice(1));
      const count = rand(120);
      const open = rand(4) === 0 ? null : { count, seq };
      // The order openScore gives: count first, then the newer room.
      const score = open ? count * 1000 + seq : null;
      index.set(roomOf(room), open);
      if (score === null) oracle.delete(room);
      else oracle.set(room, score);
      if (step % 250 === 0) {
        const expected = [...oracle].sort((a, b) => b[1] - a[1]).map(([r]) => r);
        expect([...index.best()].map((r) => r.id)).toEqual(expected);
      }
    }
    index.clear();
    expect([...index.best()]).toEqual([]);
  });

  it('setting the same place twice keeps one entry; the top moves down as buckets empty', () => {
    const [a, b] = [{ id: 'a' }, { id: 'b' }];
    const index = new OpenRooms<{ id: string }>();
    index.set(a, { count: 5, seq: 1 });
    index.set(a, { count: 5, seq: 1 });
    index.set(b, { count: 7, seq: 2 });
    expect([...index.best()]).toEqual([b, a]);
    index.set(b, { count: 3, seq: 2 });
    expect([...index.best()]).toEqual([a, b]);
    index.set(a, null);
    expect([...index.best()]).toEqual([b]);
  });
});
