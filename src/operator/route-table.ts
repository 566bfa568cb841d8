/**
 * What the two route tables over plain HTTP (the admin API and the app API) share: a route's
 * path with `:name` parameters made into a pattern once, the route found for a request (or why
 * none is: 404 for an unknown path, 405 for a known path with another method), and every path
 * parameter decoded and parsed by its schema before a handler sees it.
 */
import type { z, ZodType } from 'zod';
import { HttpError } from './http-errors.js';

export interface CompiledRoute<R> {
  readonly route: R;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export function compileRoute<R extends { path: string }>(route: R): CompiledRoute<R> {
  const names: string[] = [];
  const source = route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** The value, or `BAD_REQUEST` with the schema's issues. */
export function parse<T extends ZodType>(schema: T, value: unknown): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError('BAD_REQUEST', 'invalid request', r.error.issues.map((i) => ({ path: i.path, message: i.message })));
  return r.data;
}

export type RouteMatch<R> = { found: CompiledRoute<R>; params: RegExpExecArray } | { error: 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' };

/** The first route whose path matches and whose method `serves` the request's. */
export function findRoute<R extends { method: string }>(
  table: readonly CompiledRoute<R>[],
  method: string | undefined,
  pathname: string,
  serves: (routeMethod: string, requestMethod: string | undefined) => boolean = (r, q) => r === q,
): RouteMatch<R> {
  let known = false;
  for (const c of table) {
    const m = c.pattern.exec(pathname);
    if (!m) continue;
    known = true;
    if (serves(c.route.method, method)) return { found: c, params: m };
  }
  return { error: known ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND' };
}

/** The path parameters of a matched route, each decoded and parsed by its schema (any string
 * when it has none). */
export function routeParams(c: CompiledRoute<unknown>, m: RegExpExecArray, schemas: Readonly<Record<string, ZodType>>): Record<string, string> {
  const values: Record<string, string> = {};
  c.names.forEach((name, i) => {
    let raw: string;
    try {
      raw = decodeURIComponent(m[i + 1]!);
    } catch {
      throw new HttpError('BAD_REQUEST', `invalid ${name}`);
    }
    const schema = schemas[name];
    values[name] = schema ? (parse(schema, raw) as string) : raw;
  });
  return values;
}
