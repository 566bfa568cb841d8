/**
 * The tests' one polling wait, for what no event announces (process state, /metrics, a backend
 * coming back). Everything that an event does announce is waited for on that event instead.
 */

/** Poll `cond` until it holds, or fail after `timeoutMs` naming `what`. A `cond` that throws
 * fails the wait at once (an assertion inside it holds); one that may fail while a backend comes
 * back says so itself (`.catch(() => false)`). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    // Paces the poll: some conditions are costly (a report from a fleet of 500 seed clients).
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
