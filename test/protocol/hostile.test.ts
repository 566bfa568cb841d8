/**
 * Hostile clients: malformed payloads of every shape, oversized frames, floods, and the rule that
 * a room password never leaves the server. Section 2 of the protocol.
 */
import { describe, expect, it } from 'vitest';
import type { AckResult, RoomSummary, UserInfo } from '../../src/protocol/index.js';
import { call, join, user, type Client, type Recorder } from '../helpers/client.js';
import { startTopology } from '../helpers/topology.js';

const P = 'hostile';

/** 10 KiB: well under the 16 KiB frame limit even with the packet around it. */
const BIG = 'x'.repeat(10 * 1024);

/** An object decoded from JSON, so `__proto__` / `constructor` / `prototype` are own keys, as
 * the server sees them after socket.io decodes a packet. */
function withKey(key: string, value: unknown, rest: Record<string, unknown> = {}): Record<string, unknown> {
  const body = JSON.stringify(rest).slice(1); // `"a":1}` or `}`
  return JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value)}${body === '}' ? '}' : `,${body}`}`) as Record<string, unknown>;
}

const POLLUTE = { polluted: 1 };

/** A malformed call: `args` are the arguments before the ack (`[]` means the payload is missing). */
interface Case {
  event: string;
  label: string;
  args: unknown[];
}

/** Bad values for a payload that must be an object. */
function rootCases(event: string, valid: Record<string, unknown>): Case[] {
  const values: [string, unknown][] = [
    ['42', 42],
    ['0', 0],
    ['-1', -1],
    ['2.5', 2.5],
    ['true', true],
    ['false', false],
    ['string', 'x'],
    ['empty string', ''],
    ['10 KB string', BIG],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1e309', 1e309],
    ['null', null],
    ['undefined', undefined],
    ['[]', []],
    ['[valid]', [valid]],
    ['{}', {}],
    ['wrapped', { payload: valid }],
    ['__proto__ key', withKey('__proto__', POLLUTE, valid)],
    ['constructor key', withKey('constructor', { prototype: POLLUTE }, valid)],
    ['prototype key', withKey('prototype', POLLUTE, valid)],
    ['nested __proto__', { ...valid, extra: withKey('__proto__', POLLUTE) }],
  ];
  return [
    { event, label: 'missing', args: [] },
    ...values.map(([label, v]) => ({ event, label, args: [v] })),
  ];
}

/** Bad values for one field of an object payload (`undefined` removes the field). */
function fieldCases(event: string, valid: Record<string, unknown>, field: string, values: [string, unknown][]): Case[] {
  return values.map(([label, v]) => {
    const payload: Record<string, unknown> = { ...valid };
    if (v === undefined) delete payload[field];
    else payload[field] = v;
    return { event, label: `${field}: ${label}`, args: [payload] };
  });
}

const nested = { deep: { deeper: 'x' } };

/** Bad values for a string id payload that may also come as `{ [key]: id }`. */
function idCases(event: string, key: string, id: string): Case[] {
  const values: [string, unknown][] = [
    ['42', 42],
    ['0', 0],
    ['true', true],
    ['false', false],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1e309', 1e309],
    ['null', null],
    ['undefined', undefined],
    ['empty string', ''],
    ['blank string', '   '],
    ['10 KB string', BIG],
    ['65 characters', 'a'.repeat(65)],
    ['bad characters', 'bad id!'],
    ['path', '../x'],
    ['id with a space', `${id} `],
    ['[]', []],
    ['[id]', [id]],
    ['{}', {}],
    ['other key', { other: id }],
    [`{ ${key}: 42 }`, { [key]: 42 }],
    [`{ ${key}: null }`, { [key]: null }],
    [`{ ${key}: {} }`, { [key]: {} }],
    [`{ ${key}: nested }`, { [key]: { nested: id } }],
    [`{ ${key}: [id] }`, { [key]: [id] }],
    [`{ ${key}: 10 KB }`, { [key]: BIG }],
    ['__proto__ key', withKey('__proto__', POLLUTE, { [key]: id })],
    ['constructor key', withKey('constructor', { prototype: POLLUTE }, { [key]: id })],
    ['prototype key', withKey('prototype', POLLUTE, { [key]: id })],
  ];
  return [{ event, label: 'missing', args: [] }, ...values.map(([label, v]) => ({ event, label, args: [v] }))];
}

/** Junk arguments for the events that take none. */
function junkCases(event: string): Case[] {
  const values: [string, unknown][] = [
    ['42', 42],
    ['string', 'x'],
    ['10 KB string', BIG],
    ['null', null],
    ['true', true],
    ['NaN', NaN],
    ['[]', []],
    ['{}', {}],
    ['nested', nested],
    ['__proto__ key', withKey('__proto__', POLLUTE)],
    ['constructor key', withKey('constructor', { prototype: POLLUTE })],
    ['prototype key', withKey('prototype', POLLUTE)],
  ];
  return values.map(([label, v]) => ({ event, label, args: [v] }));
}

function malformedCases(roomId: string): { code: string; cases: Case[] }[] {
  const create = { title: 'Hostile', max: 3 };
  const joinValid = { roomId };
  const chat = { roomId, msg: 'hello', type: 'N' };
  const aggro = { roomId, msg: 'hello', type: 'A' };
  return [
    {
      code: 'EC001',
      cases: [
        ...rootCases('createRoom', create),
        ...fieldCases('createRoom', create, 'title', [
          ['missing', undefined],
          ['42', 42],
          ['true', true],
          ['null', null],
          ['{}', {}],
          ['nested object', nested],
          ['[string]', ['x']],
          ['empty', ''],
          ['blank', '   '],
          ['41 characters', 'x'.repeat(41)],
          ['10 KB', BIG],
          ['NaN', NaN],
          ['__proto__ object', withKey('__proto__', POLLUTE)],
        ]),
        ...fieldCases('createRoom', create, 'max', [
          ['missing', undefined],
          ['string', '3'],
          ['true', true],
          ['null', null],
          ['{}', {}],
          ['[3]', [3]],
          ['NaN', NaN],
          ['Infinity', Infinity],
          ['-Infinity', -Infinity],
          ['1e309', 1e309],
          ['-3', -3],
          ['-1', -1],
          ['0', 0],
          ['1', 1],
          ['2.5', 2.5],
          ['3.0001', 3.0001],
          ['over ROOM_MAX_LIMIT', 121],
          ['1e9', 1e9],
          ['10 KB string', BIG],
        ]),
        ...fieldCases('createRoom', create, 'password', [
          ['42', 42],
          ['true', true],
          ['{}', {}],
          ['nested object', nested],
          ['[string]', ['pw']],
          ['33 characters', 'x'.repeat(33)],
          ['10 KB', BIG],
          ['__proto__ object', withKey('__proto__', POLLUTE)],
        ]),
        ...fieldCases('createRoom', create, 'scheduleUID', [
          ['42', 42],
          ['true', true],
          ['null', null],
          ['{}', {}],
          ['nested object', nested],
          ['[]', [P]],
          ['bad characters', 'bad uid!'],
          ['another programme', 'another-programme'],
          ['10 KB', BIG],
        ]),
      ],
    },
    {
      code: 'EV001',
      cases: [
        ...rootCases('joinRoom', joinValid),
        ...fieldCases('joinRoom', joinValid, 'roomId', [
          ['missing', undefined],
          ['42', 42],
          ['true', true],
          ['null', null],
          ['NaN', NaN],
          ['{}', {}],
          ['nested object', { nested: roomId }],
          ['[roomId]', [roomId]],
          ['empty', ''],
          ['bad characters', 'bad id!'],
          ['10 KB', BIG],
        ]),
        ...fieldCases('joinRoom', joinValid, 'password', [
          ['42', 42],
          ['true', true],
          ['{}', {}],
          ['nested object', nested],
          ['[string]', ['pw']],
          ['33 characters', 'x'.repeat(33)],
          ['10 KB', BIG],
        ]),
      ],
    },
    {
      code: 'EM002',
      cases: [
        ...rootCases('chat', chat),
        ...fieldCases('chat', chat, 'roomId', [
          ['missing', undefined],
          ['42', 42],
          ['null', null],
          ['{}', {}],
          ['nested object', { nested: roomId }],
          ['[roomId]', [roomId]],
          ['empty', ''],
          ['bad characters', 'bad id!'],
          ['10 KB', BIG],
        ]),
        ...fieldCases('chat', chat, 'msg', [
          ['missing', undefined],
          ['42', 42],
          ['true', true],
          ['null', null],
          ['NaN', NaN],
          ['Infinity', Infinity],
          ['{}', {}],
          ['nested object', nested],
          ['[string]', ['hello']],
          ['empty', ''],
          ['blank', '   '],
          ['over CHAT_MAX_LENGTH', 'x'.repeat(301)],
          ['10 KB', BIG],
        ]),
        ...fieldCases('chat', chat, 'type', [
          ['missing', undefined],
          ['unknown', 'X'],
          ['lower case', 'n'],
          ['empty', ''],
          ['42', 42],
          ['null', null],
          ['{}', {}],
          ['[N]', ['N']],
          ['10 KB', BIG],
        ]),
        ...fieldCases('chat', chat, 'titleBroad', [
          ['42', 42],
          ['true', true],
          ['{}', {}],
          ['nested object', nested],
          ['[string]', ['t']],
          ['101 characters', 'x'.repeat(101)],
          ['10 KB', BIG],
        ]),
        // Malformed aggros must not start one either.
        ...fieldCases('chat', aggro, 'msg', [
          ['aggro, 10 KB', BIG],
          ['aggro, nested object', nested],
          ['aggro, empty', ''],
        ]),
        ...fieldCases('chat', aggro, 'titleBroad', [
          ['aggro, 10 KB', BIG],
          ['aggro, nested object', nested],
        ]),
        { event: 'chat', label: 'aggro with __proto__ key', args: [withKey('__proto__', POLLUTE, aggro)] },
      ],
    },
    {
      code: 'EV001',
      cases: [
        // The sweeper's own room: accepting any of these would take it out of the room.
        ...idCases('leaveRoom', 'roomId', roomId),
        // A well-formed unknown id would be EA003; every one of these is malformed instead.
        ...idCases('aggroUp', 'aggroUID', 'noSuchAggro'),
        ...idCases('aggroDown', 'aggroUID', 'noSuchAggro'),
      ],
    },
  ];
}

function describeCase(c: Case): string {
  const shown = c.args.length === 0 ? '(no payload)' : JSON.stringify(c.args[0], (_k, v: unknown) => (typeof v === 'string' && v.length > 40 ? `<${v.length} chars>` : v));
  return `${c.event} ${c.label} ${shown}`;
}

describe('malformed payloads', () => {
  it('every client event answers malformed payloads with its code, and nothing changes', async () => {
    // A long TTL: an aggro started by mistake would still be live at the end of the sweep.
    const t = await startTopology({ AGGRO_TTL_MS: '60000', AGGRO_COOLDOWN_MS: '0' });
    const lobby = await join(t.server(0), P, user('lobby'));
    const owner = await join(t.server(1), P, user('owner'));
    const sweeper = await join(t.server(2), P, user('sweeper'));

    const created = await call<{ roomId: string }>(owner, 'createRoom', { title: 'Target', max: 3 });
    if (!created.ok) throw new Error(`createRoom failed: ${created.code}`);
    const roomId = created.roomId;
    expect(await call(sweeper, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);

    const roomsBefore = await call<{ rooms: RoomSummary[] }>(lobby, 'loadRooms');
    const usersBefore = await call<{ users: UserInfo[] }>(owner, 'loadUsers');
    expect(roomsBefore).toMatchObject({ ok: true, rooms: [{ roomId, title: 'Target', max: 3, count: 2 }] });
    expect(usersBefore.ok && usersBefore.users.map((u) => u.userUID).sort()).toEqual([owner.who.userUID, sweeper.who.userUID].sort());
    const lobbyMark = lobby.events.log.length;
    const ownerMark = owner.events.log.length;
    const sweeperMark = sweeper.events.log.length;

    const wrong: string[] = [];
    let createRoomCalls = 0;
    let joinRoomCalls = 0;
    let total = 0;
    for (const group of malformedCases(roomId)) {
      for (const c of group.cases) {
        total++;
        if (c.event === 'createRoom') createRoomCalls++;
        if (c.event === 'joinRoom') joinRoomCalls++;
        let res: AckResult;
        try {
          res = await call(sweeper, c.event, ...c.args);
        } catch (err) {
          wrong.push(`${describeCase(c)}: no ack (${(err as Error).message})`);
          continue;
        }
        if (res.ok || res.code !== group.code || typeof res.message !== 'string') {
          wrong.push(`${describeCase(c)}: expected ${group.code}, got ${JSON.stringify(res)}`);
        }
      }
    }
    // loadRooms / loadUsers take no payload: junk arguments are ignored and they still answer.
    for (const c of [...junkCases('loadRooms'), ...junkCases('loadUsers')]) {
      total++;
      const res = await call<{ rooms?: RoomSummary[]; users?: UserInfo[] }>(sweeper, c.event, ...c.args).catch((err: Error) => err);
      const expected = c.event === 'loadRooms' ? { ok: true, rooms: roomsBefore.ok && roomsBefore.rooms } : { ok: true, users: usersBefore.ok && usersBefore.users };
      if (res instanceof Error || !res.ok) wrong.push(`${describeCase(c)}: expected ok, got ${res instanceof Error ? res.message : JSON.stringify(res)}`);
      else if (JSON.stringify({ ok: res.ok, ...(c.event === 'loadRooms' ? { rooms: res.rooms } : { users: res.users }) }) !== JSON.stringify(expected)) {
        wrong.push(`${describeCase(c)}: answered ${JSON.stringify(res)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(total).toBeGreaterThan(250);

    // The seed's reply events went out for every refusal too.
    const createReplies = sweeper.events.log.slice(sweeperMark).filter((s) => s.event === 'createRoomReq');
    expect(createReplies).toHaveLength(createRoomCalls);
    expect(createReplies.every((s) => JSON.stringify(s.args[0]) === JSON.stringify({ result: false, err: 'EC001' }))).toBe(true);
    const joinReplies = sweeper.events.log.slice(sweeperMark).filter((s) => s.event === 'joinRoomReq');
    expect(joinReplies).toHaveLength(joinRoomCalls);
    expect(joinReplies.every((s) => JSON.stringify(s.args[0]) === JSON.stringify({ result: false, err: 'EV001' }))).toBe(true);

    // The prototype of this process (the server's) is clean.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);

    // The sweeping socket was never disconnected.
    expect(sweeper.connected).toBe(true);
    expect(sweeper.events.all('disconnect')).toEqual([]);
    expect(sweeper.events.all('system')).toEqual([]);

    // No state changed: the same rooms, the same members. The acks are barriers: anything the
    // sweep had broadcast to these sockets was sent before them.
    expect(await call(lobby, 'loadRooms')).toEqual(roomsBefore);
    expect(await call(owner, 'loadUsers')).toEqual(usersBefore);
    expect(await call(sweeper, 'loadUsers')).toEqual(usersBefore);
    const broadcasts = ['addRoom', 'deleteRoom', 'joinRoom', 'leaveRoom', 'chat', 'aggro', 'aggroPoint', 'stopAggro'];
    expect(lobby.events.log.slice(lobbyMark).filter((s) => broadcasts.includes(s.event))).toEqual([]);
    expect(owner.events.log.slice(ownerMark).filter((s) => broadcasts.includes(s.event))).toEqual([]);
    expect(sweeper.events.log.slice(sweeperMark).filter((s) => broadcasts.includes(s.event))).toEqual([]);

    // A fresh client is served and sees the same room list.
    const fresh = await join(t.server(3), P, user('fresh'));
    expect(fresh.rooms).toEqual(roomsBefore.ok && roomsBefore.rooms);

    // No aggro was started by the sweep: with a 60 s TTL it would still be live, and this
    // valid one would be refused with EA001.
    expect(await call(owner, 'chat', { roomId, msg: 'the first aggro', type: 'A' })).toMatchObject({ ok: true });
    expect(t.records.records.filter((r) => r.scheduleUID === P)).toEqual([]);
  });
});

describe('oversized frames', () => {
  it('a 100 KB payload closes only that connection; the server and other clients carry on', async () => {
    const t = await startTopology();
    const a = await join(t.server(0), P, user('a'));
    const b = await join(t.server(1), P, user('b'));
    const big = await join(t.server(2), P, user('big'));
    const created = await call<{ roomId: string }>(a, 'createRoom', { title: 'Room', max: 5 });
    if (!created.ok) throw new Error(created.code);
    const { roomId } = created;
    expect(await call(b, 'joinRoom', { roomId })).toMatchObject({ ok: true });
    expect(await call(big, 'joinRoom', { roomId })).toMatchObject({ ok: true });

    const gone = big.events.next('disconnect');
    const leftRoom = a.events.next('leaveRoom', (u: { userUID: string }) => u.userUID === big.who.userUID);
    big.emit('chat', { roomId, msg: 'x'.repeat(100 * 1024), type: 'N' });
    await gone;
    expect(big.connected).toBe(false);
    // The server treated it as a disconnect: the room heard the leave.
    expect((await leftRoom)[0]).toEqual({ userUID: big.who.userUID, displayName: 'big' });

    // Everyone else carries on.
    expect(a.connected && b.connected).toBe(true);
    const got = b.events.next('chat');
    expect(await call(a, 'chat', { roomId, msg: 'still here', type: 'N' })).toMatchObject({ ok: true });
    expect((await got)[0]).toMatchObject({ msg: 'still here', userUID: a.who.userUID, roomId });
    expect(b.events.all('chat', (m: { msg: string }) => m.msg.length > 1000)).toEqual([]);
    expect(a.events.all('disconnect')).toEqual([]);
    expect(b.events.all('disconnect')).toEqual([]);
    // And new clients are still accepted.
    const c = await join(t.server(0), P, user('c'));
    expect(c.rooms).toEqual([{ roomId, title: 'Room', max: 5, count: 2 }]);
  });
});

describe('rate limit', () => {
  it('beyond EVENT_BURST calls get ER001 (createRoom also its createRoomReq) and the socket stays', async () => {
    const t = await startTopology({ EVENT_RATE: '2', EVENT_BURST: '5' });
    const c = await join(t.server(0), P, user('flood'));
    const results = await Promise.all(Array.from({ length: 20 }, () => call<{ rooms: RoomSummary[] }>(c, 'loadRooms')));
    expect(results.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => ({ ok: true, rooms: [] })));
    for (const r of results.slice(5)) expect(r).toMatchObject({ ok: false, code: 'ER001' });
    expect(results.slice(5).every((r) => !r.ok && typeof r.message === 'string')).toBe(true);

    // The bucket is empty now (refilling at 2/s): createRoom is refused, on both channels.
    const reply = c.events.next('createRoomReq');
    expect(await call(c, 'createRoom', { title: 'Too fast', max: 3 })).toMatchObject({ ok: false, code: 'ER001' });
    expect((await reply)[0]).toEqual({ result: false, err: 'ER001' });

    expect(c.connected).toBe(true);
    expect(c.events.all('disconnect')).toEqual([]);
    // Nothing was created.
    const other = await join(t.server(1), P, user('other'));
    expect(other.rooms).toEqual([]);
  });

  it('unknown events spend tokens too', async () => {
    const t = await startTopology({ EVENT_RATE: '2', EVENT_BURST: '5' });
    const c = await join(t.server(0), P, user('unknown'));
    // Five packets the server has no handler for, then a real call: the bucket is empty.
    for (let i = 0; i < 5; i++) (c as unknown as { emit(event: string, ...args: unknown[]): void }).emit('noSuchEvent', i);
    expect(await call(c, 'loadRooms')).toMatchObject({ ok: false, code: 'ER001' });
    expect(c.connected).toBe(true);
    expect(c.events.all('disconnect')).toEqual([]);
  });
});

describe('passwords', () => {
  it('no event or ack ever carries a room password or its hash', async () => {
    const SECRET = 'hunter2-secret';
    const t = await startTopology();
    const clients: (Client & { events: Recorder })[] = [];
    const acks: unknown[] = [];
    const track = async <T extends object>(c: Client, event: string, ...args: unknown[]) => {
      const r = await call<T>(c, event, ...args);
      acks.push(r);
      return r;
    };

    const lobby = await join(t.server(0), P, user('lobby'));
    const owner = await join(t.server(1), P, user('owner'));
    clients.push(lobby, owner);
    const added = lobby.events.next('addRoom');
    const created = await track<{ roomId: string }>(owner, 'createRoom', { scheduleUID: P, title: 'Locked', max: 4, password: SECRET });
    if (!created.ok) throw new Error(created.code);
    const { roomId } = created;
    expect((await added)[0]).toEqual({ roomId, title: 'Locked', max: 4, count: 1, password: true });

    const guest = await join(t.server(2), P, user('guest'));
    const intruder = await join(t.server(0), P, user('intruder'));
    clients.push(guest, intruder);
    expect(guest.rooms).toEqual([{ roomId, title: 'Locked', max: 4, count: 1, password: true }]);
    expect(await track(intruder, 'joinRoom', { roomId })).toMatchObject({ ok: false, code: 'EJ003' });
    expect(await track(intruder, 'joinRoom', { roomId, password: 'hunter2' })).toMatchObject({ ok: false, code: 'EJ003' });
    expect(await track(guest, 'joinRoom', { roomId, password: SECRET })).toEqual({ ok: true, roomId, history: [], ownerUID: owner.who.userUID });
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 2);
    await track(owner, 'loadUsers');
    await track(guest, 'loadRooms');
    await track(lobby, 'loadRooms');
    const got = owner.events.next('chat');
    await track(guest, 'chat', { roomId, msg: 'hello', type: 'N' });
    await got;
    const aggro = guest.events.next('aggro');
    await track(owner, 'chat', { roomId, msg: 'look', type: 'A', titleBroad: 'Show_Channel' });
    await aggro;
    await track(guest, 'leaveRoom', roomId);
    const late = await join(t.server(1), P, user('late'));
    clients.push(late);
    expect(late.rooms).toEqual([{ roomId, title: 'Locked', max: 4, count: 1, password: true }]);
    await track(late, 'loadRooms');
    // The lobby's view of the locked room, at the end, after the batched counts.
    await lobby.events.some('count', (u: { roomId: string; count: number }) => u.roomId === roomId && u.count === 1);

    const seen = clients.flatMap((c) => c.events.log.map((s) => JSON.stringify({ event: s.event, args: s.args })));
    expect(seen.length).toBeGreaterThan(10);
    const leaks = [...seen, ...acks.map((a) => JSON.stringify(a))].filter((text) => text.includes(SECRET) || text.includes('scrypt'));
    expect(leaks).toEqual([]);
  });
});
