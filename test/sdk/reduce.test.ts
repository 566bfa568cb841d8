/**
 * The state rules as a pure function: each server event and each own outcome, without a network.
 */
import { describe, expect, it } from 'vitest';
import {
  initialSnapshot,
  MESSAGES_KEPT,
  OnAirState,
  reduce,
  waitFor,
  type AggroMessage,
  type ChatMessage,
  type OnAirSnapshot,
  type RoomSummary,
  type StateAction,
} from '@onair/client';

const me = { userUID: 'me', displayName: 'Me' };
const ana = { userUID: 'ana', displayName: 'Ana' };
const ben = { userUID: 'ben', displayName: 'Ben', photoURL: 'https://img.example/ben.png' };

const room = (roomId: string, count = 1): RoomSummary => ({ roomId, title: `room ${roomId}`, max: 10, count });
const chat = (id: string, roomId = 'r1'): ChatMessage => ({ ...ana, msg: `msg ${id}`, roomId, type: 'N', id, ts: 1 });
const aggro = (aggroUID: string, roomId = 'r1', point = 0): AggroMessage => ({
  ...ana,
  msg: 'goal',
  roomId,
  type: 'A',
  aggroUID,
  point,
  ts: 1,
  expiresAt: 2,
});

function run(...actions: StateAction[]): OnAirSnapshot {
  return actions.reduce(reduce, initialSnapshot(me));
}

/** In room r1 with ana, after the lobby listed r1 and r2. */
function inRoom(...more: StateAction[]): OnAirSnapshot {
  return run(
    { own: 'connected' },
    { event: 'loadRooms', data: [room('r1'), room('r2')] },
    { own: 'joined', roomId: 'r1' },
    { event: 'loadUsers', data: [ana, me] },
    ...more,
  );
}

describe('the lobby', () => {
  it('loadRooms replaces the list, in its order', () => {
    const s = run({ event: 'loadRooms', data: [room('a')] }, { event: 'loadRooms', data: [room('c'), room('b')] });
    expect([...s.rooms.keys()]).toEqual(['c', 'b']);
  });

  it('addRoom appends, count updates a known room, deleteRoom removes it', () => {
    let s = run({ event: 'loadRooms', data: [room('a')] }, { event: 'addRoom', data: room('b') });
    expect([...s.rooms.keys()]).toEqual(['a', 'b']);
    s = reduce(s, { event: 'count', data: { roomId: 'b', count: 4 } });
    expect(s.rooms.get('b')?.count).toBe(4);
    s = reduce(s, { event: 'deleteRoom', data: { roomId: 'a' } });
    expect([...s.rooms.values()]).toEqual([{ ...room('b'), count: 4 }]);
  });

  it('a count for a room it does not know is ignored', () => {
    const s = run({ event: 'loadRooms', data: [room('a')] });
    expect(reduce(s, { event: 'count', data: { roomId: 'zz', count: 3 } })).toBe(s);
  });

  it('never changes a list it was given', () => {
    const s = run({ event: 'loadRooms', data: [room('a')] });
    const before = s.rooms;
    reduce(s, { event: 'addRoom', data: room('b') });
    reduce(s, { event: 'count', data: { roomId: 'a', count: 9 } });
    reduce(s, { event: 'deleteRoom', data: { roomId: 'a' } });
    expect([...before.values()]).toEqual([room('a')]);
  });
});

describe('the current room', () => {
  it('joined enters the room, members follow loadUsers, joinRoom and leaveRoom', () => {
    let s = inRoom();
    expect(s.roomId).toBe('r1');
    expect(s.members).toEqual([ana, me]);
    s = reduce(s, { event: 'joinRoom', data: ben });
    expect(s.members).toEqual([ana, me, ben]);
    // A repeated join (same user) is not a second member.
    s = reduce(s, { event: 'joinRoom', data: ben });
    expect(s.members).toEqual([ana, me, ben]);
    s = reduce(s, { event: 'leaveRoom', data: { userUID: 'ana', displayName: 'Ana' } });
    expect(s.members).toEqual([me, ben]);
  });

  it('created enters the new room with the client alone and adds it to the list', () => {
    const s = inRoom({ event: 'chat', data: chat('m1') }, { own: 'created', room: room('new') });
    expect(s.roomId).toBe('new');
    expect(s.members).toEqual([me]);
    expect(s.messages).toEqual([]);
    expect(s.rooms.get('new')).toEqual(room('new'));
  });

  it('joined keeps what already arrived for the new room and drops the rest', () => {
    const s = inRoom(
      { event: 'chat', data: chat('old', 'r1') },
      { event: 'aggro', data: aggro('x', 'r2', 3) },
      { event: 'chat', data: chat('early', 'r2') },
      { own: 'joined', roomId: 'r2' },
    );
    expect(s.roomId).toBe('r2');
    expect(s.members).toEqual([]);
    expect(s.messages.map((m) => m.id)).toEqual(['early']);
    expect(s.aggro).toEqual(aggro('x', 'r2', 3));
  });

  it('joining the room it is in changes nothing', () => {
    const s = inRoom();
    expect(reduce(s, { own: 'joined', roomId: 'r1' })).toBe(s);
  });

  it('left and disconnected leave the room, keeping the lobby list and the last notice', () => {
    const full = inRoom({ event: 'aggro', data: aggro('x') }, { event: 'chat', data: chat('m') }, { event: 'system', data: { code: 'KICKED', message: 'bye' } });
    for (const s of [reduce(full, { own: 'left' }), reduce(full, { own: 'disconnected' })]) {
      expect(s).toMatchObject({ roomId: null, members: [], aggro: null, messages: [] });
      expect(s.rooms).toBe(full.rooms);
      expect(s.lastSystem).toEqual({ code: 'KICKED', message: 'bye' });
    }
    expect(reduce(full, { own: 'disconnected' }).connected).toBe(false);
  });

  it('a blip (spec 7.1): a lost line keeps the room; a recovered connection keeps everything and says so', () => {
    const full = inRoom({ event: 'aggro', data: aggro('x') }, { event: 'chat', data: chat('m') });
    for (const reason of ['transport close', 'transport error', 'ping timeout']) {
      const away = reduce(full, { own: 'disconnected', reason });
      expect(away).toMatchObject({ connected: false, roomId: 'r1', aggro: aggro('x') });
      const back = reduce(away, { own: 'connected', recovered: true });
      expect(back).toMatchObject({ connected: true, recovered: true, resumed: true, roomId: 'r1' });
      expect(back.messages.map((m) => m.id)).toEqual(['m']);
    }
    // Told SERVER_SHUTDOWN, then disconnected by the server: held too.
    const told = reduce(full, { event: 'system', data: { code: 'SERVER_SHUTDOWN', message: 'later', retryAfterMs: 10 } });
    expect(reduce(told, { own: 'disconnected', reason: 'io server disconnect' }).roomId).toBe('r1');
    // Any other server-side disconnect is final.
    expect(reduce(full, { own: 'disconnected', reason: 'io server disconnect' }).roomId).toBeNull();
    expect(reduce(full, { own: 'disconnected', reason: 'io client disconnect' }).roomId).toBeNull();
  });

  it('a resume without recovery: a new session in the lobby, back in its room on `session`, repeats of the catch-up dropped by id', () => {
    const full = inRoom({ event: 'chat', data: chat('m') });
    const away = reduce(full, { own: 'disconnected', reason: 'transport close' });
    const fresh = reduce(away, { own: 'connected' });
    expect(fresh).toMatchObject({ connected: true, recovered: false, resumed: false, roomId: null });
    const back = [
      { event: 'session', data: { resumed: true, roomId: 'r1' } },
      { event: 'chat', data: chat('a') },
      { event: 'chat', data: chat('a') },
      { event: 'chat', data: chat('b') },
    ].reduce((s, e) => reduce(s, e as StateAction), fresh);
    expect(back).toMatchObject({ resumed: true, roomId: 'r1' });
    expect(back.messages.map((m) => m.id)).toEqual(['a', 'b']);
    // Resumed into the lobby.
    expect(reduce(fresh, { event: 'session', data: { resumed: true, roomId: null } })).toMatchObject({ resumed: true, roomId: null });
  });

  it('the deletion of its room takes the client out of it', () => {
    const s = inRoom({ event: 'deleteRoom', data: { roomId: 'r1' } });
    expect(s.roomId).toBeNull();
    expect(s.rooms.has('r1')).toBe(false);
  });

  it('a fresh room list without its room takes the client out of it', () => {
    expect(inRoom({ event: 'loadRooms', data: [room('r2')] }).roomId).toBeNull();
    expect(inRoom({ event: 'loadRooms', data: [room('r1', 3)] }).roomId).toBe('r1');
  });

  it('loadUsers corrects what the client knew of itself', () => {
    const s = inRoom({ event: 'loadUsers', data: [{ userUID: 'me', displayName: 'Me (normalised)' }] });
    expect(s.me).toEqual({ userUID: 'me', displayName: 'Me (normalised)' });
  });
});

describe('chat', () => {
  it('keeps others\' messages and its own, in order, the last ' + MESSAGES_KEPT, () => {
    let s = inRoom({ event: 'chat', data: chat('a') }, { own: 'sent', message: { ...chat('b'), ...me } });
    expect(s.messages.map((m) => m.id)).toEqual(['a', 'b']);
    for (let i = 0; i < MESSAGES_KEPT + 5; i++) s = reduce(s, { event: 'chat', data: chat(`n${i}`) });
    expect(s.messages).toHaveLength(MESSAGES_KEPT);
    expect(s.messages[0]!.id).toBe('n5');
    expect(s.messages.at(-1)!.id).toBe(`n${MESSAGES_KEPT + 4}`);
  });
});

describe('the live aggro', () => {
  it('aggro sets it, aggroPoint and own votes update its point, stopAggro clears it', () => {
    let s = inRoom({ event: 'aggro', data: aggro('x') });
    s = reduce(s, { event: 'aggroPoint', data: { aggroUID: 'x', point: 4 } });
    expect(s.aggro?.point).toBe(4);
    s = reduce(s, { own: 'voted', aggroUID: 'x', point: 5 });
    expect(s.aggro?.point).toBe(5);
    s = reduce(s, { event: 'stopAggro', data: 'x' });
    expect(s.aggro).toBeNull();
  });

  it('deleteAggro clears it too', () => {
    expect(inRoom({ event: 'aggro', data: aggro('x') }, { event: 'deleteAggro', data: 'x' }).aggro).toBeNull();
  });

  it('news of another aggro leaves the live one alone', () => {
    const s = inRoom({ event: 'aggro', data: aggro('x', 'r1', 2) });
    expect(reduce(s, { event: 'aggroPoint', data: { aggroUID: 'y', point: 9 } })).toBe(s);
    expect(reduce(s, { own: 'voted', aggroUID: 'y', point: 9 })).toBe(s);
    expect(reduce(s, { event: 'stopAggro', data: 'y' })).toBe(s);
    expect(reduce(s, { event: 'deleteAggro', data: 'y' })).toBe(s);
  });
});

describe('other events', () => {
  it('system is kept as the last notice', () => {
    const s = run({ event: 'system', data: { code: 'PROGRAM_ENDED', message: 'over' } });
    expect(s.lastSystem).toEqual({ code: 'PROGRAM_ENDED', message: 'over' });
  });

  it('the seed\'s reply events change nothing', () => {
    const s = inRoom();
    expect(reduce(s, { event: 'createRoomReq', data: { result: true, roomId: 'r9', title: 't' } })).toBe(s);
    expect(reduce(s, { event: 'joinRoomReq', data: { result: false, err: 'EJ001' } })).toBe(s);
    expect(reduce(s, { event: 'aggroErr', data: 'EA001' })).toBe(s);
  });
});

describe('OnAirState', () => {
  it('notifies subscribers after a change only, until unsubscribed', () => {
    const state = new OnAirState(initialSnapshot(me));
    const seen: number[] = [];
    const off = state.subscribe((s) => seen.push(s.rooms.size));
    state.apply({ event: 'addRoom', data: room('a') });
    const snapshot = state.snapshot;
    state.apply({ event: 'count', data: { roomId: 'zz', count: 2 } });
    expect(seen).toEqual([1]);
    expect(state.snapshot).toBe(snapshot);
    off();
    state.apply({ event: 'addRoom', data: room('b') });
    expect(seen).toEqual([1]);
    expect(state.rooms.size).toBe(2);
  });

  it('waitFor resolves when the predicate holds, at once or later, and rejects after its timeout', async () => {
    const state = new OnAirState();
    await expect(waitFor(state, (s) => s.rooms.size === 0, 10)).resolves.toBe(state);
    const later = waitFor(state, (s) => s.rooms.has('a'), 1000);
    state.apply({ event: 'addRoom', data: room('a') });
    await expect(later).resolves.toBe(state);
    await expect(waitFor(state, (s) => s.rooms.has('never'), 20)).rejects.toThrow(/within 20 ms/);
  });
});
