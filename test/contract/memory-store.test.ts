/** The `StateStore` contract, run against the in-process store with a manual clock. */
import { MemoryStore } from '../../src/state/memory/memory-store.js';
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
  return { store, clock, close: () => store.close() };
});
