/**
 * The protocol suite runs against a topology: one server today; the cluster topology adds more
 * servers sharing state. Tests address servers by index (`server(i)` wraps around), so the same
 * test spreads its clients over however many servers the topology has.
 */
import type { AppDeps } from '../../src/server/app.js';
import { MemoryRecordSink, startServer, type TestServer } from './server.js';

export interface Topology {
  readonly name: string;
  readonly size: number;
  server(i?: number): TestServer;
  /** Finished aggros recorded by any server. */
  readonly records: MemoryRecordSink;
}

export async function startTopology(env: Record<string, string> = {}, deps: Partial<AppDeps> = {}): Promise<Topology> {
  const records = new MemoryRecordSink();
  const servers = [await startServer(env, { records, ...deps })];
  for (const s of servers) Object.assign(s, { records });
  return {
    name: 'single',
    size: servers.length,
    server: (i = 0) => servers[i % servers.length]!,
    records,
  };
}
