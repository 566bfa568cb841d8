/**
 * The live feed `/_programs`: the app's home screen, where most viewers sit between programmes.
 * It is a namespace of its own, made here (not by `ProgrammeRuntimes`, whose matcher refuses
 * every name starting with `_`), with no middleware: like `GET /v1/programs/on-air` it is public,
 * and the connect gate in front of socket.io still takes every handshake from its address's
 * budget.
 *
 * A socket costs the server its engine.io connection and nothing else: it joins no channel, has
 * no session in the state backend, and every event is one local broadcast of what the board
 * already computed (`nsp.local`, so nothing crosses Redis: each server feeds its own sockets from
 * its own board).
 */
import type { Namespace } from 'socket.io';
import { PROGRAMS_NAMESPACE, type ProgramsFeedEvents } from '../protocol/index.js';
import type { OnAirServer } from '../transport/types.js';
import type { OnAirBoard } from './board.js';

type FeedNamespace = Namespace<Record<string, never>, ProgramsFeedEvents>;

export class ProgrammesFeed {
  private readonly nsp: FeedNamespace;
  private readonly unsubscribe: () => void;

  constructor(io: OnAirServer, board: OnAirBoard) {
    this.nsp = io.of(PROGRAMS_NAMESPACE) as unknown as FeedNamespace;
    this.nsp.on('connection', (socket) => {
      socket.emit('loadPrograms', board.snapshot.list);
      // The feed takes no events; a caller waiting for an acknowledgement still gets one.
      socket.onAny((...args: unknown[]) => {
        const ack = args.at(-1);
        if (typeof ack === 'function') ack({ ok: false, code: 'EV001', message: 'the programmes feed takes no events' });
      });
    });
    // The board changed its snapshot before telling: a socket connecting now got the new list.
    this.unsubscribe = board.onChange((change) => {
      const local = this.nsp.local;
      for (const id of change.removed) local.emit('removeProgram', id);
      for (const p of change.added) local.emit('addProgram', p);
      if (Object.keys(change.viewers).length > 0) local.emit('viewers', change.viewers);
    });
  }

  /** Sockets in the feed on this server. */
  get size(): number {
    return this.nsp.sockets.size;
  }

  /**
   * Shutdown: send every feed socket to another server, each at a random moment of `spreadMs`.
   * Its transport is closed rather than the socket disconnected: socket.io-client does not come
   * back after a server's disconnect, but does after `transport close` (with its randomised
   * back-off), and the next server's `loadPrograms` makes its list whole again. Settles when all
   * are gone, or a little after the spread.
   */
  release(spreadMs: number, random: () => number = Math.random): Promise<void> {
    const gone = [...this.nsp.sockets.values()].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => socket.conn.close(), Math.floor(random() * spreadMs));
          socket.once('disconnect', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    );
    if (gone.length === 0) return Promise.resolve();
    let cap: NodeJS.Timeout | undefined;
    return Promise.race([Promise.all(gone).then(() => undefined), new Promise<void>((resolve) => (cap = setTimeout(resolve, spreadMs + 500)))]).finally(() => clearTimeout(cap));
  }

  stop(): void {
    this.unsubscribe();
  }
}
