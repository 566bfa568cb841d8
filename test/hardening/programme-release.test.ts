/**
 * Issue 10, point 8: in memory mode a programme whose users posted an aggro is released once its
 * cooldowns have run out. The cooldowns kept its state after its namespace went, and nothing
 * looked at it again, so every such programme stayed in memory for good. The cooldown keeps its
 * meaning meanwhile: a user back within AGGRO_COOLDOWN_MS is still refused EA002.
 *
 * The test owns the server's MemoryStore, so it watches the state itself (`store.programs()`).
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { call, createOk, join, user, type Who } from '../helpers/client.js';
import { released, startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

const COOLDOWN_MS = 2500;
const ENV = { AGGRO_COOLDOWN_MS: String(COOLDOWN_MS), HOUSEKEEPING_MS: '50' };

/** `who` connects to `program`, makes a room, posts an aggro there and goes; resolves once the
 * programme's namespace has been released. */
async function postAndLeave(server: TestServer, program: string, who: Who): Promise<void> {
  const c = await join(server, program, who);
  const roomId = await createOk(c, { title: 'Match', max: 4 });
  expect(await call(c, 'chat', { roomId, msg: 'what a goal', type: 'A' })).toMatchObject({ ok: true });
  const gone = released(server, program);
  c.disconnect();
  await gone;
}

describe('programmes left with aggro cooldowns (memory mode)', () => {
  it('20 programmes with one aggro each are all released once their cooldowns have run out', async () => {
    const store = new MemoryStore(systemClock);
    const server = await startServer(ENV, { store });
    const programs = Array.from({ length: 20 }, (_, i) => `rel-many-${i}`);
    // Five at a time: twenty TLS handshakes at once is more than a loaded test machine answers promptly.
    for (let i = 0; i < programs.length; i += 5) await Promise.all(programs.slice(i, i + 5).map((p) => postAndLeave(server, p, user())));
    // Their namespaces are gone, their cooldowns are not over yet.
    expect(server.app.service.programsWithRuntime.filter((p) => programs.includes(p))).toEqual([]);
    const held = await store.programs();
    expect(programs.filter((p) => held.includes(p)).length).toBeGreaterThan(0);
    await waitUntil(
      async () => (await store.programs()).every((p) => !programs.includes(p)),
      COOLDOWN_MS + 3000,
      'every programme has left the store',
    );
    expect(await store.programs()).toEqual([]);
  });

  it('a user back within AGGRO_COOLDOWN_MS is still refused EA002 after housekeeping has run', async () => {
    const store = new MemoryStore(systemClock);
    const server = await startServer({ ...ENV, AGGRO_COOLDOWN_MS: '5000' }, { store });
    const P = 'rel-back';
    const alice = user('alice');
    await postAndLeave(server, P, alice);
    expect(await store.programs()).toContain(P);
    // A witness: a programme whose only cooldown is already over, put straight into the store.
    // Seeing housekeeping drop it proves a round ran while alice's cooldown was live.
    const w = { userUID: 'w', displayName: 'w', socketId: 'w-socket' };
    await store.createRoom('rel-witness', { roomId: 'wr', title: 'w', max: 2, persistent: false, createdAt: Date.now() }, w, 10);
    const now = Date.now();
    await store.startAggro('rel-witness', 'w-socket', { aggroUID: 'wa', roomId: 'wr', userUID: 'w', displayName: 'w', msg: 'm', type: 'A', point: 0, up: 0, down: 0, startedAt: now, expiresAt: now + 10, pointSent: 0, pointSentAt: now }, 1);
    await store.leave('rel-witness', 'w-socket');
    await waitUntil(async () => !(await store.programs()).includes('rel-witness'), 3000, 'housekeeping dropped the witness');
    expect(await store.programs()).toContain(P);

    const back = await join(server, P, alice);
    const roomId = await createOk(back, { title: 'Again', max: 4 });
    expect(await call(back, 'chat', { roomId, msg: 'again', type: 'A' })).toMatchObject({ ok: false, code: 'EA002' });
  });
});
