/**
 * `GET /metrics` of a test server, over its real TLS, and a small parser of Prometheus's text
 * format (version 0.0.4): `# HELP`/`# TYPE` lines and `name{label="value",...} value` samples.
 * prom-client has no parser; this one is strict about what it reads, so a malformed exposition
 * fails the test that scrapes it.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TestServer } from './server.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family name to its `# TYPE`. */
  types: Map<string, string>;
  /** Metric family name to its `# HELP` text. */
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A float as Prometheus reads it (Go's ParseFloat): `NaN` and `Inf` in any case; prom-client
 * writes NaN as `Nan`. */
function parseValue(text: string, line: string): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Number.POSITIVE_INFINITY;
  if (special === '-inf') return Number.NEGATIVE_INFINITY;
  if (special === 'nan') return Number.NaN;
  const v = Number(text);
  if (text.trim() === '' || Number.isNaN(v)) throw new Error(`bad sample value in: ${line}`);
  return v;
}

/** `{a="x",b="y \"q\""}` from position `i` (at `{`); the labels and the position after `}`. */
function parseLabels(line: string, i: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i += 1;
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const name = line.slice(i, eq).trim();
    if (!LABEL_NAME.test(name) || line[eq + 1] !== '"') throw new Error(`bad label name in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const ch = line[j];
      if (ch === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (ch === '\\') {
        const next = line[j + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        j += 2;
        continue;
      }
      if (ch === '"') break;
      value += ch;
      j += 1;
    }
    if (name in labels) throw new Error(`repeated label ${name} in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i += 1;
    else if (line[i] !== '}') throw new Error(`bad label separator in: ${line}`);
  }
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), help: new Map() };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type in: ${line}`);
        out.types.set(name, rest);
      } else out.help.set(name, rest);
      continue;
    }
    const nameEnd = line.search(/[{\s]/);
    if (nameEnd <= 0) throw new Error(`bad sample line: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i);
    // The value, then an optional timestamp.
    const [valueText, timestamp, ...extra] = line.slice(i).trim().split(/\s+/);
    if (valueText === undefined || extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) {
      throw new Error(`bad sample line: ${line}`);
    }
    out.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  return out;
}

function labelsMatch(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** The samples of `name` whose labels include `labels`. */
export function samples(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && labelsMatch(s.labels, labels));
}

/**
 * The value of the one sample of `name` with exactly these labels; 0 when there is none (a
 * labelled counter appears only once it has counted something).
 */
export function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter((s) => s.name === name && labelsMatch(s.labels, labels) && Object.keys(s.labels).length === Object.keys(labels).length);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

export interface Scrape {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** A plain GET of a path of the server (no credentials). */
export function httpGet(server: Pick<TestServer, 'url' | 'ca'>, path: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const url = new URL(path, server.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, ...(server.ca ? { ca: server.ca } : {}), timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** `GET /metrics`, parsed; fails on anything but a 200 in the text format. */
export async function scrape(server: Pick<TestServer, 'url' | 'ca'>): Promise<Exposition> {
  const res = await httpGet(server, '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${res.text.slice(0, 200)}`);
  return parseExposition(res.text);
}

/** Scrape until `check` holds (a gauge following an asynchronous change), bounded in time. */
export async function scrapeUntil(
  server: Pick<TestServer, 'url' | 'ca'>,
  check: (e: Exposition) => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await scrape(server);
    if (check(e)) return e;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the metrics to show ${what}`);
    // Pace the poll; what the caller waits for is the condition, not this delay.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
