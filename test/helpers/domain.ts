/** Fakes for unit tests of the domain: a Delivery that records what it was asked to send; and a
 * reader of one room's live aggro for tests of the state. */
import type { Delivery, EventArgs, SessionEnd } from '../../src/domain/delivery.js';
import type { LiveAggro } from '../../src/domain/model.js';
import type { ServerEventName } from '../../src/protocol/index.js';
import type { StateStore } from '../../src/state/store.js';

export interface Call {
  kind: 'toLobby' | 'toRoom' | 'toSocket' | 'enterRoom' | 'enterLobby' | 'endSession';
  at: number;
  p: string;
  roomId?: string;
  socketId?: string;
  except?: string | null;
  event?: ServerEventName;
  args?: unknown[];
}

export class RecordingDelivery implements Delivery {
  readonly calls: Call[] = [];

  toLobby<E extends ServerEventName>(p: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.calls.push({ kind: 'toLobby', at: Date.now(), p, except, event, args });
  }
  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.calls.push({ kind: 'toRoom', at: Date.now(), p, roomId, except, event, args });
  }
  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void {
    this.calls.push({ kind: 'toSocket', at: Date.now(), p, socketId, event, args });
  }
  enterRoom(p: string, socketId: string, roomId: string): void {
    this.calls.push({ kind: 'enterRoom', at: Date.now(), p, socketId, roomId });
  }
  enterLobby(p: string, socketId: string): void {
    this.calls.push({ kind: 'enterLobby', at: Date.now(), p, socketId });
  }
  /** Recorded as the `system` notice it sends (the transport adds `insufficient` and the disconnect). */
  endSession(p: string, socketId: string, end: SessionEnd): void {
    this.calls.push({ kind: 'endSession', at: Date.now(), p, socketId, event: 'system', args: [end] });
  }

  /** Calls that sent `event` (optionally with the given payload fields). */
  sent(event: ServerEventName, match?: (args: unknown[]) => boolean): Call[] {
    return this.calls.filter((c) => c.event === event && (!match || match(c.args ?? [])));
  }
  indexOf(pred: (c: Call) => boolean): number {
    return this.calls.findIndex(pred);
  }
  clear(): void {
    this.calls.length = 0;
  }
}

/** The room's live aggro, if any, read through `liveAggros`, the store's only reader of them. */
export async function liveAggroIn(store: Pick<StateStore, 'liveAggros'>, p: string, roomId: string): Promise<LiveAggro | null> {
  return (await store.liveAggros(p)).find((a) => a.roomId === roomId) ?? null;
}
