/** One socket.io client of the benchmarks: websocket only, the run's certificate trusted, a dev
 * identity, connected once its `loadRooms` has arrived (the server's "you are in"). */
import type { Agent } from 'node:https';
import { io, type Socket } from 'socket.io-client';

/** `agent`: an https.Agent whose TLS session cache lets a returning client resume its session
 * (a ticket) instead of a full handshake. */
export function connectOnair(url: string, ca: string, program: string, auth: Record<string, string>, timeoutMs = 30_000, agent?: Agent): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/${program}`, { transports: ['websocket'], reconnection: false, forceNew: true, ca, auth, ...(agent ? { agent: agent as unknown as string } : {}) });
    const timer = setTimeout(() => (socket.close(), reject(new Error('connect timeout'))), timeoutMs);
    socket.once('loadRooms', () => (clearTimeout(timer), resolve(socket)));
    socket.once('connect_error', (err) => (clearTimeout(timer), socket.close(), reject(err)));
  });
}

/** A dev identity for a benchmark user. */
export function devAuth(userUID: string): Record<string, string> {
  return { userUID, displayName: userUID.slice(0, 30) };
}
