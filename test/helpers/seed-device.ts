/**
 * Seed app devices for tests (see seed-app.ts), in the test process or in a child process of
 * their own, and a TCP relay standing in for the load balancer in front of the servers, so a
 * test can see when clients come back and where.
 */
import { fork } from 'node:child_process';
import { connect as netConnect, createServer as createNetServer, type Socket as NetSocket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { user } from './client.js';
import { now, seedApp, type Device, type DeviceLog } from './seed-app.js';
import type { FleetCommand, FleetMessage } from './seed-fleet.js';

export { now, type Device, type DeviceLog };

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

export function seedDevice(url: string, ca: string | undefined, name = 'seed'): Device {
  const d = seedApp(url, ca, user(name));
  cleanups.push(() => d.socket.close());
  return d;
}

export interface Fleet {
  /** What every device saw so far. */
  report(): Promise<DeviceLog[]>;
}

/** `count` seed devices in a child process of their own. */
export function seedFleet(url: string, ca: string | undefined, count: number): Fleet {
  const child = fork(fileURLToPath(new URL('./seed-fleet.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  const send = (m: FleetCommand) => child.send(m);
  send({ type: 'start', url, ...(ca ? { ca } : {}), users: Array.from({ length: count }, (_, i) => user(`seed${i}`)) });
  return {
    report: () =>
      new Promise((resolve, reject) => {
        const onMessage = (m: FleetMessage) => {
          if (m.type !== 'report') return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m.devices);
        };
        const onExit = (code: number | null) => reject(new Error(`seed fleet exited (${code})`));
        child.on('message', onMessage);
        child.once('exit', onExit);
        send({ type: 'report' });
      }),
  };
}

export interface Relay {
  readonly port: number;
  /** The backend new connections go to; connections already made stay where they are. */
  target: number;
  /** Every connection accepted: when (`now()`), and where it was sent. */
  readonly accepted: { at: number; target: number }[];
}

export async function startRelay(target: number): Promise<Relay> {
  const open = new Set<NetSocket>();
  const accepted: Relay['accepted'] = [];
  const server = createNetServer((down) => {
    const to = relay.target;
    accepted.push({ at: now(), target: to });
    const up = netConnect(to, '127.0.0.1');
    open.add(down).add(up);
    down.pipe(up);
    up.pipe(down);
    const cut = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', cut);
    up.on('error', cut);
    // A closed side ends the other after what was already forwarded (a WebSocket close frame).
    down.on('close', () => (open.delete(down), up.end()));
    up.on('close', () => (open.delete(up), down.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay: Relay = { port: (server.address() as { port: number }).port, target, accepted };
  cleanups.push(() => {
    for (const s of open) s.destroy();
    server.close();
  });
  return relay;
}

export const portOf = (url: string): number => Number(new URL(url).port);

