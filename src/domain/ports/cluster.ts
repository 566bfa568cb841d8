/**
 * What many servers need beyond shared state: knowing which servers are alive, which sockets
 * each one holds, and deadlines that any server can honour when the one that set them is gone.
 * Redis implements them for a cluster (`src/state/redis/redis-cluster.ts`), memory for one process
 * and for tests (`src/state/memory/memory-cluster.ts`); test/contract/cluster-contract.ts holds every
 * implementation to the guarantees written here.
 */

/** A socket as the registry keeps it. Entries are values: two equal in all four fields are the
 * same entry (adding it twice keeps one; removing or settling either removes it). */
export interface SocketEntry {
  p: string;
  socketId: string;
  userUID: string;
  displayName: string;
}

/**
 * One server's handle on the registry that all servers of a cluster share. Times are passed in
 * (`now`), never read from a clock, so that every server judges by the same numbers it was given.
 */
export interface NodeRegistry {
  readonly nodeId: string;
  /** Record that this server is alive now. `true` when it was not registered: at its first
   * beat, after `leave`, or because another server claimed it dead. */
  heartbeat(now: number): Promise<boolean>;
  /** Remove this server from the registry (clean shutdown), with its socket list: its sockets
   * were closed by itself, so no survivor is handed them. */
  leave(): Promise<void>;
  /** Record a socket held by this server, so a survivor can clean it up should this server die.
   * The list belongs to the server, not to its registration: sockets added before a beat, or
   * after this server was claimed dead and beat again, are handed over only if it dies later. */
  addSocket(entry: SocketEntry): Promise<void>;
  /** The socket was closed by this server; a survivor is never handed it. */
  removeSocket(entry: SocketEntry): Promise<void>;
  /**
   * Claim the servers whose last heartbeat is at or before `now - timeoutMs`, never the caller
   * itself, atomically: of all servers calling at once, exactly one claims a given server, and a
   * claimed server is unregistered (its next `heartbeat` answers `true`). A server that never beat
   * (or left) is never claimed. Then answer the sockets of dead servers still to be cleaned up,
   * whoever claimed them, each socket once, each dead server once, in no particular order: a
   * socket stays listed until `settle` says it was closed, so a clean-up cut short (an error, the
   * claimer dying) is finished later. A dead server with no such socket is not listed. When a
   * server is claimed again before its earlier sockets were settled, both lists are answered.
   */
  claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]>;
  /** The socket of dead server `nodeId` has been closed for everyone; it is no longer answered.
   * Settling a socket that is not listed does nothing. */
  settle(nodeId: string, entry: SocketEntry): Promise<void>;
}

/** A deadline is known by its kind and ids, not its time: `aggro` and `point` of the same ids
 * are two deadlines. Ids never contain a line break (the Redis index separates them with one). */
export type Deadline =
  | { kind: 'aggro'; p: string; roomId: string; aggroUID: string }
  | { kind: 'count'; p: string; roomId: string }
  | { kind: 'point'; p: string; roomId: string; aggroUID: string }
  /** The end of a held session's reconnect grace (spec 7.1). */
  | { kind: 'session'; p: string; userUID: string; socketId: string };

/** One index shared by all servers of a cluster: what one server adds, every other one sees. */
export interface DeadlineIndex {
  /** Remember that `d` is due at `at`, until it is removed; adding it again moves it to `at`. */
  add(d: Deadline, at: number): Promise<void>;
  /** Forget `d`, whatever its time; forgetting an unknown deadline does nothing. */
  remove(d: Deadline): Promise<void>;
  /** Deadlines due at or before `before`, oldest first (at most `limit`), each as it was added.
   * Reading leaves them in place: only `remove` takes one out. Acting on one must be
   * idempotent: several servers may see it, and the store's atomic step picks one. */
  due(before: number, limit: number): Promise<Deadline[]>;
}
