/**
 * The featured view's candidates (`topScored`): the k best rooms by score, best first, the same
 * list a stable sort of every room would give, equal scores in the programme's order.
 */
import { describe, expect, it } from 'vitest';
import { topScored } from '../../src/domain/lobby.js';

/** What the view was chosen from before: every room sorted, then cut. */
const bySort = (scores: number[], k: number) =>
  scores
    .map((score, item) => ({ item, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);

describe('topScored', () => {
  it('equals a stable sort cut at k, ties included, for random scores and any k', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const n of [0, 1, 7, 100, 2000]) {
      // Few distinct scores: many ties at the cut.
      const scores = Array.from({ length: n }, () => Math.floor(random() * 40));
      for (const k of [1, 5, 100, n, n + 3]) {
        expect(topScored(scores.keys(), k, (i) => scores[i]!)).toEqual(bySort(scores, k));
      }
    }
  });

  it('handles rising and falling orders (every room a new best, or none)', () => {
    const rising = Array.from({ length: 500 }, (_, i) => i);
    expect(topScored(rising.keys(), 10, (i) => rising[i]!).map((x) => x.item)).toEqual([499, 498, 497, 496, 495, 494, 493, 492, 491, 490]);
    const falling = rising.map((i) => 500 - i);
    expect(topScored(falling.keys(), 3, (i) => falling[i]!).map((x) => x.item)).toEqual([0, 1, 2]);
  });

  it('takes the first of equal scores at the cut, whatever their place in the list', () => {
    const scores = [5, 1, 5, 9, 5, 5, 1, 5];
    expect(topScored(scores.keys(), 3, (i) => scores[i]!).map((x) => x.item)).toEqual([3, 0, 2]);
    expect(topScored(new Set(scores.keys()), 5, (i) => scores[i]!).map((x) => x.item)).toEqual([3, 0, 2, 4, 5]);
  });

  it('gives nothing for k = 0', () => {
    expect(topScored([1, 2, 3], 0, (x) => x)).toEqual([]);
  });
});
