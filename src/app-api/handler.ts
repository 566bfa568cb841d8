/**
 * The `/v1` handler: CORS as `CORS_ORIGINS` says, a per-address token bucket before anything
 * else is done, then the route table. Every input is parsed before it is used; errors are the
 * HTTP catalogue's; nothing here throws out of a request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock } from '../domain/clock.js';
import { KeyedRateLimiter } from '../domain/rate-limit.js';
import { sendError } from '../operator/http.js';
import { HttpError, httpErrors } from '../operator/http-errors.js';
import type { Identify } from './identity.js';
import type { AppDeps, AppRoute } from './routes.js';
import { compileRoute, findRoute, routeParams, type CompiledRoute } from '../operator/route-table.js';
import * as S from './schemas.js';

export interface AppHandlerOptions {
  corsOrigins: string[] | '*' | null;
  rate: number;
  burst: number;
  clock: Clock;
  /** The client's address (X-Forwarded-For read as TRUST_PROXY says). */
  address(req: IncomingMessage): string;
  identify: Identify;
  log: Logger;
  /** A refused request, for the metrics. */
  onRateLimited(): void;
}

const params: Record<string, z.ZodType> = { scheduleUID: S.scheduleUID };

/** `If-None-Match` holds the tag (or `*`); weak tags compare as strong ones, as RFC 9110 allows for GET. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function appHandler(deps: AppDeps, routes: AppRoute[], opts: AppHandlerOptions) {
  const compiled = routes.map(compileRoute);
  const limiter = new KeyedRateLimiter(opts.rate, opts.burst, opts.clock);
  const retryAfterS = String(Math.max(1, Math.ceil(1 / opts.rate)));

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (!origin || !opts.corsOrigins) return;
    if (opts.corsOrigins === '*') res.setHeader('access-control-allow-origin', '*');
    else if (opts.corsOrigins.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
    } else return;
    res.setHeader('access-control-expose-headers', 'etag, retry-after');
  }

  return (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    cors(req, res);
    if (!limiter.take(opts.address(req))) {
      opts.onRateLimited();
      res.setHeader('retry-after', retryAfterS);
      return sendError(res, 'RATE_LIMITED');
    }
    if (req.method === 'OPTIONS') {
      // A preflight: what a browser page may send. Without an allowed origin the answer carries
      // no CORS headers, so the browser does not send the request.
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': 'authorization, x-onair-user, if-none-match',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    // HEAD is served by the GET route (without the body).
    const match = findRoute(compiled, req.method, url.pathname, (route, asked) => asked === route || (asked === 'HEAD' && route === 'GET'));
    if ('error' in match) return sendError(res, match.error);
    void run(match.found, match.params, url, req, res);
  };

  async function run(c: CompiledRoute<AppRoute>, m: RegExpExecArray, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const values = routeParams(c, m, params);
      const keys = [...url.searchParams.keys()];
      if (!c.route.query && keys.length > 0) throw new HttpError('BAD_REQUEST', 'this route takes no query');
      // The schemas see one value per name; a second one would be dropped unseen.
      if (new Set(keys).size !== keys.length) throw new HttpError('BAD_REQUEST', 'a query parameter is given twice');
      const userUID = c.route.user ? await opts.identify(req) : null;
      const reply = await c.route.handle(deps, { params: values, query: url.searchParams, userUID });
      const headers: Record<string, string | number> = { 'cache-control': reply.cacheControl };
      if (reply.etag) {
        headers.etag = reply.etag;
        const inm = req.headers['if-none-match'];
        if (matches(inm, reply.etag)) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
      }
      const text = reply.json ?? JSON.stringify(reply.body);
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = Buffer.byteLength(text);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer');
        sendError(res, err.code, { message: err.message, ...(err.issues ? { issues: err.issues } : {}) });
        return;
      }
      // The path without its query, and no header: a token never reaches the logs.
      opts.log.error({ err, method: req.method, path: url.pathname }, 'app API call failed');
      sendError(res, 'UNAVAILABLE', { message: httpErrors.UNAVAILABLE.message });
    }
  }
}
