/**
 * Calls from event handlers (join, chat, vote) with their pending state and their typed error:
 * `OnAirError` when the server said no (a protocol code), `OnAirConnectError` when no answer came.
 */
import { errorMessages, OnAirConnectError, OnAirError } from '@onair/client';
import { useCallback, useEffect, useRef, useState } from 'react';

export type OnAirFailure = OnAirError | OnAirConnectError;

export function isOnAirFailure(err: unknown): err is OnAirFailure {
  return err instanceof OnAirError || err instanceof OnAirConnectError;
}

/** A sentence for a failure: the protocol's text for its code, else its own message. */
export function errorText(err: OnAirFailure): string {
  if (err instanceof OnAirError) return errorMessages[err.code] ?? err.message;
  return err.message;
}

export interface Call<A extends unknown[], R> {
  /** Runs the call; resolves with its result, or `undefined` when it failed with an onair
   * failure (then in `error`). Anything else (a bug) rejects. */
  run(...args: A): Promise<R | undefined>;
  pending: boolean;
  error: OnAirFailure | null;
  reset(): void;
}

/** `fn` (e.g. `(text) => client.chat(text)`) with `pending` and a typed `error`. The latest `fn`
 * is used, so it may close over render values. */
export function useCall<A extends unknown[], R>(fn: (...args: A) => Promise<R>): Call<A, R> {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<OnAirFailure | null>(null);
  const latest = useRef(fn);
  latest.current = fn;
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(async (...args: A) => {
    setPending(true);
    setError(null);
    try {
      return await latest.current(...args);
    } catch (err) {
      if (!isOnAirFailure(err)) throw err;
      if (mounted.current) setError(err);
      return undefined;
    } finally {
      if (mounted.current) setPending(false);
    }
  }, []);
  const reset = useCallback(() => setError(null), []);
  return { run, pending, error, reset };
}
