/** Small HTTP helpers for the operator's routes: JSON and error replies, bounded JSON bodies, the token. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, httpErrors, type HttpErrorCode } from './http-errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Answer an error. Routes that answered a bare `{ code }` before the catalogue existed still do
 * (clients may compare whole bodies); `message` and `issues` go out only when given.
 */
export function sendError(res: ServerResponse, code: HttpErrorCode, detail: { message?: string; issues?: unknown } = {}): void {
  sendJson(res, httpErrors[code].status, {
    code,
    ...(detail.message !== undefined ? { message: detail.message } : {}),
    ...(detail.issues !== undefined ? { issues: detail.issues } : {}),
  });
}

/** A download: `filename` is ASCII (the header cannot carry more without encoding). */
export function sendFile(res: ServerResponse, text: string, contentType: string, filename: string): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'cache-control': 'no-store' });
  res.end();
}

const BODY_LIMIT = 64 * 1024;

/** The request's JSON body (`undefined` when empty). Too large or not JSON: 400/413. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new HttpError('PAYLOAD_TOO_LARGE', `the body exceeds ${BODY_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError('BAD_REQUEST', 'the body is not valid JSON');
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares digests, so neither the token's content nor its length shows in the timing. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header?.trim() ?? '');
  return timingSafeEqual(digest(m?.[1] ?? ''), digest(token)) && m !== null;
}
