/**
 * Calls to the admin API with the token the person signed in with, sent as `Authorization:
 * Bearer` on every call. The token lives in this tab's sessionStorage only: it goes when the tab
 * closes, and other tabs and later visits never see it.
 */
const KEY = 'onair-admin-token';

export interface Issue {
  path?: (string | number)[];
  message: string;
  row?: number;
}

/** A refused call: `code` is the API's (or `NETWORK` when the server was not reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

export function savedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, token);
}

async function send(method: string, path: string, body?: unknown, token = savedToken()): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server could not be reached');
  }
  if (res.ok) return res;
  let detail: { code?: string; message?: string; issues?: Issue[] } = {};
  try {
    detail = (await res.json()) as typeof detail;
  } catch {
    // Not JSON: a proxy's page; the status says enough.
  }
  throw new ApiError(res.status, detail.code ?? `HTTP_${res.status}`, detail.message ?? (detail.code ? '' : res.statusText), Array.isArray(detail.issues) ? detail.issues : []);
}

export async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await send(method, path, body, token);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A download through the token (a plain link could not carry it). */
export async function download(path: string): Promise<{ blob: Blob; filename: string }> {
  const res = await send('GET', path);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'download';
  return { blob: await res.blob(), filename: name };
}

/** A path segment, escaped. */
export const seg = encodeURIComponent;
