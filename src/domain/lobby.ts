/**
 * The rules of a big programme's lobby (spec 3.1), shared by both stores so that they choose
 * the same featured view, page the same way and search the same way.
 *
 * **The featured view's order.** Persistent rooms first (an operator made them to be found),
 * then rooms one can walk into (a free seat, no password), then the rest; within a tier the
 * room with more members first, then the newest. A room's place is one number, `rankScore`,
 * which the Redis store keeps in a sorted set and the memory store computes on demand.
 *
 * **Stability.** A room that is in the view stays there until it is deleted or an outsider
 * beats it clearly: a better tier, or at least `max(2, 20%)` more members in the same tier
 * (`beats`). Two rooms whose counts trade places by one member do not swap in and out every
 * interval. A recompute swaps at most `VIEW_SWAPS_PER_TICK` rooms, so a seed client's list
 * changes by a bounded number of `addRoom`/`deleteRoom` per interval.
 */

/** `LOBBY_VIEW_SIZE`'s default. */
export const DEFAULT_VIEW_SIZE = 100;
/** How many rooms one recompute may swap in (as many leave). */
export const VIEW_SWAPS_PER_TICK = 10;
/** The most rooms one `listRooms` page or `quickJoin` search looks at before it answers (a
 * filtered page may come back short, with `next` to carry on): no call scans a whole programme. */
export const SCAN_BUDGET = 1000;
/** How many rooms `watchRooms` takes. */
export const WATCH_MAX = 100;

/** A member count takes 14 bits (ROOM_MAX_LIMIT is at most 10,000), a creation sequence 32. */
const COUNT_UNIT = 2 ** 32;
const TIER_UNIT = 2 ** 46;

export interface Rankable {
  persistent: boolean;
  passwordHash?: string;
  max: number;
  count: number;
  seq: number;
}

export function isOpen(r: { passwordHash?: string; max: number; count: number }): boolean {
  return !r.passwordHash && r.count < r.max;
}

function tier(r: Rankable): number {
  if (r.persistent) return 2;
  return isOpen(r) ? 1 : 0;
}

/** Higher is better; exact in a double (below 2^53), so Redis sorted sets keep it exactly. */
export function rankScore(r: Rankable): number {
  return tier(r) * TIER_UNIT + Math.min(r.count, 16383) * COUNT_UNIT + (r.seq % COUNT_UNIT);
}

/** `quickJoin`'s order among open rooms: the fullest first, then the newest. */
export function openScore(r: { count: number; seq: number }): number {
  return r.count * COUNT_UNIT + (r.seq % COUNT_UNIT);
}

export function scoreParts(score: number): { tier: number; count: number } {
  return { tier: Math.floor(score / TIER_UNIT), count: Math.floor(score / COUNT_UNIT) % 16384 };
}

/** Whether an outsider (its score) should take the place of an insider (its score). */
export function beats(outsider: number, insider: number): boolean {
  const o = scoreParts(outsider);
  const i = scoreParts(insider);
  if (o.tier !== i.tier) return o.tier > i.tier;
  return o.count >= i.count + Math.max(2, Math.ceil(i.count / 5));
}

/**
 * The `k` best of `items` by `scoreOf`, best first; equal scores keep the order of `items` (as a
 * stable sort would). Linear, and allocating only the scores and the k chosen: a programme of
 * 20,000 rooms is not sorted whole every batching interval for a view of 100 (that sort was
 * 5-30 ms of one block on the lobby bench, and its garbage brought collections into it).
 */
export function topScored<T>(items: Iterable<T>, k: number, scoreOf: (item: T) => number): { item: T; score: number }[] {
  const list = Array.isArray(items) ? (items as T[]) : [...items];
  const n = list.length;
  if (k <= 0 || n === 0) return [];
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = scoreOf(list[i]!);
  // The k-th best score: everything above it is in, and of those equal to it the first ones.
  const cut = k >= n ? -Infinity : kthLargest(Float64Array.from(scores), k);
  let above = 0;
  for (let i = 0; i < n; i++) if (scores[i]! > cut) above++;
  let ties = k - above;
  const top: { item: T; score: number }[] = [];
  for (let i = 0; i < n && top.length < k; i++) {
    const score = scores[i]!;
    if (score > cut || (score === cut && ties-- > 0)) top.push({ item: list[i]!, score });
  }
  // Array#sort is stable: equal scores stay in the order of `items`.
  return top.sort((a, b) => b.score - a.score);
}

/** The k-th largest value (1-based) of `a`, which it reorders (Hoare's selection). */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want]!;
  }
  return a[want]!;
}

/**
 * The next view from the current one: fill free places with the best outsiders, then swap the
 * weakest insiders for outsiders that beat them, at most `VIEW_SWAPS_PER_TICK` times.
 * `best` is the programme's best rooms, best first (at least `size` of them when it has that
 * many); `scoreOf` the score of any current member. Returns the rooms that enter and leave.
 */
export function nextView(
  current: ReadonlySet<string>,
  best: readonly { roomId: string; score: number }[],
  scoreOf: (roomId: string) => number,
  size: number,
): { enter: string[]; leave: string[] } {
  const enter: string[] = [];
  const leave: string[] = [];
  const outsiders = best.filter((b) => !current.has(b.roomId));
  let free = size - current.size;
  let o = 0;
  while (free > 0 && o < outsiders.length) {
    enter.push(outsiders[o++]!.roomId);
    free--;
  }
  const insiders = [...current].map((roomId) => ({ roomId, score: scoreOf(roomId) })).sort((a, b) => a.score - b.score);
  let i = 0;
  let swaps = 0;
  while (o < outsiders.length && i < insiders.length && swaps < VIEW_SWAPS_PER_TICK) {
    const out = outsiders[o]!;
    const weak = insiders[i]!;
    if (!beats(out.score, weak.score)) break;
    enter.push(out.roomId);
    leave.push(weak.roomId);
    o++;
    i++;
    swaps++;
  }
  return { enter, leave };
}

/** What a title search compares: NFKC (so compatibility forms and decomposed Hangul jamo meet
 * their composed syllables) and lower case (JavaScript's full-string case mapping, which covers
 * the case folding of every script that has case). */
export function searchKey(s: string): string {
  return s.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** The opaque cursor of `listRooms`: the creation sequence of the last room a page looked at.
 * Rooms are listed in creation order and a sequence is never reused, so rooms created or
 * deleted meanwhile neither shift a page nor make one room appear twice. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`r1:${seq}`).toString('base64url');
}

/** `null` when the string is no cursor of ours. */
export function decodeCursor(cursor: string): number | null {
  const m = /^r1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? Number(m[1]) : null;
}
