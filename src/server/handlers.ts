/**
 * The socket's events: parse the payload, call the domain, answer the caller. Every handler is
 * wrapped so that it never throws, answers exactly once (ack and, for the seed's client, the
 * seed's reply event), and turns a backend failure into ES001.
 */
import type { Logger } from 'pino';
import type { z, ZodType } from 'zod';
import { fail, type Member, type Result } from '../domain/model.js';
import { TokenBucket } from '../domain/rate-limit.js';
import type { OnAirService } from '../domain/service.js';
import type { Clock } from '../domain/clock.js';
import {
  errorMessages,
  parsePayload,
  type AckResult,
  type ClientEventName,
  type ErrorCode,
  type Schemas,
} from '../protocol/index.js';
import type { OnAirSocket } from './types.js';

export interface HandlerContext {
  service: OnAirService;
  schemas: Schemas;
  clock: Clock;
  log: Logger;
  eventRate: number;
  eventBurst: number;
}

type Ack = (result: AckResult) => void;

/** The code a malformed payload gets: the event's own "invalid" code where it has one. */
const invalidCode: Record<ClientEventName, ErrorCode> = {
  loadRooms: 'EV001',
  loadUsers: 'EV001',
  createRoom: 'EC001',
  joinRoom: 'EV001',
  leaveRoom: 'EV001',
  chat: 'EM002',
  aggroUp: 'EV001',
  aggroDown: 'EV001',
};

function isClientEvent(event: unknown): event is ClientEventName {
  return typeof event === 'string' && Object.hasOwn(invalidCode, event);
}

function ackBody(result: Result): AckResult {
  return result.ok ? result : { ok: false, code: result.code, message: errorMessages[result.code] };
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
  } else if (event === 'chat' && !result.ok) {
    const type = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
    if (type === 'A' || type === 'AP') socket.emit('aggroErr', result.code);
  }
}

export function attachHandlers(socket: OnAirSocket, ctx: HandlerContext): Member {
  const p = socket.data.program;
  const member: Member = { socketId: socket.id, ...socket.data.identity };
  // Made on first use: most sockets never log, and a child logger per idle connection is memory
  // that 10,000 connections notice.
  let child: Logger | undefined;
  const log = () => (child ??= ctx.log.child({ p, socketId: socket.id, userUID: member.userUID }));
  const { service, schemas } = ctx;

  function answer(event: ClientEventName, result: Result, raw: unknown, ack: Ack | undefined): void {
    seedReply(socket, event, result, raw);
    if (ack) ack(ackBody(result));
  }

  // Every inbound packet, known event or not, spends a token.
  const bucket = new TokenBucket(ctx.eventRate, ctx.eventBurst, ctx.clock);
  socket.use((packet, next) => {
    if (bucket.take()) return next();
    const [event, ...args] = packet;
    const ack = typeof args.at(-1) === 'function' ? (args.at(-1) as Ack) : undefined;
    log().debug({ event }, 'rate limited');
    if (isClientEvent(event)) answer(event, { ok: false, code: 'ER001' }, args[0], ack);
  });

  function on(event: ClientEventName, run: (raw: unknown) => Promise<Result>): void {
    socket.on(event, (...args: unknown[]) => {
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as Ack) : undefined;
      const raw = args[0];
      run(raw).then(
        (result) => {
          if (!result.ok) log().debug({ event, code: result.code }, 'refused');
          answer(event, result, raw, ack);
        },
        (err: unknown) => {
          log().error({ err, event }, 'handler failed');
          answer(event, { ok: false, code: 'ES001' }, raw, ack);
        },
      );
    });
  }

  /** Like `on`, with the payload parsed first; a malformed one gets the event's invalid code. */
  function onParsed<S extends ZodType>(event: ClientEventName, schema: S, run: (input: z.output<S>) => Promise<Result>): void {
    on(event, async (raw) => {
      const parsed = parsePayload(schema, raw);
      if (parsed.ok) return run(parsed.value);
      log().debug({ event, reason: parsed.reason }, 'malformed payload');
      return fail(invalidCode[event]);
    });
  }

  on('loadRooms', async () => {
    const rooms = await service.listRooms(p);
    socket.emit('loadRooms', rooms);
    return { ok: true, rooms };
  });

  on('loadUsers', async () => {
    const users = await service.listUsers(p, socket.id);
    socket.emit('loadUsers', users);
    return { ok: true, users };
  });

  onParsed('createRoom', schemas.createRoom, (input) => service.createRoom(p, member, input));

  onParsed('joinRoom', schemas.joinRoom, (input) => service.joinRoom(p, member, input));

  onParsed('leaveRoom', schemas.leaveRoom, async (roomId) => {
    const result = await service.leaveRoom(p, member, roomId);
    if (result.ok) socket.emit('loadRooms', await service.listRooms(p));
    return result;
  });

  onParsed('chat', schemas.chat, (input) =>
    input.type === 'N' ? service.chat(p, member, input) : service.postAggro(p, member, { ...input, type: input.type }),
  );

  onParsed('aggroUp', schemas.vote, (aggroUID) => service.vote(p, member, aggroUID, 1));
  onParsed('aggroDown', schemas.vote, (aggroUID) => service.vote(p, member, aggroUID, -1));

  return member;
}
