/**
 * Issue 12: the per-room lobby's frames to a big lobby go out a chunk of sockets per turn of the
 * event loop, and every socket still gets them in the order they were made (`lobby-pacing.ts`).
 * Driven through socket.io-adapter's own in-memory `Adapter`, whose `broadcast` and
 * `disconnectSockets` reach sockets the way the server's do.
 */
import { Adapter } from 'socket.io-adapter';
import { describe, expect, it } from 'vitest';
import { LOBBY, roomChannel, watchChannel } from '../../src/transport/channels.js';
import { LobbyPacer } from '../../src/transport/lobby-pacing.js';

const CHUNK = 100;

/** An adapter over `n` lobby sockets that record what they get and in which turn of the loop. */
function lobbyOf(n: number, sliceMs = 0) {
  const received = new Map<string, string[]>();
  const writesPerTurn: number[] = [0];
  let turn = 0;
  let counting = true;
  const sockets = new Map<string, unknown>();
  const nsp = { name: '/p', server: { encoder: { encode: (packet: { data: unknown[] }) => [JSON.stringify(packet.data)] } }, sockets };
  const adapter = new Adapter(nsp);
  const socket = (id: string) => ({
    id,
    connected: true,
    get rooms() {
      return adapter.socketRooms(id) ?? new Set<string>();
    },
    client: {
      writeToEngine(encoded: string[]) {
        received.set(id, [...(received.get(id) ?? []), ...encoded.map((e) => (JSON.parse(e) as unknown[]).join(':'))]);
        writesPerTurn[turn] = (writesPerTurn[turn] ?? 0) + 1;
      },
    },
    disconnect() {
      (this as { connected: boolean }).connected = false;
      received.set(id, [...(received.get(id) ?? []), 'disconnected']);
    },
  });
  for (let i = 0; i < n; i++) {
    const id = `s${i}`;
    sockets.set(id, socket(id));
    adapter.addAll(id, new Set([id, LOBBY]));
  }
  const tick = () =>
    setImmediate(() => {
      turn += 1;
      if (counting) tick();
    });
  tick();
  // By default a chunk per turn, whatever the time, so that the turns can be counted.
  const pacer = LobbyPacer.install(adapter, {
    chunk: CHUNK,
    sliceMs,
    onError: (err) => {
      throw err;
    },
  });
  const broadcast = (rooms: string[], ...data: unknown[]) => adapter.broadcast({ type: 2, data, nsp: '/p' } as never, { rooms: new Set(rooms), except: new Set() });
  const idle = async () => {
    while (pacer.busy) await new Promise((r) => setImmediate(r));
  };
  return { adapter, pacer, received, writesPerTurn, broadcast, idle, socket: (id: string) => sockets.get(id) as ReturnType<typeof socket>, stop: () => (counting = false) };
}

describe('LobbyPacer', () => {
  it('writes a small lobby broadcast at once when nothing waits, as socket.io would', () => {
    const l = lobbyOf(CHUNK);
    l.broadcast([LOBBY], 'count', 'r1');
    expect(l.received.size).toBe(CHUNK);
    expect(l.pacer.busy).toBe(false);
    l.stop();
  });

  it('spreads big ones over turns, at most a chunk of writes per turn, each socket getting every frame once and in order', async () => {
    const l = lobbyOf(1000);
    l.broadcast([LOBBY], 'addRoom', 'r1');
    l.broadcast([LOBBY], 'count', 'r1');
    // A socket that entered a room meanwhile hears no more of the lobby.
    l.adapter.del('s999', LOBBY);
    l.adapter.addAll('s999', new Set([roomChannel('r1')]));
    l.broadcast([LOBBY], 'deleteRoom', 'r1');
    expect(l.pacer.busy).toBe(true);
    await l.idle();
    l.stop();
    for (let i = 0; i < 999; i++) expect(l.received.get(`s${i}`)).toEqual(['addRoom:r1', 'count:r1', 'deleteRoom:r1']);
    expect(l.received.get('s999')).toBeUndefined();
    expect(Math.max(...l.writesPerTurn)).toBeLessThanOrEqual(CHUNK);
    expect(l.writesPerTurn.reduce((a, b) => a + b, 0)).toBe(999 * 3);
  });

  it('writes more than a chunk in a turn while the turn has time left (sliceMs)', async () => {
    const l = lobbyOf(1000, 10_000);
    l.broadcast([LOBBY], 'count', 'r1');
    expect(l.received.size).toBe(1000);
    expect(l.pacer.busy).toBe(false);
    l.stop();
  });

  it('catches a lobby socket up before a frame meant for it alone: what was queued for it at once, then that frame, and nothing twice', async () => {
    const l = lobbyOf(500);
    l.adapter.del('s0', LOBBY);
    l.adapter.addAll('s0', new Set([roomChannel('r9')]));
    l.broadcast([LOBBY], 'addRoom', 'r1');
    l.broadcast([LOBBY], 'count', 'r1');
    expect(l.pacer.busy).toBe(true);
    expect(l.received.get('s499')).toBeUndefined();
    // Not in the lobby: nothing queued for it, written at once.
    l.broadcast(['s0'], 'system', 'in-room');
    expect(l.received.get('s0')).toEqual(['system:in-room']);
    // In the lobby: its queued frames first, then the listing; then its disconnection.
    l.broadcast(['s499'], 'loadRooms', 'r1');
    expect(l.received.get('s499')).toEqual(['addRoom:r1', 'count:r1', 'loadRooms:r1']);
    l.adapter.disconnectSockets({ rooms: new Set(['s499']), except: new Set() }, true);
    expect(l.received.get('s499')).toEqual(['addRoom:r1', 'count:r1', 'loadRooms:r1', 'disconnected']);
    // A handler's listing: the same, through catchUp.
    l.pacer.catchUp(l.socket('s498'));
    expect(l.received.get('s498')).toEqual(['addRoom:r1', 'count:r1']);
    await l.idle();
    l.stop();
    expect(l.received.get('s499')).toEqual(['addRoom:r1', 'count:r1', 'loadRooms:r1', 'disconnected']);
    expect(l.received.get('s498')).toEqual(['addRoom:r1', 'count:r1']);
    expect(l.received.get('s497')).toEqual(['addRoom:r1', 'count:r1']);
  });

  it('leaves other broadcasts alone: a room of any size is written at once', () => {
    const l = lobbyOf(300);
    for (let i = 0; i < 300; i++) {
      l.adapter.del(`s${i}`, LOBBY);
      l.adapter.addAll(`s${i}`, new Set([roomChannel('big')]));
    }
    l.broadcast([roomChannel('big')], 'chat', 'hi');
    expect(l.received.size).toBe(300);
    expect(l.pacer.busy).toBe(false);
    l.stop();
  });
});
