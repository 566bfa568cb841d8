/**
 * The HTTP error catalogue against the code and the docs: no error answer is written outside it,
 * every code in it is answered somewhere and documented in docs/admin-api.md with its status, and
 * the OpenAPI document takes each route's error statuses from the route table.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/operator/admin-api.js';
import { httpErrors, type HttpErrorCode } from '../../src/operator/http-errors.js';
import { errorsOf, openApiDocument } from '../../src/operator/openapi.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const files = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ path: f, text: readFileSync(join(SRC, f), 'utf8') }));
const docs = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8');
const codes = Object.keys(httpErrors) as HttpErrorCode[];

/** Codes named where an error is answered or declared: `sendError(res, 'X'`, `refuse(res, 'X'`,
 * `new HttpError('X'`, `allowed ? 'X' : 'Y'` passed to them, and routes' `errors: [...]`. */
function usedCodes(): Set<string> {
  const used = new Set<string>();
  const patterns = [
    /\b(?:sendError|refuse)\(\s*\w+,\s*(?:\w+\s*\?\s*)?'([A-Z_]+)'(?:\s*:\s*'([A-Z_]+)')?/g,
    /\bnew HttpError\(\s*'([A-Z_]+)'/g,
    /\berrors: \[([^\]]*)\]/g,
  ];
  for (const { text } of files) {
    for (const pattern of patterns) {
      for (const m of text.matchAll(pattern)) {
        for (const group of m.slice(1)) for (const c of group?.match(/[A-Z][A-Z_]+/g) ?? []) used.add(c);
      }
    }
  }
  return used;
}

describe('HTTP error catalogue', () => {
  it('is the only way an error is answered: no bare { code } body, no status number beside a code', () => {
    const bare = files.filter(({ text }) => /\b(?:sendJson|json)\(\s*\w+,\s*\d{3},\s*\{\s*code\b/.test(text)).map((f) => f.path);
    expect(bare).toEqual([]);
    const numbered = files.filter(({ text }) => /new HttpError\(\s*\d/.test(text)).map((f) => f.path);
    expect(numbered).toEqual([]);
  });

  it('has every code that is answered, and answers every code it has', () => {
    const used = usedCodes();
    expect([...used].filter((c) => !(c in httpErrors))).toEqual([]);
    expect(codes.filter((c) => !used.has(c))).toEqual([]);
  });

  it.each(codes)('documents %s in docs/admin-api.md with its status', (code) => {
    const row = docs.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, code).toBeDefined();
    expect(row).toContain(`| ${httpErrors[code].status} |`);
  });

  it('gives one status per code', () => {
    const statuses = codes.map((c) => httpErrors[c].status);
    expect(new Set(statuses).size).toBe(statuses.length);
  });

  it('lists in the OpenAPI document, per route, the statuses of the errors its table entry declares', () => {
    const routes = adminRoutes({ roomMaxLimit: 50 });
    const doc = openApiDocument(routes, 'test') as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]![r.method.toLowerCase()]!;
      const errorStatuses = Object.keys(op.responses).filter((s) => Number(s) >= 400);
      expect(errorStatuses.sort(), `${r.method} ${r.path}`).toEqual(errorsOf(r).map((c) => String(httpErrors[c].status)).sort());
    }
    // The 409 comes from the route that declares it, not from the shape of its path.
    const withConflict = routes.filter((r) => doc.paths[r.path.replace(/:([A-Za-z]+)/g, '{$1}')]![r.method.toLowerCase()]!.responses['409']);
    expect(withConflict.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /admin/programs/:scheduleUID/rooms']);
  });
});
