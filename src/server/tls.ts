/**
 * The server's certificate: the operator's (`TLS_CERT`/`TLS_KEY`), or for a newcomer a
 * self-signed one for localhost, made once in-process and kept in `DATA_DIR`.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { generate } from 'selfsigned';
import type { Config } from '../config/config.js';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** Where the certificate came from, for the start-up log. */
  certPath: string;
  fingerprint256: string;
}

async function makeSelfSigned(dir: string): Promise<void> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 365 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tls-key.pem'), pems.private, { mode: 0o600 });
  await writeFile(join(dir, 'tls-cert.pem'), pems.cert);
}

export async function loadTls(config: Config, log: Logger): Promise<TlsMaterial | null> {
  if (!config.tls.enabled) {
    log.warn('TLS=off: serving plain HTTP; only do this behind a proxy that terminates TLS');
    return null;
  }
  let certPath: string;
  let keyPath: string;
  if (config.tls.certPath && config.tls.keyPath) {
    certPath = resolve(config.tls.certPath);
    keyPath = resolve(config.tls.keyPath);
  } else {
    const dir = resolve(config.dataDir);
    certPath = join(dir, 'tls-cert.pem');
    keyPath = join(dir, 'tls-key.pem');
    if (!existsSync(certPath) || !existsSync(keyPath)) await makeSelfSigned(dir);
    else {
      const existing = new X509Certificate(await readFile(certPath));
      if (new Date(existing.validTo).getTime() < Date.now() + 24 * 3600_000) await makeSelfSigned(dir);
    }
  }
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  const fingerprint256 = new X509Certificate(cert).fingerprint256;
  const selfSigned = !config.tls.certPath;
  log.info({ certPath, fingerprint256, selfSigned }, selfSigned ? 'using a self-signed certificate for localhost' : 'using the configured certificate');
  return { key, cert, certPath, fingerprint256 };
}
