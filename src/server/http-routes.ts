/** Plain HTTP routes beside socket.io: health for orchestrators, metrics, the admin API, the app API, the console. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson as json } from '../operator/http.js';
import { consoleRoute, isConsolePath } from './console-route.js';
import { adminUiRoute, isAdminUiPath } from '../operator/admin-ui-route.js';

export interface HealthChecks {
  /** Backends the service needs; each resolves true when reachable. */
  ready(): Promise<Record<string, boolean>>;
  closing(): boolean;
}

export interface HttpSurface {
  health: HealthChecks;
  /** Prometheus text for `GET /metrics`. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The `/admin` handler, when `ADMIN_TOKEN` enables it. */
  admin?: (req: IncomingMessage, res: ServerResponse, url: URL) => void;
  /** The `/v1` handler (the app API). */
  app?: (req: IncomingMessage, res: ServerResponse, url: URL) => void;
}

export function httpRoutes(surface: HttpSurface) {
  const { health } = surface;
  const serveConsole = consoleRoute();
  const serveAdminUi = adminUiRoute();
  return (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendError(res, 'BAD_REQUEST');
    }
    const path = url.pathname;
    if (isConsolePath(path)) return serveConsole(req, res);
    // The operator console's files need no token (the API behind them does), but exist only
    // with the API.
    if (isAdminUiPath(path)) return surface.admin ? serveAdminUi(req, res) : sendError(res, 'NOT_FOUND');
    // Without ADMIN_TOKEN the API is off: 404 whatever the method.
    if (path === '/admin' || path.startsWith('/admin/')) return surface.admin ? surface.admin(req, res, url) : sendError(res, 'NOT_FOUND');
    // Before the method check: browsers' CORS preflights are OPTIONS.
    if (surface.app && (path === '/v1' || path.startsWith('/v1/'))) return surface.app(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 'METHOD_NOT_ALLOWED');
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (health.closing()) return json(res, 503, { status: 'closing' });
      health.ready().then(
        (checks) => json(res, Object.values(checks).every(Boolean) ? 200 : 503, { status: Object.values(checks).every(Boolean) ? 'ready' : 'unavailable', checks }),
        () => json(res, 503, { status: 'unavailable' }),
      );
      return;
    }
    if (path === '/metrics') {
      surface.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(body);
        },
        () => sendError(res, 'METRICS_FAILED'),
      );
      return;
    }
    sendError(res, 'NOT_FOUND');
  };
}
