/**
 * What one bench run shares: a temp directory with the self-signed certificate (made by onair's
 * own TLS module, so servers and baseline use the very same one) and the run's options.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Config } from '../../src/config/config.js';
import { loadTls } from '../../src/server/tls.js';

export interface BenchEnv {
  quick: boolean;
  tmpDir: string;
  dataDir: string;
  certPath: string;
  keyPath: string;
  /** PEM, for clients to trust. */
  cert: string;
  /** Extra node flags for onair server processes (e.g. --cpu-prof). */
  serverExecArgv: string[];
  cleanup(): void;
}

export async function createBenchEnv(quick: boolean, serverExecArgv: string[] = []): Promise<BenchEnv> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'onair-bench-'));
  const dataDir = join(tmpDir, 'data');
  await loadTls({ tls: { enabled: true }, dataDir } as Config, pino({ level: 'silent' }));
  const certPath = join(dataDir, 'tls-cert.pem');
  return {
    quick,
    tmpDir,
    dataDir,
    certPath,
    keyPath: join(dataDir, 'tls-key.pem'),
    cert: readFileSync(certPath, 'utf8'),
    serverExecArgv,
    // BENCH_KEEP_TMP=1 keeps the servers' logs (e.g. of --trace-gc) for a post-mortem.
    cleanup: () => (process.env.BENCH_KEEP_TMP === '1' ? console.log(`bench temp dir kept: ${tmpDir}`) : rmSync(tmpDir, { recursive: true, force: true })),
  };
}
