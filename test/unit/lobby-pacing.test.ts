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
  /** The turns in which each socket was written to, and the sockets written to in each turn. */
  const turnsOf = new Map<string, Set<number>>();
  const socketsPerTurn: Set<string>[] = [];
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
        turnsOf.set(id, (turnsOf.get(id) ?? new Set()).add(turn));
        (socketsPerTurn[turn] ??= new Set()).add(id);
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
  return { adapter, pacer, received, writesPerTurn, turnsOf, socketsPerTurn, broadcast, idle, socket: (id: string) => sockets.get(id) as ReturnType<typeof socket>, stop: () => (counting = false) };
}

describe('LobbyPacer', () => {
  it('writes a small lobby broadcast at once when nothing waits, as socket.io would', () => {
    const l = lobbyOf(CHUNK);
    l.broadcast([LOBBY], 'count', 'r1');
    expect(l.received.size).toBe(CHUNK);
    expect(l.pacer.busy).toBe(false);
    l.stop();
  });

  it('spreads big ones over turns, at most a chunk of sockets per turn, each socket getting every frame once, in order and in one turn', async () => {
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
    expect(Math.max(...l.socketsPerTurn.map((t) => t?.size ?? 0))).toBeLessThanOrEqual(CHUNK);
    // 999 sockets at 100 a turn: ten turns, not thirty (one per frame and chunk).
    expect(l.socketsPerTurn.filter((t) => t?.size).length).toBe(10);
    for (let i = 0; i < 999; i++) expect(l.turnsOf.get(`s${i}`)?.size).toBe(1);
    expect(l.writesPerTurn.reduce((a, b) => a + b, 0)).toBe(999 * 3);
  });

  it('writes a socket its frames of different channels in order, when they are the frames of several queued broadcasts', async () => {
    const l = lobbyOf(300);
    // s0..s149 also watch r7: they get its `count` between the lobby's two frames.
    for (let i = 0; i < 150; i++) l.adapter.addAll(`s${i}`, new Set([watchChannel('r7')]));
    l.broadcast([LOBBY], 'addRoom', 'r1');
    l.broadcast([watchChannel('r7')], 'count', 'r7');
    l.broadcast([LOBBY], 'deleteRoom', 'r1');
    await l.idle();
    l.stop();
    for (let i = 0; i < 150; i++) expect(l.received.get(`s${i}`)).toEqual(['addRoom:r1', 'count:r7', 'deleteRoom:r1']);
    for (let i = 150; i < 300; i++) expect(l.received.get(`s${i}`)).toEqual(['addRoom:r1', 'deleteRoom:r1']);
  });

  it('writes more than a chunk in a turn while the turn has time left (sliceMs), once the task that queued them is over', async () => {
    const l = lobbyOf(1000, 10_000);
    l.broadcast([LOBBY], 'count', 'r1');
    l.broadcast([LOBBY], 'count', 'r2');
    expect(l.received.size).toBe(0);
    await null;
    expect(l.received.size).toBe(1000);
    expect(l.pacer.busy).toBe(false);
    for (const [, frames] of l.received) expect(frames).toEqual(['count:r1', 'count:r2']);
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
