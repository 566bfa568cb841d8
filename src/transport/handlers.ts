/**
 * The socket's events: parse the payload, call the domain, answer the caller. Every handler is
 * wrapped so that it never throws, answers exactly once (ack and, for the seed's client, the
 * seed's reply event; `loadRooms`, the largest reply, goes in the ack alone when there is one),
 * and turns a backend failure into ES001.
 */
import type { Logger } from 'pino';
import type { z, ZodType } from 'zod';
import { fail, type Member, type Result } from '../domain/model.js';
import { TokenBucket } from '../domain/rate-limit.js';
import type { OnAirService } from '../domain/service.js';
import type { Moderation } from '../domain/moderation/moderation.js';
import type { Clock } from '../domain/clock.js';
import {
  clientEventNames,
  errorMessages,
  parsePayload,
  type AckResult,
  type ClientEventName,
  type ErrorCode,
  type Schemas,
} from '../protocol/index.js';
import type { LobbyFeed } from './lobby-feed.js';
import { lobbyCatchUp } from './lobby-pacing.js';
import type { OnAirSocket } from './types.js';

export interface HandlerContext {
  service: OnAirService;
  /** Viewers' reports (spec 9). */
  moderation: Pick<Moderation, 'report'>;
  schemas: Schemas;
  clock: Clock;
  log: Logger;
  eventRate: number;
  eventBurst: number;
  /** The bucket of the two cheap reads with the largest replies; unlimited beyond the event
   * bucket when absent. */
  loadRate?: number;
  loadBurst?: number;
  /** Lobby modes and watched rooms (spec 3.1). */
  lobby: Pick<LobbyFeed, 'setMode' | 'watch'>;
  /** What the operator's metrics hear of each call (`operator/metrics.ts` implements it). */
  metrics?: {
    refused(code: string): void;
    rateLimited(scope: 'event' | 'load'): void;
    handled(event: string, seconds: number): void;
  };
}

type Ack = (result: AckResult) => void;

/** The code a malformed payload gets: the event's own "invalid" code where it has one, else
 * `EV001`. */
const ownInvalidCode: Partial<Record<ClientEventName, ErrorCode>> = { createRoom: 'EC001', chat: 'EM002', updateRoom: 'EC001' };

const CLIENT_EVENTS: ReadonlySet<string> = new Set(clientEventNames);

function isClientEvent(event: unknown): event is ClientEventName {
  return typeof event === 'string' && CLIENT_EVENTS.has(event);
}

function ackBody(result: Result): AckResult {
  if (result.ok) return result;
  const body: AckResult = { ok: false, code: result.code, message: errorMessages[result.code] };
  if (result.until !== undefined) body.until = result.until;
  if (result.retryAfterMs !== undefined) body.retryAfterMs = result.retryAfterMs;
  return body;
}

/** The seed's reply events, sent beside the ack so clients without acks keep working. */
function seedReply(socket: OnAirSocket, event: ClientEventName, result: Result, raw: unknown): void {
  if (event === 'createRoom') {
    if (result.ok) {
      const r = result as unknown as { roomId: string; title: string };
      socket.emit('createRoomReq', { result: true, roomId: r.roomId, title: r.title });
    } else socket.emit('createRoomReq', { result: false, err: result.code });
  } else if (event === 'joinRoom') {
    socket.emit('joinRoomReq', result.ok ? { result: true } : { result: false, err: result.code });
  } else if (event === 'quickJoin') {
    // As the join or the create it turned out to be.
    const r = result as unknown as { roomId: string; title: string; created?: true };
    if (result.ok && r.created) socket.emit('createRoomReq', { result: true, roomId: r.roomId, title: r.title });
    else socket.emit('joinRoomReq', result.ok ? { result: true } : { result: false, err: result.code });
  } else if (event === 'chat' && !result.ok) {
    const type = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
    if (type === 'A' || type === 'AP') socket.emit('aggroErr', result.code);
  }
}

/** What one socket carries for its handlers, kept in `socket.data`. */
interface SocketState {
  member: Member;
  bucket: TokenBucket;
  /** Made on the first `loadRooms`/`loadUsers`: most sockets call them once or twice. */
  loads?: TokenBucket;
  log?: Logger;
}

/**
 * The handlers of every socket of one server. The event functions are made once and shared by
 * all sockets (they find their socket as `this` and its state in `socket.data`): per-socket
 * closures are memory that 10,000 idle connections notice.
 */
export function createHandlers(ctx: HandlerContext): (socket: OnAirSocket) => Member {
  const { service, schemas } = ctx;

  const state = (socket: OnAirSocket) => (socket.data as unknown as { state: SocketState }).state;
  // Made on first use: most sockets never log.
  const log = (socket: OnAirSocket): Logger => {
    const s = state(socket);
    return (s.log ??= ctx.log.child({ p: socket.data.program, socketId: socket.id, userUID: s.member.userUID }));
  };

  function answer(socket: OnAirSocket, event: ClientEventName, result: Result, raw: unknown, ack: Ack | undefined): void {
    seedReply(socket, event, result, raw);
    if (ack) ack(ackBody(result));
  }

  /** `acked`: the caller asked for an acknowledgement. */
  type Run = (socket: OnAirSocket, p: string, member: Member, raw: unknown, acked: boolean) => Promise<Result>;

  function handler(event: ClientEventName, run: Run) {
    return function (this: OnAirSocket, ...args: unknown[]): void {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as Ack) : undefined;
      const raw = args[0];
      const started = performance.now();
      run(this, this.data.program, state(this).member, raw, ack !== undefined).then(
        (result) => {
          ctx.metrics?.handled(event, (performance.now() - started) / 1000);
          if (!result.ok) {
            ctx.metrics?.refused(result.code);
            log(this).debug({ event, code: result.code }, 'refused');
          }
          answer(this, event, result, raw, ack);
        },
        (err: unknown) => {
          ctx.metrics?.handled(event, (performance.now() - started) / 1000);
          ctx.metrics?.refused('ES001');
          log(this).error({ err, event }, 'handler failed');
          answer(this, event, { ok: false, code: 'ES001' }, raw, ack);
        },
      );
    };
  }

  /** A handler whose payload is parsed first; a malformed one gets the event's invalid code. */
  function parsed<S extends ZodType>(
    event: ClientEventName,
    schema: S,
    run: (socket: OnAirSocket, p: string, member: Member, input: z.output<S>) => Promise<Result>,
    /** What a call without a payload means, for events whose payload is all optional. */
    absent?: unknown,
  ) {
    return handler(event, async (socket, p, member, raw) => {
      const r = parsePayload(schema, raw === undefined && absent !== undefined ? absent : raw);
      if (r.ok) return run(socket, p, member, r.value);
      log(socket).debug({ event, reason: r.reason }, 'malformed payload');
      return fail(ownInvalidCode[event] ?? 'EV001');
    });
  }

  /** `loadRooms`/`loadUsers` cost a listing each and make the largest replies, yet a client
   * needs them only on entering the lobby or a room: a tighter bucket than the event one. */
  function loadAllowed(socket: OnAirSocket): boolean {
    if (ctx.loadRate === undefined || ctx.loadBurst === undefined) return true;
    const s = state(socket);
    s.loads ??= new TokenBucket(ctx.loadRate, ctx.loadBurst, ctx.clock);
    if (s.loads.take()) return true;
    ctx.metrics?.rateLimited('load');
    return false;
  }

  const handlers: [ClientEventName, (this: OnAirSocket, ...args: unknown[]) => void][] = [
    [
      'loadRooms',
      handler('loadRooms', async (socket, p, _m, _raw, acked) => {
        if (!loadAllowed(socket)) return fail('ER001');
        const rooms = await service.listRooms(p);
        lobbyCatchUp(socket);
        // Once: in the ack for a caller that asked for one, as the event for the seed's client.
        if (acked) return { ok: true, rooms };
        socket.emit('loadRooms', rooms);
        return { ok: true };
      }),
    ],
    [
      'loadUsers',
      handler('loadUsers', async (socket, p) => {
        if (!loadAllowed(socket)) return fail('ER001');
        const { users, ownerUID } = await service.listUsers(p, socket.id);
        socket.emit('loadUsers', users);
        // The owner in the ack alone: seed clients get nothing new.
        return ownerUID ? { ok: true, users, ownerUID } : { ok: true, users };
      }),
    ],
    ['createRoom', parsed('createRoom', schemas.createRoom, (_s, p, member, input) => service.createRoom(p, member, input))],
    ['joinRoom', parsed('joinRoom', schemas.joinRoom, (_s, p, member, input) => service.joinRoom(p, member, input))],
    [
      'leaveRoom',
      parsed('leaveRoom', schemas.leaveRoom, async (socket, p, member, roomId) => {
        const result = await service.leaveRoom(p, member, roomId);
        if (result.ok) {
          const rooms = await service.listRooms(p);
          lobbyCatchUp(socket);
          socket.emit('loadRooms', rooms);
        }
        return result;
      }),
    ],
    [
      'chat',
      parsed('chat', schemas.chat, (_s, p, member, input) =>
        input.type === 'N' ? service.chat(p, member, input) : service.postAggro(p, member, { ...input, type: input.type }),
      ),
    ],
    ['aggroUp', parsed('aggroUp', schemas.vote, (_s, p, member, aggroUID) => service.vote(p, member, aggroUID, 1))],
    ['aggroDown', parsed('aggroDown', schemas.vote, (_s, p, member, aggroUID) => service.vote(p, member, aggroUID, -1))],
    ['history', parsed('history', schemas.history, (_s, p, member, input) => service.history(p, member, input))],
    ['report', parsed('report', schemas.report, (_s, p, member, input) => ctx.moderation.report(p, member, input))],
    // Spec 3.1. `listRooms()` and `quickJoin()` without a payload are the empty one.
    ['listRooms', parsed('listRooms', schemas.listRooms, (_s, p, _m, input) => service.pageRooms(p, input), {})],
    [
      'watchRooms',
      parsed('watchRooms', schemas.watchRooms, async (socket, _p, _m, roomIds) => {
        ctx.lobby.watch(socket, roomIds);
        return { ok: true };
      }),
    ],
    [
      'setLobbyMode',
      parsed('setLobbyMode', schemas.setLobbyMode, async (socket, p, _m, mode) => {
        ctx.lobby.setMode(socket, mode);
        // The list as it is now, so the client's state starts from what its frames change.
        return { ok: true, mode, rooms: await service.listRooms(p) };
      }),
    ],
    ['quickJoin', parsed('quickJoin', schemas.quickJoin, (_s, p, member, input) => service.quickJoin(p, member, input), {})],
    // Spec 9: the room owner's calls, on the caller's own room.
    ['removeMember', parsed('removeMember', schemas.removeMember, (_s, p, member, input) => service.removeMember(p, member, input))],
    ['updateRoom', parsed('updateRoom', schemas.updateRoom, (_s, p, member, input) => service.updateRoom(p, member, input))],
  ];

  const byEvent = new Map<string, (this: OnAirSocket, ...args: unknown[]) => void>(handlers);

  return function attach(socket: OnAirSocket): Member {
    const member: Member = { socketId: socket.id, ...socket.data.identity };
    const s: SocketState = { member, bucket: new TokenBucket(ctx.eventRate, ctx.eventBurst, ctx.clock) };
    // Not enumerable: socket.io's connection state recovery serialises `socket.data` (msgpack,
    // with the Redis adapter), and the state holds a logger and a clock it cannot encode.
    Object.defineProperty(socket.data, 'state', { value: s, enumerable: false, writable: true, configurable: true });
    // Every inbound packet, known event or not, spends a token; one that may pass is handled
    // here, never handed on to socket.io's emitter: an `on()` per event would give every
    // socket a listener table of its own (a dictionary of 18 entries per idle connection).
    // socket.io calls middleware without the socket, so this one closure per socket stays.
    socket.use((packet) => {
      const [event, ...args] = packet;
      if (s.bucket.take()) {
        const fn = typeof event === 'string' ? byEvent.get(event) : undefined;
        if (fn && socket.connected) fn.apply(socket, args);
        return;
      }
      const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
      log(socket).debug({ event }, 'rate limited');
      ctx.metrics?.rateLimited('event');
      ctx.metrics?.refused('ER001');
      if (isClientEvent(event)) answer(socket, event, { ok: false, code: 'ER001' }, args[0], ack);
    });
    return member;
  };
}
