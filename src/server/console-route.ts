/** Serves the built web console (`dist/console`, made by `npm run build:console`) under `/console/`. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpErrorCode } from '../operator/http-errors.js';
import { sendError } from '../operator/http.js';

export const CONSOLE_PREFIX = '/console';

// Two levels up is the project root both from src/server (tsx, tests) and from dist/server (npm start).
const BUILT_CONSOLE = fileURLToPath(new URL('../../dist/console', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

// The page talks only to its own origin; photos may come from any https host.
const PAGE_POLICY =
  "default-src 'self'; img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function refuse(res: ServerResponse, code: HttpErrorCode, message?: string): void {
  sendError(res, code, { message });
}

/** True for paths this route answers: `/console` and everything below `/console/`. */
export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
}

/**
 * A request handler for `/console` paths (or those under `prefix`: the operator console's is
 * `operator/admin-ui-route.ts`), serving files from `root` (the built console by default). GET
 * and HEAD only; `/console` redirects to `/console/`, which is `index.html`.
 */
export function consoleRoute(root: string = BUILT_CONSOLE, prefix: string = CONSOLE_PREFIX, buildCommand = 'npm run build:console') {
  const base = resolve(root);
  const under = (path: string) => path === prefix || path.startsWith(`${prefix}/`);
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 'METHOD_NOT_ALLOWED');
    let rel: string;
    try {
      // Parsed as the other routes parse it, so `..` and `%2e%2e` segments are resolved first.
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === prefix) {
        res.writeHead(301, { location: `${prefix}/`, 'content-length': 0 });
        return void res.end();
      }
      if (!under(path)) return refuse(res, 'NOT_FOUND');
      rel = decodeURIComponent(path.slice(prefix.length + 1));
    } catch {
      return refuse(res, 'BAD_REQUEST');
    }
    if (rel === '') rel = 'index.html';
    const file = resolve(base, rel);
    // Encoded slashes (`..%2f`) survive the URL parser: the resolved file must still be inside.
    if (rel.includes('\0') || !file.startsWith(base + sep)) return refuse(res, 'NOT_FOUND');

    stat(file).then(
      (info) => {
        if (!info.isFile()) return refuse(res, 'NOT_FOUND');
        const isPage = extname(file) === '.html';
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'content-length': info.size,
          // Vite names every asset by its content hash, so only the page itself must be revalidated.
          'cache-control': file.startsWith(resolve(base, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache',
          'x-content-type-options': 'nosniff',
          ...(isPage ? { 'content-security-policy': PAGE_POLICY, 'referrer-policy': 'no-referrer' } : {}),
        });
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () =>
        rel === 'index.html'
          ? refuse(res, 'NOT_FOUND', `the console is not built: run ${buildCommand}`)
          : refuse(res, 'NOT_FOUND'),
    );
  };
}
