/**
 * Everything a scenario starts (servers, redis, client workers) registers its stop here, so the
 * orchestrator can end what a failed or timed-out scenario left behind: by the process it
 * started, never by name.
 */
const live = new Set<() => Promise<void>>();

/** Register `stop`; returns the function that unregisters it once it has been stopped. */
export function track(stop: () => Promise<void>): () => void {
  live.add(stop);
  return () => live.delete(stop);
}

export async function stopAll(): Promise<number> {
  const all = [...live];
  live.clear();
  await Promise.allSettled(all.map((s) => s()));
  return all.length;
}
