/**
 * What a store announced, read the same way from both backends so that one contract asserts it:
 * a recording handler on the memory store's broker, and, for Redis, the adapter's stream read
 * back with XRANGE and decoded from socket.io's emitter format.
 */
import type { Announcer, EventArgs } from '../../src/domain/ports/announcer.js';
import type { ServerEventName } from '../../src/protocol/index.js';

export type Announcement =
  | { to: 'lobby'; except: string | null; event: string; args: unknown[] }
  | { to: 'room'; roomId: string; except: string | null; event: string; args: unknown[] }
  | { to: 'socket'; socketId: string; event: string; args: unknown[] }
  /** A room's lobby news while it is out of the featured view: its watchers only. */
  | { to: 'watchers'; roomId: string; event: string; args: unknown[] };

/** A broker handler that keeps every announcement, by programme. */
export class RecordingAnnouncer implements Announcer {
  private readonly byProgram = new Map<string, Announcement[]>();

  private push(p: string, a: Announcement): void {
    const list = this.byProgram.get(p) ?? [];
    list.push(a);
    this.byProgram.set(p, list);
  }
  toLobby<E extends ServerEventName>(p: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.push(p, { to: 'lobby', except, event, args });
  }
  /** In view: the lobby (its watchers sit there); out of it, its watchers alone. */
  toLobbyOf<E extends ServerEventName>(p: string, roomId: string, inView: boolean, event: E, ...args: EventArgs<E>): void {
    this.push(p, inView ? { to: 'lobby', except: null, event, args } : { to: 'watchers', roomId, event, args });
  }
  toRoom<E extends ServerEventName>(p: string, roomId: string, except: string | null, event: E, ...args: EventArgs<E>): void {
    this.push(p, { to: 'room', roomId, except, event, args });
  }
  toSocket<E extends ServerEventName>(p: string, socketId: string, event: E, ...args: EventArgs<E>): void {
    this.push(p, { to: 'socket', socketId, event, args });
  }
  of(p: string): Announcement[] {
    return [...(this.byProgram.get(p) ?? [])];
  }
}

interface EmitterEntry {
  packet: { type: number; data: [string, ...unknown[]]; nsp: string };
  opts: { rooms: string[]; except: string[]; flags: Record<string, never> };
}

/** The announcements of programme `p` in a stream the Redis store appends to, oldest first. */
export async function streamAnnouncements(
  redis: { xRange(key: string, start: string, end: string): Promise<{ id: string; message: Record<string, string> }[] | null> },
  stream: string,
  channels: { lobbyChannel: string; roomChannelPrefix: string },
  p: string,
): Promise<Announcement[]> {
  const out: Announcement[] = [];
  for (const { message } of (await redis.xRange(stream, '-', '+')) ?? []) {
    if (message.nsp !== `/${p}` || message.uid !== 'emitter' || message.type !== '3') continue;
    const entry = JSON.parse(message.data!) as EmitterEntry;
    const [event, ...args] = entry.packet.data;
    // A room's lobby news out of the featured view goes to its watchers' channel.
    const watch = `${channels.lobbyChannel}/`;
    const rooms = entry.opts.rooms;
    if (entry.packet.type !== 2 || entry.packet.nsp !== `/${p}` || rooms.length !== 1) {
      throw new Error(`not an emitter broadcast to one channel: ${message.data}`);
    }
    const channel = rooms[0]!;
    const except = entry.opts.except[0] ?? null;
    if (channel.startsWith(watch)) out.push({ to: 'watchers', roomId: channel.slice(watch.length), event, args });
    else if (channel === channels.lobbyChannel) out.push({ to: 'lobby', except, event, args });
    else if (channel.startsWith(channels.roomChannelPrefix)) {
      out.push({ to: 'room', roomId: channel.slice(channels.roomChannelPrefix.length), except, event, args });
    } else {
      // A socket's own channel is its id; nothing is ever excepted from one socket.
      if (except !== null) throw new Error(`an except on a socket's channel: ${message.data}`);
      out.push({ to: 'socket', socketId: channel, event, args });
    }
  }
  return out;
}
