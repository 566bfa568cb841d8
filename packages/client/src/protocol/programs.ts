// GENERATED from src/protocol/programs.ts by scripts/sync-protocol.mjs: do not edit; edit the source and run npm run build.
/**
 * What the app reads besides chat (spec section 10): the programmes on air, as
 * `GET /v1/programs/on-air` answers them and as the live feed `/_programs` sends them.
 * Shared by the server, the SDK and the console.
 */

/** The feed's namespace. Names starting with `_` are reserved (`SCHEDULE_UID_PATTERN` refuses
 * them), so no programme can ever be named so. */
export const PROGRAMS_NAMESPACE = '/_programs';

/** A programme on air now. */
export interface ProgramOnAir {
  scheduleUID: string;
  title: string;
  broadcaster: string;
  /** Epoch ms. */
  startAt: number;
  /** Epoch ms. */
  endAt: number;
  /** Connected sockets of the programme on every server. */
  viewers: number;
  /** Rooms open in it. */
  rooms: number;
}

/** A programme that has not started yet. */
export interface ProgramUpcoming {
  scheduleUID: string;
  title: string;
  broadcaster: string;
  startAt: number;
  endAt: number;
}

/** The body of `GET /v1/programs/on-air`, and of the feed's `loadPrograms`. */
export interface ProgramsOnAir {
  /** Most viewers first (then the earliest start, then the scheduleUID). */
  programs: ProgramOnAir[];
  /** Soonest first. */
  upcoming: ProgramUpcoming[];
}

/** What `/_programs` sends; it takes no events. */
export interface ProgramsFeedEvents {
  /** On connect: what is on air and what comes next. */
  loadPrograms: (list: ProgramsOnAir) => void;
  /** A programme went on air. */
  addProgram: (program: ProgramOnAir) => void;
  /** A programme went off air (ended, or removed from the schedule): its scheduleUID. */
  removeProgram: (scheduleUID: string) => void;
  /** Counts that changed since the last `viewers` (at most one per BATCH_INTERVAL_MS). */
  viewers: (counts: Record<string, number>) => void;
}

/** One of a programme's best aggros as `GET /v1/programs/:scheduleUID/aggros` lists it: what the
 * room saw, and nothing that names the author beyond it. */
export interface PublicAggro {
  displayName: string;
  photoURL?: string;
  msg: string;
  point: number;
  /** Epoch ms. */
  endedAt: number;
}

/** One of the caller's own aggros, as `GET /v1/me/aggros` lists them. */
export interface MyAggro {
  aggroUID: string;
  scheduleUID: string;
  /** `title_broadcaster` of the programme; null when the schedule did not know it. */
  titleBroad: string | null;
  msg: string;
  point: number;
  up: number;
  down: number;
  startedAt: number;
  endedAt: number;
  endReason: 'expired' | 'room_emptied' | 'removed' | 'program_ended' | 'shutdown';
}

/** A page of a list; `next` is the cursor of the following page, `null` at the end. */
export interface Page<T> {
  items: T[];
  next: string | null;
}
