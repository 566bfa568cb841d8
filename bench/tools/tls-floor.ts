/**
 * The floor under onair's memory per WSS connection: what Node itself holds for an idle TLS 1.3
 * connection (a bare `tls` server that does nothing with it), against a bare `net` server, at
 * N connections, RSS per connection. Same certificate as the bench (ECDSA P-256). Server pinned
 * to core 0, the client (this process) to core 1.
 *
 * With `--handshakes`: the floor under a handshake instead, full TLS 1.3 handshakes per second
 * of one server core (N connect + close cycles, 32 in flight; the server answers each with one
 * record and closes), the rate divided by the server's share of its core.
 *
 *   node --import tsx bench/tools/tls-floor.ts [N] [--handshakes]
 */
import { fork } from 'node:child_process';
import { createServer as createNet, connect as netConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, createSecureContext, createServer as createTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createBenchEnv } from '../lib/env.js';
import { CLIENT_CPU, pin, SERVER_CPU } from '../lib/pin.js';
import { rssBytes, sample, sleep } from '../lib/stats.js';

if (process.env.TLS_FLOOR_SERVE) {
  const { kind, key, cert } = JSON.parse(process.env.TLS_FLOOR_SERVE) as { kind: 'tls' | 'net'; key: string; cert: string };
  const held: unknown[] = [];
  // TLS_FLOOR_OPTS: extra tls.createServer options as JSON, e.g. '{"maxVersion":"TLSv1.2"}'.
  const extra = JSON.parse(process.env.TLS_FLOOR_OPTS ?? '{}') as object;
  const handshakes = process.env.TLS_FLOOR_HANDSHAKES === '1';
  const server =
    kind === 'tls'
      ? createTls({ key, cert, ...extra }, (s) => (handshakes ? (s.on('error', () => {}), s.end('in')) : held.push(s)))
      : createNet((s) => held.push(s));
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
} else {
  const n = Number(process.argv[2] ?? 10_000);
  const handshakes = process.argv.includes('--handshakes');
  const bench = await createBenchEnv(false);
  const key = readFileSync(bench.keyPath, 'utf8');
  pin(process.pid, CLIENT_CPU);
  /** This file again as the server, pinned to the server's core. */
  const floorServer = async (kind: 'tls' | 'net', env: Record<string, string> = {}) => {
    const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env, TLS_FLOOR_SERVE: JSON.stringify({ kind, key, cert: bench.cert }) } });
    const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
    pin(child.pid!, SERVER_CPU);
    return { child, port };
  };
  if (handshakes) {
    const { child, port } = await floorServer('tls', { TLS_FLOOR_HANDSHAKES: '1' });
    const secureContext = createSecureContext({ ca: bench.cert });
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const s = tlsConnect({ port, host: '127.0.0.1', secureContext, servername: 'localhost' });
        s.on('data', () => {});
        s.on('end', () => (s.end(), resolve()));
        s.on('error', reject);
      });
    const cycles = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => { while (next++ < count) await one(); }));
    };
    await cycles(300);
    await sample([child.pid!]);
    const t0 = performance.now();
    await cycles(n);
    const seconds = (performance.now() - t0) / 1000;
    const server = await sample([child.pid!]);
    const rate = n / seconds;
    console.log(`tls ${process.version} (OpenSSL ${process.versions.openssl}): ${n} full handshakes, ${rate.toFixed(0)}/s, server ${server.cpu}% => ${(rate / (server.cpu / 100)).toFixed(0)}/s per server core`);
    child.kill();
    bench.cleanup();
    process.exit(0);
  }
  for (const kind of (process.env.TLS_FLOOR_KINDS ?? 'net,tls').split(',') as ('net' | 'tls')[]) {
    const { child, port } = await floorServer(kind);
    const sockets: Socket[] = [];
    const one = () =>
      new Promise<void>((resolve, reject) => {
        const s = kind === 'tls' ? tlsConnect({ port, host: '127.0.0.1', ca: bench.cert, servername: 'localhost' }, () => resolve()) : netConnect({ port, host: '127.0.0.1' }, () => resolve());
        s.on('error', reject);
        sockets.push(s);
      });
    for (let i = 0; i < 200; i++) await one();
    await sleep(2000);
    const before = await rssBytes(child.pid!);
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, one));
    await sleep(5000);
    const after = await rssBytes(child.pid!);
    console.log(`${kind}: ${n} idle connections, server RSS ${(before / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MiB = ${((after - before) / 1024 / n).toFixed(1)} KiB each`);
    for (const s of sockets) s.destroy();
    child.kill();
  }
  bench.cleanup();
  process.exit(0);
}
