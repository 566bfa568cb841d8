import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Three projects: everything against one in-process server (`single`), the protocol suite
 * again, unchanged, against three server processes on a private Redis (`cluster`), and the
 * protocol suite a third time against three servers on a private Redis Cluster (`rediscluster`,
 * 3 masters with a replica each), with the cluster's failover test (docs/scaling.md says which
 * suites run there, and why).
 */
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
          exclude: ['test/protocol/shutdown.test.ts', 'test/protocol/shutdown-spread.test.ts', 'test/protocol/smoke.test.ts'],
          env: { ONAIR_TOPOLOGY: 'rediscluster' },
        },
      },
    ],
  },
});
