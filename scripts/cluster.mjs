// Start a local three-process onair cluster on this machine's Redis, for trying it out:
// ports 8443, 8444, 8445; Redis from REDIS_URL (default redis://127.0.0.1:6379), keys under
// REDIS_PREFIX (default onair-local:). Ctrl-C stops all three gracefully.
//
// On a Redis Cluster instead: REDIS_CLUSTER_NODES=redis://127.0.0.1:7000,redis://127.0.0.1:7001
// npm run cluster (some of its nodes; REDIS_URL is then not set for the servers). See
// docs/scaling.md for a local Redis Cluster in one line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const base = Number(process.env.PORT ?? 8443);
const onCluster = Boolean(process.env.REDIS_CLUSTER_NODES);
const env = {
  ...process.env,
  ...(onCluster ? {} : { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  REDIS_PREFIX: process.env.REDIS_PREFIX ?? 'onair-local:',
};
process.stdout.write(onCluster ? `redis cluster: ${env.REDIS_CLUSTER_NODES}\n` : `redis: ${env.REDIS_URL}\n`);
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
