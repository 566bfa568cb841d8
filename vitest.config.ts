import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Three projects: everything against one in-process server (`single`), the protocol suite
 * again, unchanged, against three server processes on a private Redis (`cluster`), and the
 * protocol suite a third time against three servers on a private Redis Cluster (`rediscluster`,
 * 3 masters with a replica each), with the cluster's failover test (docs/scaling.md says which
 * suites run there, and why).
 */
/**
 * Token verification is one process's business: its suite addresses one server only, so three
 * servers add nothing to it but about 2 minutes of a 2-core CI machine.
 */
const ONE_PROCESS = ['test/protocol/auth-jwt.test.ts'];

/**
 * On a Redis Cluster the servers differ from one Redis only in where keys live (slots) and in
 * the cluster client: the suites that run every multi-key script stay; the handshake, hostile
 * payload and seed-client suites run on three servers in `cluster` (one Redis), and the store
 * contracts against the cluster client in `single`. The whole suite here took CI past 20
 * minutes on a slower machine (2026-12-02: 1,138 s of vitest).
 */
const SAME_ON_ONE_REDIS = ['test/protocol/connect.test.ts', 'test/protocol/hostile.test.ts', 'test/protocol/seed-client.test.ts'];

export default defineConfig({
  // The workspace packages (@onair/client) run from their sources, as the type check reads them:
  // a test never runs against a stale build.
  ssr: { resolve: { conditions: ['@onair/source', ...defaultServerConditions] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files start their own servers on ephemeral ports; two workers match the machine.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'single',
          include: ['test/**/*.test.ts'],
          exclude: ['test/cluster/**'],
          env: { ONAIR_TOPOLOGY: 'single' },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          // Each test here may start three server processes (and a Redis) inside its own time:
          // with two test files sharing two cores that alone took up to 18 s.
          testTimeout: 60_000,
          include: ['test/protocol/**/*.test.ts', 'test/cluster/**/*.test.ts'],
          exclude: [
            'test/protocol/shutdown.test.ts',
            'test/protocol/shutdown-spread.test.ts',
            'test/protocol/smoke.test.ts',
            ...ONE_PROCESS,
            // A Redis Cluster's own: the rediscluster project runs it.
            'test/cluster/redis-cluster-*.test.ts',
          ],
          env: { ONAIR_TOPOLOGY: 'cluster' },
        },
      },
      {
        extends: true,
        test: {
          name: 'rediscluster',
          testTimeout: 60_000,
          include: ['test/protocol/**/*.test.ts', 'test/cluster/redis-cluster-*.test.ts'],
          // As `cluster`: the shutdown suites are about one process's own shutdown, the smoke
          // test about one server's start.
          exclude: ['test/protocol/shutdown.test.ts', 'test/protocol/shutdown-spread.test.ts', 'test/protocol/smoke.test.ts', ...ONE_PROCESS, ...SAME_ON_ONE_REDIS],
          env: { ONAIR_TOPOLOGY: 'rediscluster' },
        },
      },
    ],
  },
});
