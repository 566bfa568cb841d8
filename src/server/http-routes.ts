/** Plain HTTP routes beside socket.io: health for orchestrators. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleRoute, isConsolePath } from './console-route.js';

export interface HealthChecks {
  /** Backends the service needs; each resolves true when reachable. */
  ready(): Promise<Record<string, boolean>>;
  closing(): boolean;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function httpRoutes(health: HealthChecks) {
  const serveConsole = consoleRoute();
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== undefined && isConsolePath(path)) return serveConsole(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { code: 'METHOD_NOT_ALLOWED' });
    if (path === '/healthz') return json(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      if (health.closing()) return json(res, 503, { status: 'closing' });
      health.ready().then(
        (checks) => json(res, Object.values(checks).every(Boolean) ? 200 : 503, { status: Object.values(checks).every(Boolean) ? 'ready' : 'unavailable', checks }),
        () => json(res, 503, { status: 'unavailable' }),
      );
      return;
    }
    json(res, 404, { code: 'NOT_FOUND' });
  };
}
