/**
 * Redis that stops answering but keeps its connection open (a stopped or swapping process, a
 * partition that drops packets, a disk stalling its fsync) is nothing node-redis notices: a
 * command it has written waits for its reply for ever. Its per-command timeout does not help
 * (it covers only commands not yet written, and costs a timer and an AbortSignal per command
 * kept for the whole timeout, ~20 µs of CPU each: onair turns it off), and TCP keepalive takes
 * minutes. So each watched connection is asked a PING every `silenceMs / 2` while it is ready;
 * one not answered within `silenceMs` resets the connection: node-redis fails every call it
 * holds (ES001 to their callers) and reconnects, and while it is not ready again a state call
 * fails at once (no offline queue) instead of joining the wait.
 */

/** The slice of a node-redis client the watch uses. */
export interface WatchedConnection {
  readonly isReady: boolean;
  ping(): Promise<unknown>;
  destroy(): void;
  connect(): Promise<unknown>;
}

export interface SilenceWatch {
  stop(): void;
}

const UNANSWERED = Symbol('unanswered');

/** `work`'s result, or `UNANSWERED` when it takes longer than `ms` (its result then goes unused). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof UNANSWERED> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof UNANSWERED>((resolve) => {
    timer = setTimeout(() => resolve(UNANSWERED), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A PING answered within `ms`: what readiness asks, so that it cannot wait for a silent Redis. */
export async function pingWithin(connection: Pick<WatchedConnection, 'ping'>, ms: number): Promise<unknown> {
  const answer = await within(connection.ping(), ms);
  if (answer === UNANSWERED) throw new Error(`redis did not answer PING within ${ms} ms`);
  return answer;
}

export function watchSilence(
  connection: WatchedConnection,
  silenceMs: number,
  onSilent: () => void,
  onResetError: (err: unknown) => void = () => {},
): SilenceWatch {
  let stopped = false;
  let probing = false;
  const probe = async () => {
    if (stopped || probing || !connection.isReady) return;
    probing = true;
    try {
      // A failed PING is an error node-redis has seen and handles itself (it reconnects).
      const answer = await within(connection.ping().catch(() => null), silenceMs);
      if (answer !== UNANSWERED || stopped) return;
      onSilent();
      connection.destroy();
      // Resolves once Redis answers again; until then calls fail at once.
      connection.connect().catch(onResetError);
    } finally {
      probing = false;
    }
  };
  const timer = setInterval(() => void probe(), Math.max(1, Math.floor(silenceMs / 2)));
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
