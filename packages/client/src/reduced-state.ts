/**
 * What the SDK's state helpers share: an immutable snapshot changed only by a pure reducer, and
 * listeners told after each change. `OnAirState` (a programme) and `ProgramsState` (the
 * programmes feed) are this with their own reducer.
 */
export abstract class ReducedState<Snapshot, Action> {
  private readonly listeners = new Set<(state: this) => void>();

  constructor(
    protected current: Snapshot,
    private readonly reducer: (snapshot: Snapshot, action: Action) => Snapshot,
  ) {}

  /** The whole state as one immutable value: a new object after each change (what
   * `useSyncExternalStore` and similar want). */
  get snapshot(): Snapshot {
    return this.current;
  }

  /** Apply an action; listeners are called only when the state changed. */
  apply(action: Action): void {
    const next = this.reducer(this.current, action);
    if (next === this.current) return;
    this.current = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(this);
      } catch (err) {
        // One faulty listener must neither starve the others nor break the socket's dispatch;
        // its error is still reported, as an uncaught one.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Called after every change; returns the unsubscribe function. */
  subscribe(listener: (state: this) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** Resolves once `predicate` holds (checked now and after every change); rejects after
 * `timeoutMs`, saying that `what` did not happen. */
export function waitForState<S extends { subscribe(listener: (state: S) => void): () => void }>(
  state: S,
  predicate: (state: S) => boolean,
  timeoutMs: number,
  what: string,
): Promise<S> {
  if (predicate(state)) return Promise.resolve(state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${what} did not reach the expected condition within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = state.subscribe((s) => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}
