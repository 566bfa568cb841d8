/**
 * A child process holding many seed app devices, so that what they do is timed on their own
 * event loop, not behind the servers' TLS work in the test process. Driven over IPC.
 */
import { seedApp, type Device, type DeviceLog } from './seed-app.js';

export type FleetCommand = { type: 'start'; url: string; ca?: string; users: { userUID: string; displayName: string }[] } | { type: 'report' } | { type: 'stop' };
export type FleetMessage = { type: 'report'; devices: DeviceLog[] };

let devices: Device[] = [];

process.on('message', (m: FleetCommand) => {
  if (m.type === 'start') devices = m.users.map((who) => seedApp(m.url, m.ca, who));
  else if (m.type === 'report') {
    const logs: DeviceLog[] = devices.map(({ socket: _socket, ...log }) => log);
    process.send?.({ type: 'report', devices: logs } satisfies FleetMessage);
  } else {
    for (const d of devices) d.socket.close();
    process.disconnect?.();
  }
});
