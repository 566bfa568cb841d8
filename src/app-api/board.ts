/**
 * The programmes on air as the app sees them, kept in memory: `GET /v1/programs/on-air` and the
 * feed `/_programs` answer from the last snapshot, never from a backend per request, so a
 * prime-time surge of home screens costs the state backend nothing more.
 *
 * Each refresh reads this server's copy of the schedule and, per programme on air, two shared
 * counts (sessions and rooms: with Redis they are every server's), then tells its listeners what
 * changed. Every server refreshes on its own and serves only its own feed sockets, so there is no
 * cross-server traffic for the feed; servers may disagree for up to one refresh, as their copies
 * of the schedule may for up to SCHEDULE_REFRESH_MS.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { isOnAir, type Programme } from '../domain/schedule.js';
import { SCHEDULE_UID_PATTERN, type ProgramOnAir, type ProgramsOnAir, type ProgramUpcoming } from '../protocol/index.js';

export interface BoardCounts {
  /** Sockets of the programme on every server. */
  viewers(p: string): Promise<number>;
  rooms(p: string): Promise<number>;
}

export interface BoardDeps {
  /** This server's copy of the schedule. */
  programmes(): readonly Programme[];
  counts: BoardCounts;
  clock: Clock;
  log: Logger;
  /** How often to refresh; also the shortest gap between two `viewers` changes. */
  intervalMs: number;
  /** How many upcoming programmes to list. */
  upcomingMax: number;
}

/** What one refresh changed, for the feed. */
export interface BoardChange {
  added: ProgramOnAir[];
  removed: string[];
  /** Programmes on air before and after whose viewer count changed. */
  viewers: Record<string, number>;
}

export interface BoardSnapshot {
  readonly list: ProgramsOnAir;
  /** The body as sent, made once per change rather than per request. */
  readonly json: string;
  /** A strong validator of `json`. */
  readonly etag: string;
}

function snapshotOf(list: ProgramsOnAir): BoardSnapshot {
  const json = JSON.stringify(list);
  return { list, json, etag: `"${createHash('sha1').update(json).digest('base64url')}"` };
}

const byViewers = (a: ProgramOnAir, b: ProgramOnAir) => b.viewers - a.viewers || a.startAt - b.startAt || (a.scheduleUID < b.scheduleUID ? -1 : 1);

export class OnAirBoard {
  private current: BoardSnapshot = snapshotOf({ programs: [], upcoming: [] });
  private readonly listeners = new Set<(change: BoardChange) => void>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: BoardDeps) {}

  get snapshot(): BoardSnapshot {
    return this.current;
  }

  onChange(listener: (change: BoardChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first snapshot, then one per interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch((err: unknown) => this.deps.log.error({ err }, 'programmes board refresh failed')), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One refresh; a refresh already under way is waited for rather than doubled (a slow backend
   * would otherwise pile them up). */
  refresh(): Promise<void> {
    this.running ??= this.build().finally(() => (this.running = null));
    return this.running;
  }

  private async build(): Promise<void> {
    const { deps } = this;
    const now = deps.clock.now();
    // A programme stored before names starting with `_` were reserved could not be joined.
    const all = deps.programmes().filter((p) => SCHEDULE_UID_PATTERN.test(p.scheduleUID));
    const previous = new Map(this.current.list.programs.map((p) => [p.scheduleUID, p]));
    const programs = await Promise.all(
      all.filter((p) => isOnAir(p, now)).map(async (p): Promise<ProgramOnAir> => {
        const before = previous.get(p.scheduleUID);
        // A backend away keeps the last counts known rather than showing an empty programme.
        const [viewers, rooms] = await Promise.all([
          deps.counts.viewers(p.scheduleUID).catch(() => before?.viewers ?? 0),
          deps.counts.rooms(p.scheduleUID).catch(() => before?.rooms ?? 0),
        ]);
        return { scheduleUID: p.scheduleUID, title: p.title, broadcaster: p.broadcaster, startAt: p.startAt, endAt: p.endAt, viewers, rooms };
      }),
    );
    programs.sort(byViewers);
    const upcoming: ProgramUpcoming[] = all
      .filter((p) => p.startAt > now)
      .sort((a, b) => a.startAt - b.startAt || (a.scheduleUID < b.scheduleUID ? -1 : 1))
      .slice(0, deps.upcomingMax)
      .map((p) => ({ scheduleUID: p.scheduleUID, title: p.title, broadcaster: p.broadcaster, startAt: p.startAt, endAt: p.endAt }));

    const next = snapshotOf({ programs, upcoming });
    const change: BoardChange = { added: [], removed: [], viewers: {} };
    const onAirNow = new Set(programs.map((p) => p.scheduleUID));
    for (const p of programs) {
      const before = previous.get(p.scheduleUID);
      if (!before) change.added.push(p);
      else if (before.viewers !== p.viewers) change.viewers[p.scheduleUID] = p.viewers;
    }
    for (const id of previous.keys()) if (!onAirNow.has(id)) change.removed.push(id);
    if (next.json !== this.current.json) this.current = next;
    if (change.added.length === 0 && change.removed.length === 0 && Object.keys(change.viewers).length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        deps.log.error({ err }, 'programmes board listener failed');
      }
    }
  }
}
