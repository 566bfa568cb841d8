/**
 * The seed app's own client, as its socket module (createSocketChannel.js) uses socket.io-client
 * 3.1: one socket per device, path /jg, websocket only, identity in the query, `socket.connect()`
 * at once after `io server disconnect`, and giving up on `insufficient`. Free of vitest, so a
 * child process can run a fleet of them (see seed-fleet.ts).
 */
import { createRequire } from 'node:module';

/** What the tests use of socket.io-client 3.1 (its package has no types for an ESM import). */
export interface SeedSocket {
  /** Its Manager, which emits `reconnect_attempt` when socket.io's own back-off fires. */
  readonly io: { on(event: string, listener: (...args: unknown[]) => void): unknown };
  on(event: string, listener: (...args: unknown[]) => void): SeedSocket;
  connect(): SeedSocket;
  close(): SeedSocket;
  readonly connected: boolean;
}
const { io: seedIo } = createRequire(import.meta.url)('socket.io-client-v3') as { io: (url: string, opts: Record<string, unknown>) => SeedSocket };

/** Milliseconds on a clock that processes on one machine share. */
export const now = (): number => performance.timeOrigin + performance.now();

/** What a device saw, in plain data (it crosses a process boundary). */
export interface DeviceLog {
  /** When each `connect` came. */
  connects: number[];
  /** When the app set out to connect again: its own `connect()` after `io server disconnect`,
   * or a `reconnect_attempt` of socket.io-client's back-off. */
  attempts: number[];
  /** Each `disconnect` reason, in order, and when it came. */
  reasons: string[];
  disconnects: number[];
  /** `system` payloads. */
  notices: unknown[];
  gaveUp: boolean;
}

export interface Device extends DeviceLog {
  socket: SeedSocket;
}

export function seedApp(url: string, ca: string | undefined, who: { userUID: string; displayName: string }): Device {
  const socket = seedIo(url, {
    path: '/jg',
    transports: ['websocket'],
    timeout: 10_000,
    // A user without a photo sends the string "undefined": the query is a string map.
    query: { userUID: who.userUID, displayName: who.displayName, photoURL: 'undefined', phoneNumber: '' },
    // One socket per device: each test device is its own phone, not a shared Manager.
    forceNew: true,
    ...(ca ? { ca } : {}),
  });
  const d: Device = { socket, connects: [], attempts: [], reasons: [], disconnects: [], notices: [], gaveUp: false };
  socket.on('connect', () => d.connects.push(now()));
  socket.on('disconnect', (reason) => {
    d.reasons.push(String(reason));
    d.disconnects.push(now());
    if (reason === 'io server disconnect') {
      d.attempts.push(now());
      socket.connect();
    }
  });
  socket.io.on('reconnect_attempt', () => d.attempts.push(now()));
  socket.on('insufficient', () => {
    d.gaveUp = true;
    socket.close();
  });
  socket.on('system', (notice) => d.notices.push(notice));
  return d;
}
