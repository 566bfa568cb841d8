/** Fakes for unit tests of the domain: a Delivery that records what it was asked to send; and a
 * reader of one room's live aggro for tests of the state. */
import type { Delivery, EventArgs, ProgrammeEnd, Reach, SessionEnd } from '../../src/domain/ports/delivery.js';
import type { LiveAggro } from '../../src/domain/model.js';
import type { ServerEventName } from '../../src/protocol/index.js';
import type { StateStore } from '../../src/domain/ports/store.js';

export interface Call {
  kind: 'toLobby' | 'toWatchers' | 'toRoom' | 'toSocket' | 'toProgramme' | 'enterRoom' | 'enterLobby' | 'endSession' | 'endProgramme' | 'disconnectHere';
  reach?: Reach;
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
  /** In view it reads as `toLobby` (what it was before there was a view); out of it, `toWatchers`. */
  toLobbyOf<E extends ServerEventName>(p: string, roomId: string, inView: boolean, event: E, ...args: EventArgs<E>): void {
    if (inView) this.calls.push({ kind: 'toLobby', at: Date.now(), p, except: null, event, args });
    else this.calls.push({ kind: 'toWatchers', at: Date.now(), p, roomId, event, args });
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
  toProgramme<E extends ServerEventName>(p: string, reach: Reach, event: E, ...args: EventArgs<E>): void {
    this.calls.push({ kind: 'toProgramme', at: Date.now(), p, reach, event, args });
  }
  endProgramme(p: string, reach: Reach, end: ProgrammeEnd, told: boolean): void {
    this.calls.push({ kind: 'endProgramme', at: Date.now(), p, reach, ...(told ? {} : { event: 'system' as const, args: [end] }) });
  }
  disconnectHere(): void {
    this.calls.push({ kind: 'disconnectHere', at: Date.now(), p: '' });
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
