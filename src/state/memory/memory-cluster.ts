/**
 * The cluster ports in memory (see `../cluster.ts`): for one process, which is its own only
 * server, and for tests that play several servers in one process. Like `MemoryStore`, every
 * method does its work before its first await, which is what makes `claimDead` atomic.
 */
import type { Deadline, DeadlineIndex, NodeRegistry, SocketEntry } from '../../domain/ports/cluster.js';

/** An entry by value, whatever the order or extra fields of the object it came in. */
function socketKey(e: SocketEntry): string {
  return JSON.stringify([e.p, e.socketId, e.userUID, e.displayName]);
}

function copy(e: SocketEntry): SocketEntry {
  return { p: e.p, socketId: e.socketId, userUID: e.userUID, displayName: e.displayName };
}

/** What the servers of one in-memory cluster share, as Redis holds it under one prefix. Tests
 * read it (and remove a server from `beats`, as another server's claim would). */
export class MemoryNodeSpace {
  /** Last heartbeat of each registered server. */
  readonly beats = new Map<string, number>();
  /** The sockets each server holds, by `socketKey`. */
  readonly sockets = new Map<string, Map<string, SocketEntry>>();
  /** Sockets of claimed servers not yet settled. */
  readonly orphans = new Map<string, Map<string, SocketEntry>>();

  /** A handle for server `nodeId` on this space. */
  node(nodeId: string): MemoryNodeRegistry {
    return new MemoryNodeRegistry(nodeId, this);
  }
}

export class MemoryNodeRegistry implements NodeRegistry {
  constructor(
    readonly nodeId: string,
    private readonly space: MemoryNodeSpace = new MemoryNodeSpace(),
  ) {}

  async heartbeat(now: number): Promise<boolean> {
    const known = this.space.beats.has(this.nodeId);
    this.space.beats.set(this.nodeId, now);
    return !known;
  }

  async leave(): Promise<void> {
    this.space.beats.delete(this.nodeId);
    this.space.sockets.delete(this.nodeId);
  }

  async addSocket(entry: SocketEntry): Promise<void> {
    let own = this.space.sockets.get(this.nodeId);
    if (!own) this.space.sockets.set(this.nodeId, (own = new Map()));
    own.set(socketKey(entry), copy(entry));
  }

  async removeSocket(entry: SocketEntry): Promise<void> {
    const own = this.space.sockets.get(this.nodeId);
    own?.delete(socketKey(entry));
    if (own?.size === 0) this.space.sockets.delete(this.nodeId);
  }

  async claimDead(now: number, timeoutMs: number): Promise<{ nodeId: string; sockets: SocketEntry[] }[]> {
    const cutoff = now - timeoutMs;
    for (const [nodeId, beat] of [...this.space.beats]) {
      if (nodeId === this.nodeId || beat > cutoff) continue;
      this.space.beats.delete(nodeId);
      const sockets = this.space.sockets.get(nodeId);
      if (!sockets) continue;
      this.space.sockets.delete(nodeId);
      const orphans = this.space.orphans.get(nodeId);
      if (orphans) for (const [k, e] of sockets) orphans.set(k, e);
      else this.space.orphans.set(nodeId, sockets);
    }
    return [...this.space.orphans].map(([nodeId, sockets]) => ({ nodeId, sockets: [...sockets.values()].map(copy) }));
  }

  async settle(nodeId: string, entry: SocketEntry): Promise<void> {
    const orphans = this.space.orphans.get(nodeId);
    orphans?.delete(socketKey(entry));
    if (orphans?.size === 0) this.space.orphans.delete(nodeId);
  }
}

/** The Redis index's member for `d` (ids never hold a line break), so ties sort alike. */
function deadlineKey(d: Deadline): string {
  if (d.kind === 'session') return `session\n${d.p}\n${d.userUID}\n${d.socketId}`;
  return d.kind === 'count' ? `count\n${d.p}\n${d.roomId}` : `${d.kind}\n${d.p}\n${d.roomId}\n${d.aggroUID}`;
}

function copyDeadline(d: Deadline): Deadline {
  if (d.kind === 'session') return { kind: d.kind, p: d.p, userUID: d.userUID, socketId: d.socketId };
  return d.kind === 'count' ? { kind: d.kind, p: d.p, roomId: d.roomId } : { kind: d.kind, p: d.p, roomId: d.roomId, aggroUID: d.aggroUID };
}

export class MemoryDeadlineIndex implements DeadlineIndex {
  private readonly entries = new Map<string, { d: Deadline; at: number }>();

  async add(d: Deadline, at: number): Promise<void> {
    this.entries.set(deadlineKey(d), { d: copyDeadline(d), at });
  }

  async remove(d: Deadline): Promise<void> {
    this.entries.delete(deadlineKey(d));
  }

  async due(before: number, limit: number): Promise<Deadline[]> {
    const due: { d: Deadline; at: number; key: string }[] = [];
    for (const [key, e] of this.entries) if (e.at <= before) due.push({ ...e, key });
    // Ties by member, as Redis orders them, so both answer alike.
    due.sort((a, b) => a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return due.slice(0, Math.max(0, limit)).map((e) => copyDeadline(e.d));
  }

  /** When `d` is due, if it is remembered (for tests and inspection). */
  at(d: Deadline): number | undefined {
    return this.entries.get(deadlineKey(d))?.at;
  }

  /** How many deadlines are remembered. */
  get size(): number {
    return this.entries.size;
  }
}
