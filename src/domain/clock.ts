/** Time as the domain sees it; tests of domain rules inject their own. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
