// Start a local three-process onair cluster on this machine's Redis, for trying it out:
// ports 8443, 8444, 8445; Redis from REDIS_URL (default redis://127.0.0.1:6379), keys under
// REDIS_PREFIX (default onair-local:). Ctrl-C stops all three gracefully.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const base = Number(process.env.PORT ?? 8443);
const env = {
  ...process.env,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: process.env.REDIS_PREFIX ?? 'onair-local:',
};
const children = [0, 1, 2].map((i) => {
  const child = spawn(process.execPath, ['dist/main.js'], { env: { ...env, PORT: String(base + i) }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[node${i + 1}:${base + i}] ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`[node${i + 1}] exited (${signal ?? code})\n`);
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(0);
  });
  return child;
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => children.forEach((c) => c.kill('SIGTERM')));
}
