/**
 * The in-process path of a store's announcements, as Centrifuge's `MemoryBroker` delivers
 * through the handler registered with it: `MemoryStore` announces to the broker inside each
 * decision, the broker hands every event at once to its handler (the transport's delivery).
 * Being synchronous is what keeps the order: two decisions cannot interleave on one event loop,
 * so neither can their announcements.
 */
import type { Announcer, EventArgs } from '../../domain/ports/announcer.js';
import type { ServerEventName } from '../../protocol/index.js';

export class MemoryBroker implements Announcer {
  private handler: Announcer | null = null;

  /** Deliver every announcement from now on through `handler` (replacing any earlier one).
   * Until then announcements are dropped: no socket can be connected before the delivery that
   * reaches it exists, so none would have heard them. */
  handle(handler: Announcer): void {
    this.handler = handler;
  }

  toLobby<E extends ServerEventName>(p: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.handler?.toLobby(p, except, event, ...args);
  }

  toLobbyOf<E extends ServerEventName>(p: string, roomId: string, inView: boolean, event: E, ...args: EventArgs<E>): void {
    this.handler?.toLobbyOf(p, roomId, inView, event, ...args);
  }

  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.handler?.toRoom(p, roomId, except, event, ...args);
  }

  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void {
    this.handler?.toSocket(p, socketId, event, ...args);
  }
}
