/**
 * socket.io-client 3.1, installed as `socket.io-client-v3` (the seed app's client). Its typings
 * exist but its package `exports` hide them from `moduleResolution: NodeNext` (TS7016), so this is
 * the slice of its API the tests use, as 3.1 has it.
 */
declare module 'socket.io-client-v3' {
  export interface ManagerOptions {
    path: string;
    transports: string[];
    /** Connection timeout (ms). */
    timeout: number;
    forceNew: boolean;
    autoConnect: boolean;
    reconnection: boolean;
    /** Back-off of its reconnections (ms), and its jitter (0-1). */
    reconnectionDelay: number;
    reconnectionDelayMax: number;
    randomizationFactor: number;
    /** The handshake query: a string map, as the seed's client sends its identity. */
    query: Record<string, string>;
    /** Node only: the CA to verify the server's certificate with. */
    ca: string;
  }

  export interface Manager {
    /** `closed` once the last socket is gone: no reconnection can follow. */
    readonly _readyState: 'opening' | 'open' | 'closed';
  }

  export interface Socket {
    readonly id: string;
    readonly connected: boolean;
    readonly io: Manager;
    connect(): this;
    disconnect(): this;
    emit(event: string, ...args: unknown[]): this;
    on(event: string, listener: (...args: any[]) => void): this;
    once(event: string, listener: (...args: any[]) => void): this;
    onAny(listener: (event: string, ...args: any[]) => void): this;
  }

  export function io(uri: string, opts?: Partial<ManagerOptions>): Socket;
}
