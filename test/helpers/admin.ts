/**
 * Calls to the admin HTTP API of a test server, over its real TLS with its certificate verified.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TestServer } from './server.js';

export const ADMIN_TOKEN = 't0ken-for-tests';

export interface AdminReply {
  status: number;
  /** The parsed JSON body; `undefined` when empty. */
  body: any;
  headers: IncomingHttpHeaders;
}

/**
 * `token`: the admin token sent as `Bearer <token>` (the test token by default), `null` for no
 * `Authorization` header, or `{ authorization }` for a header sent as it is. `body`: a value sent
 * as JSON, or a string sent as it is (to send what is not JSON).
 */
export function adminCall(
  server: Pick<TestServer, 'url' | 'ca'>,
  method: string,
  path: string,
  body?: unknown,
  token: string | null | { authorization: string } = ADMIN_TOKEN,
): Promise<AdminReply> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | number> = {};
  if (token !== null) headers.authorization = typeof token === 'string' ? `Bearer ${token}` : token.authorization;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(server.ca ? { ca: server.ca } : {}), timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`admin call ${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A route path with its `:name` parameters filled in. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(values[name] ?? `x-${name}`));
}
