/** The scenarios, in the order a full run takes them, each with its time budget. */
import type { BenchEnv } from '../lib/env.js';
import { appApi } from './app-api.js';
import { batching } from './batching.js';
import { blip } from './blip.js';
import { cluster } from './cluster.js';
import { connections } from './connections.js';
import { experiments } from './experiments.js';
import { baseline, fanout } from './fanout.js';
import { filter } from './filter.js';
import { lobbyScenario } from './lobby.js';

export interface Scenario {
  title: string;
  /** Hard limit: past it the scenario is abandoned and its processes stopped. */
  budgetMs: number;
  run(bench: BenchEnv, log: (s: string) => void): Promise<unknown>;
}

export const SCENARIOS = {
  fanout: { title: 'one room of 120, rising chat rate, onair (1 server)', budgetMs: 150_000, run: fanout },
  baseline: { title: 'the same ladder through a raw ws broadcaster', budgetMs: 150_000, run: baseline },
  connections: { title: '10,000 idle connections (WSS, and WS with TLS=off); JWT handshakes per second, each lever alone', budgetMs: 590_000, run: connections },
  batching: { title: 'count + aggroPoint traffic in a vote storm and a join/leave storm, batched vs not', budgetMs: 240_000, run: batching },
  cluster: { title: 'three servers on a private Redis against one: fan-out with members on different servers', budgetMs: 240_000, run: cluster },
  appApi: { title: 'the app home screen: GET /v1/programs/on-air per second (with and without If-None-Match); a /_programs feed socket against a programme socket', budgetMs: 240_000, run: appApi },
  filter: { title: 'the word filter: a chat message against 5,000 entries (one automaton over the normalised text)', budgetMs: 60_000, run: filter },
  lobby: { title: 'a programme of 20,000 rooms: loadRooms, lobby traffic per socket (seed and batched), listRooms and quickJoin under room switches (one server; three on Redis)', budgetMs: 480_000, run: lobbyScenario },
  blip: { title: '30% of a room of 120 on three servers cut for 3 s while it chats: broadcasts seen, exactly-once, resume time, Redis per held session', budgetMs: 150_000, run: blip },
  experiments: { title: 'before/after at a fixed load: ws native helpers; a CPU profile of the server', budgetMs: 180_000, run: experiments },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
