/**
 * The schedule at work on one server: who may connect, persistent rooms brought back when a
 * programme becomes active here, and programmes ended when they go off air.
 *
 * The database holds the schedule; each server keeps a copy, changed at once by its own admin
 * calls and reloaded from the database every `refreshMs` (so a change made on another server
 * takes effect here within that time). A programme is ended by every server for its own sockets
 * when its copy says it is off air; an operator deleting an on-air programme ends it on every
 * server at once through the adapter.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Delivery } from '../domain/ports/delivery.js';
import { isOnAir, Schedule, type Programme } from '../domain/schedule.js';
import type { OnAirService } from '../domain/service.js';
import type { RecordStore } from '../records/record-store.js';

/** What the schedule needs of a programme's runtime on this server (`transport/programme-runtime.ts`). */
export interface ServedProgramme {
  /** Its end is under way here. */
  ending: boolean;
  /** Run `restore` once, before its first socket here is served. */
  activate(restore: () => Promise<void>): Promise<void>;
}

/** The programmes this server serves, each with its runtime. */
export interface Served {
  programs(): string[];
  /** The programme's runtime, made when it has none here. */
  get(p: string): ServedProgramme;
}

export interface ProgrammesDeps {
  schedule: Schedule;
  records: RecordStore;
  service: OnAirService;
  delivery: Delivery;
  clock: Clock;
  log: Logger;
  served: Served;
  /** How often to reload the schedule and look for programmes that went off air. */
  refreshMs: number;
}

const ENDED_MESSAGE = 'This programme has ended.';

export class Programmes {
  /** Bumped by every local change, so a reload that read the database before it is dropped. */
  private changes = 0;
  private timer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ProgrammesDeps) {}

  get schedule(): Schedule {
    return this.deps.schedule;
  }

  /** Load the schedule (after `SCHEDULE_FILE`, if any, was written to the database). */
  async start(fromFile: readonly Programme[] = []): Promise<void> {
    const now = this.deps.clock.now();
    for (const p of fromFile) await this.deps.records.putProgram(p, now);
    this.deps.schedule.replace(await this.deps.records.listPrograms());
    if (fromFile.length > 0) this.deps.log.info({ programmes: fromFile.length }, 'schedule file loaded');
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
    // Off-air checks run more often than reloads: a programme's end is known in advance.
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(250, this.deps.refreshMs));
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  admits(p: string): boolean {
    return this.deps.schedule.admits(p, this.deps.clock.now());
  }

  /** Before the programme's first socket on this server is served: its persistent rooms (again
   * after each release here, since the runtime that remembers it goes with the release). */
  activate(p: string): Promise<void> {
    return this.deps.served.get(p).activate(async () => this.deps.service.restoreRooms(p, await this.deps.records.listRooms(p)));
  }

  async put(p: Programme): Promise<void> {
    await this.deps.records.putProgram(p, this.deps.clock.now());
    this.changes += 1;
    this.deps.schedule.put(p);
    this.sweep();
  }

  /** Remove a programme; one on air ends on every server. `false` when unknown. */
  async remove(p: string): Promise<boolean> {
    // The database, not this server's copy: it may not have reloaded a programme put elsewhere.
    const known = (await this.deps.records.listPrograms()).find((x) => x.scheduleUID === p) ?? this.deps.schedule.get(p);
    const deleted = await this.deps.records.deleteProgram(p);
    this.changes += 1;
    this.deps.schedule.remove(p);
    if (known && isOnAir(known, this.deps.clock.now())) await this.end(p, true);
    return deleted || known !== undefined;
  }

  private async refresh(): Promise<void> {
    try {
      const before = this.changes;
      const list = await this.deps.records.listPrograms();
      if (before === this.changes) this.deps.schedule.replace(list);
    } catch (err) {
      this.deps.log.warn({ err }, 'schedule reload failed; keeping the last one');
    }
    this.sweep();
  }

  /** End the programmes this server serves that the schedule no longer admits. */
  private sweep(): void {
    for (const p of this.deps.served.programs()) {
      const runtime = this.deps.served.get(p);
      if (this.admits(p)) runtime.ending = false;
      else if (!runtime.ending) void this.end(p, false);
    }
  }

  /**
   * A programme goes off air: its sockets (this server's, or with `everywhere` every server's)
   * get `PROGRAM_ENDED`; its live aggros are recorded as `program_ended` before anyone is
   * disconnected (otherwise the last one out would end them as `room_emptied`); then the sockets
   * go for good (seed clients get `insufficient` only now: they disconnect themselves on it), and
   * disconnect clean-up releases its state.
   */
  async end(p: string, everywhere: boolean): Promise<void> {
    this.deps.served.get(p).ending = true;
    this.deps.log.info({ program: p, everywhere }, 'programme ended');
    const reach = everywhere ? 'everywhere' : 'here';
    const notice = { code: 'PROGRAM_ENDED', message: ENDED_MESSAGE } as const;
    this.deps.delivery.toProgramme(p, reach, 'system', notice);
    try {
      await this.deps.service.endProgrammeAggros(p);
    } catch (err) {
      this.deps.log.error({ err, program: p }, 'recording the live aggros of an ended programme failed');
    }
    this.deps.delivery.endProgramme(p, reach, notice, true);
    // Sessions held through a blip (spec 7.1) have no socket to tell: they end here, with no resume.
    await this.deps.service.expireHeldSessions(p).catch((err: unknown) => {
      this.deps.log.error({ err, program: p }, 'ending the held sessions of an ended programme failed');
    });
  }
}
