/**
 * The programmes feed `/_programs` as an SDK client: a socket whose events keep a
 * `ProgramsState`. socket.io reconnects it by itself; each new connection gets a fresh
 * `loadPrograms`, so the list is whole again without the client doing anything.
 */
import { io, type Socket } from 'socket.io-client';
import { PROGRAMS_NAMESPACE, type ProgramsFeedEvents } from './protocol/programs.js';
import { connectErrorFrom, OnAirConnectError } from './errors.js';
import { ProgramsState } from './programs-state.js';

export interface ProgramsFeedOptions {
  /** The server's origin, e.g. `https://localhost:8443`. */
  url: string;
  /** socket.io path. @default '/socket.io' */
  path?: string;
  /** @default ['websocket'] */
  transports?: ('websocket' | 'polling')[];
  /** For the first `loadPrograms`. @default 10000 */
  timeoutMs?: number;
  /** Passed through to `io()` last (e.g. `{ ca }` in Node). */
  socketOptions?: Record<string, unknown>;
}

const FEED_EVENTS = ['loadPrograms', 'addProgram', 'removeProgram', 'viewers'] as const satisfies readonly (keyof ProgramsFeedEvents)[];

export class ProgramsFeedClient {
  readonly socket: Socket<ProgramsFeedEvents>;
  readonly state = new ProgramsState();
  private readonly timeoutMs: number;

  constructor(opts: ProgramsFeedOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.socket = io(`${opts.url.replace(/\/+$/, '')}${PROGRAMS_NAMESPACE}`, {
      path: opts.path ?? '/socket.io',
      autoConnect: false,
      forceNew: true,
      // As for a programme: websocket only unless told otherwise.
      transports: opts.transports ?? ['websocket'],
      ...opts.socketOptions,
    }) as Socket<ProgramsFeedEvents>;
    for (const event of FEED_EVENTS) this.socket.on(event, ((data: never) => this.state.apply({ event, data } as never)) as never);
    this.socket.on('connect', () => this.state.apply({ own: 'connected' }));
    this.socket.on('disconnect', () => this.state.apply({ own: 'disconnected' }));
  }

  /** Connect and wait for the first `loadPrograms`; rejects with `OnAirConnectError`. */
  open(): Promise<this> {
    const socket = this.socket;
    return new Promise<this>((resolve, reject) => {
      const settle = (err: OnAirConnectError | null) => {
        clearTimeout(timer);
        socket.off('loadPrograms', onLoaded);
        socket.off('connect_error', onError);
        if (!err) return resolve(this);
        socket.disconnect();
        reject(err);
      };
      const onLoaded = () => settle(null);
      const onError = (err: Error) => settle(connectErrorFrom(err));
      const timer = setTimeout(() => settle(new OnAirConnectError('TIMEOUT', `no programmes within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('loadPrograms', onLoaded);
      socket.on('connect_error', onError);
      socket.connect();
    });
  }

  close(): void {
    this.socket.disconnect();
  }
}

/** A connected feed whose `state` holds the programmes on air. */
export function watchPrograms(opts: ProgramsFeedOptions): Promise<ProgramsFeedClient> {
  return new ProgramsFeedClient(opts).open();
}
