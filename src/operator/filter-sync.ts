/**
 * Keeps this server's word filter the database's: the list's version is read every
 * `FILTER_REFRESH_MS` (default 500), and a changed one is loaded and compiled into a new
 * automaton, swapped in whole. Every server polls the same row, so a change made through any
 * server's admin API is in force on all of them within a second. A failing database keeps the
 * filter in force as it was.
 */
import type { Logger } from 'pino';
import { WordFilter } from '../domain/moderation/word-filter.js';
import type { ModerationRecords } from '../domain/ports/moderation-records.js';

export class FilterSync {
  private filter = WordFilter.empty;
  private version = -1;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly records: Pick<ModerationRecords, 'filters' | 'filterVersion'>,
    private readonly refreshMs: number,
    private readonly log: Logger,
  ) {}

  get current(): WordFilter {
    return this.filter;
  }

  /** Load now (the admin API calls it after a change, so this server needs no poll). */
  refresh(): Promise<void> {
    this.running ??= this.load().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async load(): Promise<void> {
    try {
      const version = await this.records.filterVersion();
      if (version === this.version) return;
      const list = await this.records.filters();
      this.filter = new WordFilter(list.entries);
      this.version = list.version;
      this.log.info({ version: list.version, entries: list.entries.length }, 'word filter loaded');
    } catch (err) {
      this.log.warn({ err }, 'reading the word filter failed; the one in force stays');
    }
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
