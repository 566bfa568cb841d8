/**
 * What many servers need beyond shared state: knowing which servers are alive, which sockets
 * each one holds, and deadlines that any server can honour when the one that set them is gone.
 * Only shared backends implement these; one process needs neither.
 */

export interface SocketEntry {
  p: string;
  socketId: string;
  userUID: string;
  displayName: string;
}

export interface NodeRegistry {
  readonly nodeId: string;
  /** Record that this server is alive now. `true` when it was not registered: at its first
   * beat, or because other servers had declared it dead. */
  heartbeat(now: number): Promise<boolean>;
  /** Remove this server from the registry (clean shutdown). */
  leave(): Promise<void>;
  /** Record a socket held by this server, so a survivor can clean it up should this server die. */
  addSocket(entry: SocketEntry): Promise<void>;
  removeSocket(entry: SocketEntry): Promise<void>;
  /**
   * Claim the servers whose last heartbeat is older than `now - timeoutMs` (atomically: of all
   * servers calling at once, exactly one claims a given server), and answer the sockets of dead
   * servers still to be cleaned up, whoever claimed them: a socket stays listed until `settle`
   * says it was closed, so a clean-up cut short (an error, the claimer dying) is finished later.
   */
  claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]>;
  /** The socket of dead server `nodeId` has been closed for everyone. */
  settle(nodeId: string, entry: SocketEntry): Promise<void>;
}

export type Deadline =
  | { kind: 'aggro'; p: string; roomId: string; aggroUID: string }
  | { kind: 'count'; p: string; roomId: string }
  | { kind: 'point'; p: string; roomId: string; aggroUID: string };

export interface DeadlineIndex {
  /** Remember that `d` is due at `at`. */
  add(d: Deadline, at: number): Promise<void>;
  remove(d: Deadline): Promise<void>;
  /** Deadlines due before `before`, oldest first (at most `limit`). Acting on one must be
   * idempotent: several servers may see it, and the store's atomic step picks one. */
  due(before: number, limit: number): Promise<Deadline[]>;
}
