/**
 * The programmes on air as an app's home screen keeps them, from the feed `/_programs`: one pure
 * function, `reducePrograms(snapshot, event)`, and `ProgramsState`, which holds the current
 * snapshot and tells subscribers, like `OnAirState` does for a programme.
 */
import type { ProgramOnAir, ProgramsFeedEvents, ProgramUpcoming } from './protocol/programs.js';
import { ReducedState, waitForState } from './reduced-state.js';

export interface ProgramsSnapshot {
  readonly connected: boolean;
  /** `loadPrograms` has arrived since the last connect: the list is whole. */
  readonly loaded: boolean;
  /** On air, most viewers first (re-sorted as counts change). */
  readonly programs: readonly ProgramOnAir[];
  /** As of the last `loadPrograms`. */
  readonly upcoming: readonly ProgramUpcoming[];
}

export type ProgramsEvent = {
  [E in keyof ProgramsFeedEvents]: { event: E; data: Parameters<ProgramsFeedEvents[E]>[0] };
}[keyof ProgramsFeedEvents];

export type ProgramsAction = ProgramsEvent | { own: 'connected' } | { own: 'disconnected' };

export function initialPrograms(): ProgramsSnapshot {
  return { connected: false, loaded: false, programs: [], upcoming: [] };
}

/** The server's order: most viewers, then earliest start, then scheduleUID. */
function sorted(list: ProgramOnAir[]): ProgramOnAir[] {
  return list.sort((a, b) => b.viewers - a.viewers || a.startAt - b.startAt || (a.scheduleUID < b.scheduleUID ? -1 : 1));
}

export function reducePrograms(s: ProgramsSnapshot, a: ProgramsAction): ProgramsSnapshot {
  if ('own' in a) {
    if (a.own === 'connected') return s.connected ? s : { ...s, connected: true };
    // Whatever changed meanwhile comes with the next connect's `loadPrograms`.
    return s.connected || s.loaded ? { ...s, connected: false, loaded: false } : s;
  }
  switch (a.event) {
    case 'loadPrograms':
      return { ...s, loaded: true, programs: sorted([...a.data.programs]), upcoming: [...a.data.upcoming] };
    case 'addProgram':
      return {
        ...s,
        programs: sorted([...s.programs.filter((p) => p.scheduleUID !== a.data.scheduleUID), a.data]),
        // It started: it is no longer upcoming.
        upcoming: s.upcoming.filter((p) => p.scheduleUID !== a.data.scheduleUID),
      };
    case 'removeProgram': {
      if (!s.programs.some((p) => p.scheduleUID === a.data)) return s;
      return { ...s, programs: s.programs.filter((p) => p.scheduleUID !== a.data) };
    }
    case 'viewers': {
      let changed = false;
      const programs = s.programs.map((p) => {
        const n = a.data[p.scheduleUID];
        if (n === undefined || n === p.viewers) return p;
        changed = true;
        return { ...p, viewers: n };
      });
      return changed ? { ...s, programs: sorted(programs) } : s;
    }
  }
}

export type ProgramsListener = (state: ProgramsState) => void;

export class ProgramsState extends ReducedState<ProgramsSnapshot, ProgramsAction> {
  constructor() {
    super(initialPrograms(), reducePrograms);
  }

  get programs(): readonly ProgramOnAir[] {
    return this.current.programs;
  }
  get upcoming(): readonly ProgramUpcoming[] {
    return this.current.upcoming;
  }
  get loaded(): boolean {
    return this.current.loaded;
  }
  get connected(): boolean {
    return this.current.connected;
  }
}

/** Resolves once `predicate` holds (now or after a change); rejects after `timeoutMs`. */
export function waitForPrograms(state: ProgramsState, predicate: (state: ProgramsState) => boolean, timeoutMs = 5000): Promise<ProgramsState> {
  return waitForState(state, predicate, timeoutMs, 'programmes');
}
