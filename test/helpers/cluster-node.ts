/**
 * One onair server process of the cluster topology. It builds the app exactly as `main.ts` does,
 * from the environment, and reports to the test process over IPC: where it listens, every
 * finished aggro (its record sink, unless `ONAIR_NODE_RECORDS=database`), and lifecycle notices.
 */
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import type { AggroRecord } from '../../src/domain/model.js';
import type { RecordSink } from '../../src/domain/ports/records.js';
import { openApp } from '../../src/server/compose.js';

export type NodeMessage =
  | { type: 'listening'; port: number; cert: string | null; nodeId: string }
  | { type: 'record'; record: AggroRecord }
  | { type: 'program-released'; program: string }
  | { type: 'closed' };

function send(message: NodeMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

const records: RecordSink = {
  record: (record) => send({ type: 'record', record }),
  close: async () => {},
};

const config = loadConfig(process.env);
// `ONAIR_NODE_RECORDS=database`: finished aggros go to the server's own database, as in
// production (for tests that read them back through the admin API), not to the test process.
const ownRecords = process.env.ONAIR_NODE_RECORDS === 'database';
const app = await openApp({ config, log: pino({ level: config.logLevel }, pino.destination(2)), ...(ownRecords ? {} : { records }) });
app.events.on('program-released', (program: string) => void send({ type: 'program-released', program }));
const address = await app.listen();
await send({ type: 'listening', port: address.port, cert: app.tls?.cert ?? null, nodeId: process.env.ONAIR_NODE_NAME ?? '' });

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'close') {
    void app.close().then(async () => {
      await send({ type: 'closed' });
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));
