/**
 * Connect floods (issue 10, points 3 and 4, and the refusal log of point 10): one websocket
 * sending socket.io CONNECT packets to thousands of programme names, and bare engine.io sessions
 * opened by the thousand. A refused handshake leaves no namespace and no metric series behind,
 * a connection that keeps being refused is closed, new sessions are budgeted per address, and
 * refusals are counted in full but logged by sample.
 */
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, user, WAIT_MS } from '../helpers/client.js';
import { httpGet, samples, scrape, value, type Exposition } from '../helpers/metrics.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SECRET = 'flood-secret-that-is-long-enough-for-hs256!!';
const JWT_ENV = { AUTH_MODE: 'jwt', JWT_SECRET: SECRET };

let run = 0;
/** Programme names unique to one test, so nothing else could have made their namespaces. */
function names(prefix: string, n: number): string[] {
  run += 1;
  return Array.from({ length: n }, (_, i) => `${prefix}-${process.pid}-${run}-${i}`);
}

/**
 * A raw engine.io websocket speaking socket.io's wire format, so a test can send what no
 * socket.io-client would: many CONNECT packets on one connection, as fast as it can.
 */
class RawSocket {
  readonly frames: string[] = [];
  readonly closed: Promise<number>;
  private waiters: { test: () => boolean; resolve: () => void }[] = [];
  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (data) => {
      this.frames.push(data.toString());
      this.waiters = this.waiters.filter((w) => (w.test() ? (w.resolve(), false) : true));
    });
  }

  static async open(server: TestServer): Promise<RawSocket> {
    const url = `${server.url.replace(/^http/, 'ws')}${server.config.socketPath}/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, server.ca ? { ca: server.ca } : {});
    const raw = new RawSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    // The engine.io open packet.
    await raw.until(() => raw.frames.some((f) => f.startsWith('0{')), 'the engine.io open packet');
    return raw;
  }

  /** A socket.io CONNECT (type 0) in an engine.io message (type 4). */
  connect(program: string, auth?: object): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(`40/${program},${auth ? JSON.stringify(auth) : ''}`);
  }

  /** socket.io CONNECT_ERROR packets received, by programme. */
  refusals(): Map<string, { message: string; data?: { code: string } }> {
    const out = new Map<string, { message: string; data?: { code: string } }>();
    for (const f of this.frames) {
      const m = /^44\/([^,]+),(.*)$/s.exec(f);
      if (m) out.set(m[1]!, JSON.parse(m[2]!) as { message: string });
    }
    return out;
  }

  /** socket.io CONNECT acknowledgements (accepted handshakes), by programme. */
  accepted(): string[] {
    return this.frames.flatMap((f) => /^40\/([^,]+),/.exec(f)?.[1] ?? []);
  }

  until(test: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ test, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Resolves with the close code, or rejects if the server keeps the connection open. */
function closedWithin(raw: RawSocket, timeoutMs = WAIT_MS): Promise<number> {
  return Promise.race([
    raw.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the server kept the connection open')), timeoutMs)),
  ]);
}

function namespaceOf(server: TestServer, program: string): boolean {
  return server.app.io._nsps.has(`/${program}`);
}

function seriesFor(e: Exposition, programs: Set<string>): string[] {
  return e.samples.filter((s) => s.labels.program !== undefined && programs.has(s.labels.program)).map((s) => `${s.name}{${s.labels.program}}`);
}

async function token(sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub, name: sub }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(now - 5).setExpirationTime(now + 300).sign(new TextEncoder().encode(SECRET));
}

describe('CONNECT packets on one websocket', () => {
  it.each([
    ['AUTH_MODE=jwt without credentials', JWT_ENV, 'AUTH_REQUIRED'],
    ['SCHEDULE_MODE=strict to programmes not on air', { SCHEDULE_MODE: 'strict' }, 'PROGRAM_NOT_ON_AIR'],
  ])('%s: no namespace, no metric series, the connection closed after the cap', async (_what, env, code) => {
    const server = await startServer({ ...env, HANDSHAKE_REFUSALS_PER_CONNECTION: '10' });
    const before = await scrape(server);
    const programs = names('flood', 60);
    const raw = await RawSocket.open(server);
    for (const p of programs) raw.connect(p, code === 'AUTH_REQUIRED' ? {} : user());
    await closedWithin(raw);

    const refused = raw.refusals();
    expect(refused.size).toBeGreaterThan(0);
    expect(refused.size).toBeLessThanOrEqual(10);
    for (const r of refused.values()) expect(r).toMatchObject({ message: code, data: { code } });
    expect(raw.accepted()).toEqual([]);
    // Nothing was made for any of them, not even for a while.
    expect(programs.filter((p) => namespaceOf(server, p))).toEqual([]);
    const after = await scrape(server);
    expect(seriesFor(after, new Set(programs))).toEqual([]);
    expect(value(after, 'onair_handshake_flood_closed_total') - value(before, 'onair_handshake_flood_closed_total')).toBe(1);
    expect(value(after, 'onair_refusals_total', { code }) - value(before, 'onair_refusals_total', { code })).toBeGreaterThanOrEqual(10);

    // A normal client from the same address still gets in.
    const program = programs[0]!;
    const normal = code === 'AUTH_REQUIRED' ? client(server, program, { auth: { token: await token('uid-normal') } }) : null;
    if (normal) {
      const loaded = normal.events.next('loadRooms');
      normal.connect();
      await loaded;
      expect(namespaceOf(server, program)).toBe(true);
    }
  });

  it('dev mode over HANDSHAKE_BURST: the refused CONNECTs are answered RATE_LIMITED before any namespace is made', async () => {
    const server = await startServer({ HANDSHAKE_BURST: '4', HANDSHAKE_RATE: '1', HANDSHAKE_REFUSALS_PER_CONNECTION: '10' });
    const before = await scrape(server);
    const programs = names('burst', 60);
    const raw = await RawSocket.open(server);
    const who = user();
    for (const p of programs) raw.connect(p, who);
    await closedWithin(raw);

    const refused = raw.refusals();
    expect(refused.size).toBe(10);
    for (const r of refused.values()) expect(r).toMatchObject({ message: 'RATE_LIMITED', data: { code: 'RATE_LIMITED' } });
    // Within the budget's burst (and at most one refilled token) handshakes may pass (the close
    // can overtake their answers); nothing else was made.
    expect(raw.accepted().length).toBeLessThanOrEqual(5);
    const refusedPrograms = [...refused.keys()];
    expect(refusedPrograms.filter((p) => namespaceOf(server, p))).toEqual([]);
    const untouched = programs.slice(5).filter((p) => !refused.has(p));
    expect(untouched.length).toBeGreaterThan(0);
    expect(untouched.filter((p) => namespaceOf(server, p))).toEqual([]);
    const after = await scrape(server);
    expect(seriesFor(after, new Set([...refusedPrograms, ...untouched]))).toEqual([]);
    expect(value(after, 'onair_rate_limited_total', { scope: 'handshake' }) - value(before, 'onair_rate_limited_total', { scope: 'handshake' })).toBe(10);
    expect(value(after, 'onair_handshake_flood_closed_total') - value(before, 'onair_handshake_flood_closed_total')).toBe(1);
  });
});

describe('bare engine.io sessions', () => {
  const HANDSHAKE = '/socket.io/?EIO=4&transport=polling';

  it('an address opening sessions beyond the budget is refused with HTTP 403 and counted; requests of an open session are not', async () => {
    // Sessions get twice the handshake burst: 6 here.
    const server = await startServer({ HANDSHAKE_BURST: '3', HANDSHAKE_RATE: '1' });
    const before = await scrape(server);
    const answers = await Promise.all(Array.from({ length: 30 }, () => httpGet(server, HANDSHAKE)));
    const opened = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(opened.length).toBeGreaterThanOrEqual(6);
    expect(opened.length).toBeLessThanOrEqual(7);
    for (const a of opened) expect(a.text).toMatch(/^0\{"sid":/);
    for (const a of refused) {
      expect(a.status).toBe(403);
      // engine.io's own refusal body.
      expect(JSON.parse(a.text)).toEqual({ code: 4, message: 'too many connection attempts, slow down' });
    }
    expect(server.app.io.engine.clientsCount).toBe(opened.length);

    // A direct websocket without a session id is a new session too.
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}${HANDSHAKE.replace('polling', 'websocket')}`, { ca: server.ca! });
    const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      });
      ws.once('open', () => reject(new Error('the websocket session was opened')));
      ws.once('error', reject);
    });
    // engine.io refuses every upgrade with 400 and the message.
    expect(status).toEqual({ code: 400, body: 'too many connection attempts, slow down' });

    // A request of a session already open is not a new session.
    const sid = (JSON.parse(opened[0]!.text.slice(1)) as { sid: string }).sid;
    const post = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${HANDSHAKE}&sid=${sid}`, server.url);
      const req = httpsRequest(url, { method: 'POST', ca: server.ca!, headers: { 'content-type': 'text/plain;charset=UTF-8' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('6'); // an engine.io noop
    });
    expect(post).toBe(200);

    const after = await scrape(server);
    expect(value(after, 'onair_rate_limited_total', { scope: 'engine' }) - value(before, 'onair_rate_limited_total', { scope: 'engine' })).toBe(refused.length + 1);
  });
});

describe('refused-handshake log', () => {
  /** pino's output, one parsed line each. */
  function capture(): { lines: Record<string, unknown>[]; log: Logger } {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    return { lines, log: pino({ level: 'info' }, stream) };
  }

  it('logs a sample (the first per address and code per REFUSAL_LOG_INTERVAL_MS); onair_refusals_total counts every one', async () => {
    const { lines, log } = capture();
    const server = await startServer({ ...JWT_ENV, HANDSHAKE_REFUSALS_PER_CONNECTION: '1000', REFUSAL_LOG_INTERVAL_MS: '400' }, { log });
    const refusedLines = () => lines.filter((l) => l.msg === 'handshake refused');
    const before = await scrape(server);
    const raw = await RawSocket.open(server);
    const programs = names('logged', 40);
    for (const p of programs) raw.connect(p, {});
    await raw.until(() => raw.refusals().size === programs.length, 'every refusal');
    let after = await scrape(server);
    expect(value(after, 'onair_refusals_total', { code: 'AUTH_REQUIRED' }) - value(before, 'onair_refusals_total', { code: 'AUTH_REQUIRED' })).toBe(40);
    expect(refusedLines()).toHaveLength(1);
    expect(refusedLines()[0]).toMatchObject({ level: 30, code: 'AUTH_REQUIRED', suppressed: 0 });

    // Once the interval is over, the next refusal is logged with how many were left out.
    // Paced by the refusals themselves, until the interval has passed (bounded in time).
    const deadline = Date.now() + WAIT_MS;
    let sent = 0;
    while (refusedLines().length < 2 && Date.now() < deadline) {
      const [p] = names('later', 1);
      raw.connect(p!, {});
      sent += 1;
      await raw.until(() => raw.refusals().has(p!), `the refusal of ${p}`);
    }
    expect(refusedLines()).toHaveLength(2);
    expect(refusedLines()[1]).toMatchObject({ code: 'AUTH_REQUIRED', suppressed: 40 + sent - 2 });
    after = await scrape(server);
    expect(value(after, 'onair_refusals_total', { code: 'AUTH_REQUIRED' }) - value(before, 'onair_refusals_total', { code: 'AUTH_REQUIRED' })).toBe(40 + sent);
    raw.close();
    // Nothing else about these handshakes made it to the info log either.
    expect(samples(after, 'onair_connections').filter((s) => s.labels.program?.startsWith('logged'))).toEqual([]);
  });
});
