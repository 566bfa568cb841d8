/**
 * Memory per room (issue 12, point 4): 20,000 rooms of one programme, each with one member and
 * no history, in the memory store (V8 heap, after GC) and in Redis (`used_memory`, a private
 * redis-server); and the time of the passes over every room (the featured view, quickJoin) on both. Run: `node --expose-gc --import tsx bench/tools/memory-per-room.ts`.
 */
import { createClient } from 'redis';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RedisStore, type RedisCommands } from '../../src/state/redis/redis-store.js';
import type { StateStore } from '../../src/domain/ports/store.js';
import { startRedis } from '../../test/helpers/redis.js';

const ROOMS = 20_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function fill(store: StateStore, p: string): Promise<void> {
  for (let i = 0; i < ROOMS; i++) {
    const roomId = `r${i.toString(36).padStart(14, '0')}`;
    const room = { roomId, title: `개표 방송 같이 봐요 ${i}`, max: 120, persistent: false, createdAt: Date.now() };
    const creator = { socketId: `s${i.toString(36).padStart(19, '0')}`, userUID: `user-${i}`, displayName: `시청자 ${i}` };
    await store.createRoom(p, room, creator, ROOMS + 1);
  }
}

async function timed(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  return +((performance.now() - t0) / n).toFixed(3);
}

/** quickJoin by newcomers, each leaving again so the programme stays as filled. */
async function quickJoins(store: StateStore): Promise<number> {
  return timed(200, async (i) => {
    const m = { socketId: `q${i.toString(36).padStart(19, '0')}`, userUID: `quick-${i}`, displayName: `빠른 ${i}` };
    await store.quickJoin('bench', m, null);
    await store.leave('bench', m.socketId);
  });
}

async function main(): Promise<void> {
  gc();
  const before = process.memoryUsage().heapUsed;
  const mem = new MemoryStore({ now: () => Date.now() });
  await fill(mem, 'bench');
  gc();
  const memBytes = (process.memoryUsage().heapUsed - before) / ROOMS;
  const memRefreshMs = await timed(50, (i) => mem.refreshView('bench', Date.now() + i * 1000, 500));
  const memQuickJoinMs = await quickJoins(mem);

  const redis = await startRedis();
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const info = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    const start = await info();
    const store = new RedisStore(client as unknown as RedisCommands, {
      prefix: 'mem:',
      idleTtlMs: 3_600_000,
      announce: { lobbyChannel: 'lobby', roomChannelPrefix: 'room:' },
    });
    await fill(store, 'bench');
    await client.del(store.streamKey('bench'));
    const redisBytes = ((await info()) - start) / ROOMS;
    const pageMs = await timed(200, () => store.pageRooms('bench', { after: null, limit: 20, q: null, open: false }));
    const searchMs = await timed(50, () => store.pageRooms('bench', { after: null, limit: 20, q: '없는', open: false }));
    const refreshMs = await timed(50, (i) => store.refreshView('bench', Date.now() + i * 1000, 500));
    const viewMs = await timed(50, () => store.viewRooms('bench'));
    const redisQuickJoinMs = await quickJoins(store);
    process.stdout.write(
      `${JSON.stringify({ rooms: ROOMS, memoryStoreBytesPerRoom: Math.round(memBytes), redisBytesPerRoom: Math.round(redisBytes), redisPageMs: +pageMs.toFixed(2), redisSearchMissPageMs: +searchMs.toFixed(2), redisRefreshViewMs: +refreshMs.toFixed(2), redisViewRoomsMs: viewMs, redisQuickJoinPlusLeaveMs: redisQuickJoinMs, memoryRefreshViewMs: memRefreshMs, memoryQuickJoinPlusLeaveMs: memQuickJoinMs })}\n`,
    );
  } finally {
    await client.close();
    await redis.remove();
  }
}

void main();
