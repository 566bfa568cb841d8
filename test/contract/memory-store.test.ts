/** The `StateStore` contract, run against the in-process store with a manual clock; what it
 * announces is what its broker hands to a recording handler. */
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RecordingAnnouncer } from '../helpers/announcements.js';
import { lobbyContract } from './lobby-contract.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async () => {
  let t = 1_700_000_000_000;
  const clock = {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
  const store = new MemoryStore(clock);
  const recorder = new RecordingAnnouncer();
  store.broker.handle(recorder);
  return { store, clock, announced: async (p) => recorder.of(p), close: () => store.close() };
});

lobbyContract('memory', async (viewSize) => {
  const store = new MemoryStore({ now: () => 1_700_000_000_000 }, undefined, viewSize);
  const recorder = new RecordingAnnouncer();
  store.broker.handle(recorder);
  return { store, clock: { now: () => 1_700_000_000_000 }, announced: async (p) => recorder.of(p), close: () => store.close() };
});
