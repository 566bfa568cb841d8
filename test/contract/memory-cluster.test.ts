/** The cluster-port contract against the in-memory registry and index. */
import { MemoryDeadlineIndex, MemoryNodeSpace } from '../../src/state/memory/memory-cluster.js';
import { clusterContract } from './cluster-contract.js';

clusterContract('memory', async () => {
  const space = new MemoryNodeSpace();
  const index = new MemoryDeadlineIndex();
  return { node: (id) => space.node(id), deadlines: () => index, close: async () => {} };
});
