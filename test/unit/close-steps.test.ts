/**
 * Shutdown runs its steps in the order they are declared, each after the one before it has
 * finished, and goes on past a step that fails (so one stuck backend never leaves the others
 * open). The server's own list is asserted as it runs, as Fastify tests its close hooks.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runCloseSteps } from '../../src/server/close-steps.js';
import { startServer } from '../helpers/server.js';
import { join, user } from '../helpers/client.js';

const quiet = pino({ level: 'silent' });

describe('close steps', () => {
  it('runs each step after the previous one has settled, in the declared order', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const done = runCloseSteps(
      [
        { name: 'a', run: async () => { seen.push('a:start'); await slow; seen.push('a:end'); } },
        { name: 'b', run: () => { seen.push('b'); } },
      ],
      quiet,
    );
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['a:start']);
    release();
    await done;
    expect(seen).toEqual(['a:start', 'a:end', 'b']);
  });

  it('goes on with the next step when one fails, and logs which', async () => {
    const lines: { step?: string; msg?: string }[] = [];
    const log = pino({ level: 'error' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const seen: string[] = [];
    await runCloseSteps(
      [
        { name: 'broken', run: async () => { throw new Error('backend away'); } },
        { name: 'after', run: () => void seen.push('after') },
      ],
      log,
      (name) => seen.push(`step:${name}`),
    );
    expect(seen).toEqual(['step:broken', 'step:after', 'after']);
    expect(lines).toEqual([expect.objectContaining({ step: 'broken', msg: 'shutdown step failed; going on with the next' })]);
  });

  it("a server closes in its declared order: sockets told and let go before the domain's state, the records before the backends", async () => {
    const server = await startServer();
    await join(server, 'closing', user('viewer'));
    const ran: string[] = [];
    server.app.events.on('close-step', (name: string) => ran.push(name));
    await server.close();
    expect(ran).toEqual([...server.app.closeSteps]);
    expect(ran).toEqual([
      'refuse new connections',
      'tell every socket',
      'send the programmes feed elsewhere',
      'stop the domain',
      'wait out the spread',
      'record what the spread began',
      'disconnect the rest',
      'finish disconnect clean-ups',
      'stop housekeeping',
      'stop the schedule',
      'stop the programmes board',
      'leave the cluster',
      'close socket.io',
      'close the records',
      'close the backends',
    ]);
  });
});
