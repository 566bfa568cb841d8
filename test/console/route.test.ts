import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoute } from '../../src/server/console-route.js';
import { startServer } from '../helpers/server.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path goes out exactly as written, dots and escapes included. */
function get(port: number, path: string, method = 'GET', ca?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = ca ? httpsRequest : httpRequest;
    const req = send({ host: '127.0.0.1', port, path, method, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(root: string): Promise<{ server: Server; port: number }> {
  const server = createServer(consoleRoute(root));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('the console route', () => {
  let dir: string;
  let port: number;
  let server: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onair-console-'));
    mkdirSync(join(dir, 'console/assets'), { recursive: true });
    writeFileSync(join(dir, 'console/index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'console/assets/index-Ab12.js'), 'console.log(1)');
    writeFileSync(join(dir, 'console/assets/index-Cd34.css'), 'body{}');
    writeFileSync(join(dir, 'console/logo.svg'), '<svg/>');
    writeFileSync(join(dir, 'secret.txt'), 'secret');
    // A sibling whose name starts like the served folder's.
    mkdirSync(join(dir, 'console-other'));
    writeFileSync(join(dir, 'console-other/secret.txt'), 'secret');
    ({ server, port } = await serve(join(dir, 'console')));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects /console to /console/', async () => {
    const r = await get(port, '/console?x=1');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/console/');
  });

  it('serves index.html for /console/, revalidated and under a content security policy', async () => {
    const r = await get(port, '/console/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.body).toContain('<title>console</title>');
  });

  it('serves hashed assets with their content type, cached for long', async () => {
    const js = await get(port, '/console/assets/index-Ab12.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body).toBe('console.log(1)');
    const css = await get(port, '/console/assets/index-Cd34.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await get(port, '/console/logo.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
  });

  it('answers HEAD without a body', async () => {
    const r = await get(port, '/console/assets/index-Ab12.js', 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('14');
    expect(r.body).toBe('');
  });

  it('refuses paths that lead outside the folder', async () => {
    for (const path of [
      '/console/../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/..%2fsecret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/..%5csecret.txt',
      '/console/../console-other/secret.txt',
      '/console/%2e%2e/console-other/secret.txt',
      '/console/index.html%00.png',
    ]) {
      const r = await get(port, path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('secret');
    }
    expect((await get(port, '/console/%E0%A4%A')).status).toBe(400);
  });

  it('answers 404 for a missing file or a folder, 405 for other methods', async () => {
    expect((await get(port, '/console/nope.js')).status).toBe(404);
    expect((await get(port, '/console/assets')).status).toBe(404);
    expect((await get(port, '/console/', 'POST')).status).toBe(405);
  });

  it('answers 404 naming the build command when the console is not built', async () => {
    const empty = await serve(join(dir, 'not-built'));
    try {
      const r = await get(empty.port, '/console/');
      expect(r.status).toBe(404);
      expect(JSON.parse(r.body)).toEqual({ code: 'NOT_FOUND', message: 'the console is not built: run npm run build:console' });
    } finally {
      await new Promise((resolve) => empty.server.close(resolve));
    }
  });

  it('is served by the onair server beside socket.io', async () => {
    const onair = await startServer();
    const { port: onairPort } = new URL(onair.url);
    const r = await get(Number(onairPort), '/console', 'GET', onair.ca);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/console/');
    expect((await get(Number(onairPort), '/healthz', 'GET', onair.ca)).status).toBe(200);
  });
});
