/**
 * The app API (`/v1`) from an app: the programmes on air (revalidated with their `ETag`, so an
 * unchanged list costs a `304`), a programme's best aggros, and the caller's own. Uses the
 * platform's `fetch` (browsers, Node 20) unless one is given.
 */
import type { MyAggro, Page, ProgramsOnAir, PublicAggro } from './protocol/programs.js';

export interface AppApiOptions {
  /** The server's origin, e.g. `https://localhost:8443`. */
  url: string;
  /** AUTH_MODE=jwt: the same token as the socket's, sent as `Authorization: Bearer`. */
  token?: string;
  /** AUTH_MODE=dev: the userUID, sent as `x-onair-user`. */
  userUID?: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface PageOptions {
  /** 1-50. @default 20 */
  limit?: number;
  /** The previous page's `next`. */
  cursor?: string | null;
}

/** The server refused: `code` is the HTTP catalogue's (`BAD_REQUEST`, `UNAUTHORIZED`,
 * `RATE_LIMITED`, ...), `status` the HTTP status; `retryAfterS` comes with `RATE_LIMITED`. */
export class OnAirHttpError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'OnAirHttpError';
  }
}

export class OnAirApi {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private onAir: { etag: string; list: ProgramsOnAir } | null = null;

  constructor(private readonly opts: AppApiOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.fetch = opts.fetch ?? ((...args) => globalThis.fetch(...args));
  }

  /** Programmes on air (most viewers first) and upcoming; the last list again when the server
   * says it has not changed. */
  async programsOnAir(): Promise<ProgramsOnAir> {
    const headers: Record<string, string> = {};
    if (this.onAir) headers['if-none-match'] = this.onAir.etag;
    const res = await this.fetch(`${this.base}/v1/programs/on-air`, { headers });
    if (res.status === 304 && this.onAir) return this.onAir.list;
    const list = (await this.body(res)) as ProgramsOnAir;
    const etag = res.headers.get('etag');
    this.onAir = etag ? { etag, list } : null;
    return list;
  }

  /** A programme's finished aggros, highest point first. */
  async programAggros(scheduleUID: string, page: PageOptions = {}): Promise<Page<PublicAggro>> {
    const res = await this.fetch(`${this.base}/v1/programs/${encodeURIComponent(scheduleUID)}/aggros${query(page)}`);
    return (await this.body(res)) as Page<PublicAggro>;
  }

  /** The caller's own finished aggros, newest first (needs `token` or, in dev mode, `userUID`). */
  async myAggros(page: PageOptions = {}): Promise<Page<MyAggro>> {
    const headers: Record<string, string> = {};
    if (this.opts.token !== undefined) headers.authorization = `Bearer ${this.opts.token}`;
    else if (this.opts.userUID !== undefined) headers['x-onair-user'] = this.opts.userUID;
    const res = await this.fetch(`${this.base}/v1/me/aggros${query(page)}`, { headers });
    return (await this.body(res)) as Page<MyAggro>;
  }

  private async body(res: Response): Promise<unknown> {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed;
    const err = (parsed ?? {}) as { code?: string; message?: string };
    const retry = res.headers.get('retry-after');
    throw new OnAirHttpError(err.code ?? 'HTTP_ERROR', res.status, err.message ?? `HTTP ${res.status}`, retry ? Number(retry) : undefined);
  }
}

function query(page: PageOptions): string {
  const q = new URLSearchParams();
  if (page.limit !== undefined) q.set('limit', String(page.limit));
  if (page.cursor) q.set('cursor', page.cursor);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The programmes on air, in one call (no revalidation: keep an `OnAirApi` for that). */
export function programsOnAir(opts: AppApiOptions): Promise<ProgramsOnAir> {
  return new OnAirApi(opts).programsOnAir();
}
