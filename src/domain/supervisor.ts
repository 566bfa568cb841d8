/**
 * What keeps a cluster whole when a server dies: each server heartbeats; every server looks for
 * servers silent for `nodeTimeoutMs` and for deadlines past due, and acts on them. The registry
 * and the store make each action exactly-once, so any number of supervisors can run.
 */
import type { Logger } from 'pino';
import type { DeadlineIndex, NodeRegistry } from './ports/cluster.js';
import type { Clock } from './clock.js';
import { holdsSession } from './grace.js';
import type { OnAirService } from './service.js';

export interface SupervisorOptions {
  /** A server silent this long is dead. @default 15000 */
  nodeTimeoutMs: number;
  /** How often to heartbeat and sweep. */
  tickMs: number;
  /** How late a deadline must be before another server acts on it, so its owner goes first. */
  graceMs: number;
}

export class ClusterSupervisor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Whether the last round reached the backend. */
  private healthy = false;
  /** No server is declared dead before this: after this server (or the backend) was away,
   * the others' heartbeats look stale until they have had a timeout's time to beat again. */
  private quietUntil = 0;

  constructor(
    private readonly service: OnAirService,
    private readonly nodes: NodeRegistry,
    private readonly deadlines: DeadlineIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: SupervisorOptions,
    /** This server was declared dead while it was alive (a long pause): its sockets' state has
     * been cleaned up by another server, so they must reconnect to be consistent again. */
    private readonly onEvicted: () => void = () => {},
  ) {}

  async start(): Promise<void> {
    await this.nodes.heartbeat(this.clock.now());
    this.healthy = true;
    this.quietUntil = this.clock.now() + this.options.nodeTimeoutMs;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => (this.running = null));
    }, this.options.tickMs);
    this.timer.unref();
  }

  /** One round: heartbeat, clean up dead servers, honour overdue deadlines. Never throws. */
  async tick(): Promise<void> {
    const now = this.clock.now();
    let added: boolean;
    try {
      added = await this.nodes.heartbeat(now);
    } catch (err) {
      this.healthy = false;
      this.log.warn({ err }, 'heartbeat failed; retrying next tick');
      return;
    }
    if (added) {
      // Not registered although it has beaten before: declared dead by the others (or the
      // backend lost its data), so its sockets' shared state is gone.
      this.log.warn('this server was declared dead or lost its state; reconnecting its sockets');
      this.onEvicted();
    }
    if (!this.healthy) this.quietUntil = now + this.options.nodeTimeoutMs;
    this.healthy = true;
    try {
      const deadNodes = now < this.quietUntil ? [] : await this.nodes.claimDead(now, this.options.nodeTimeoutMs);
      for (const dead of deadNodes) {
        this.log.warn({ nodeId: dead.nodeId, sockets: dead.sockets.length }, 'disconnecting the sockets of a dead server');
        for (const s of dead.sockets) {
          // A socket that fails stays listed and is tried again next round; the others go on.
          try {
            const member = { socketId: s.socketId, userUID: s.userUID, displayName: s.displayName };
            // A server's death is a departure nobody chose (domain/grace.ts): the session is held
            // for the grace from now (its client is likely back on another server already,
            // which took the seat over), and may have missed messages since the server fell silent.
            const held =
              holdsSession('server-died', this.service.graceMs) &&
              (await this.service.holdSession(s.p, member, `${dead.nodeId}/*`, now - this.options.nodeTimeoutMs));
            if (!held) await this.service.closeSession(s.p, member);
            await this.nodes.settle(dead.nodeId, s);
          } catch (err) {
            this.log.error({ err, nodeId: dead.nodeId, socketId: s.socketId }, "closing a dead server's socket failed");
          }
        }
      }
      for (const d of await this.deadlines.due(now - this.options.graceMs, 200)) await this.service.honour(d);
    } catch (err) {
      this.log.warn({ err }, 'cluster sweep failed; retrying next tick');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.nodes.leave().catch(() => {});
  }
}
