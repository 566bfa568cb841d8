/**
 * Issue 10, point 2: password hashing is bounded. A flood of wrong passwords neither delays a
 * right one nor queues unbounded scrypt work; what is refused (ER001) costs no hashing, and a
 * room over the programme's limit is refused before its password is hashed. Real server, real
 * TLS, real socket.io clients; the hashes are counted through /metrics.
 */
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { AckResult } from '../../src/protocol/index.js';
import { call, createOk, join, user } from '../helpers/client.js';
import { scrape, value } from '../helpers/metrics.js';
import { startServer } from '../helpers/server.js';

const SECRET = 'open-sesame';

describe('password hashing under a flood of wrong passwords', () => {
  it('a right password is answered ok while 10 sockets guess at 19/s each; hashes stay bounded', async () => {
    const FAILS = 3;
    const ATTACKERS = 10;
    const server = await startServer({ PASSWORD_FAILURES_PER_USER: String(FAILS) });
    const P = 'pw-flood';
    const owner = await join(server, P, user('owner'));
    const roomId = await createOk(owner, { title: 'Locked', max: 10, password: SECRET });
    const attackers = await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => join(server, P, user(`guesser${i}`))));
    const guest = await join(server, P, user('guest'));

    const codes = attackers.map(() => new Map<string, number>());
    const sent = attackers.map(() => 0);
    let floodRunning = true;
    let ready!: () => void;
    const floodUnderWay = new Promise<void>((resolve) => (ready = resolve));
    // Before the guest tries: every guesser has been answered FAILS wrong passwords (the most
    // a budget lets through) and has sent at least 40 tries (two seconds of flood).
    const check = () => {
      if (codes.every((c, i) => (c.get('EJ003') ?? 0) >= FAILS && sent[i]! >= 40)) ready();
    };
    // Open-loop load, as a hostile client sends it: one try every 50 ms per socket, without
    // waiting for answers.
    const timers = attackers.map((a, i) =>
      setInterval(() => {
        if (!floodRunning) return;
        sent[i]! += 1;
        (a as unknown as Socket).timeout(60_000).emit('joinRoom', { roomId, password: `guess-${i}-${sent[i]}` }, (err: unknown, res: AckResult) => {
          const code = err ? 'timeout' : res.ok ? 'ok' : res.code;
          codes[i]!.set(code, (codes[i]!.get(code) ?? 0) + 1);
          check();
        });
      }, 50),
    );
    try {
      await floodUnderWay;
      // The flood goes on for at most 2 s more; the guest's answer must come within it.
      const floodEnd = setTimeout(() => (floodRunning = false), 2000);
      const started = performance.now();
      // Waited for past the flood's end, so a late answer fails on the ordering below.
      const answer = await (guest.timeout(20_000).emitWithAck('joinRoom', { roomId, password: SECRET }) as Promise<AckResult>).catch(() => 'no answer in 20 s');
      const answeredDuringFlood = floodRunning;
      const tookMs = performance.now() - started;
      clearTimeout(floodEnd);
      floodRunning = false;
      const seen = `after ${Math.round(tookMs)} ms; guessers sent ${sent.join(',')}; answers ${JSON.stringify(codes.map((c) => Object.fromEntries(c)))}`;
      expect(answer, seen).toEqual({ ok: true, roomId, history: [], ownerUID: owner.who.userUID });
      expect(answeredDuringFlood, `the right password was answered past the flood, ${seen}`).toBe(true);
    } finally {
      floodRunning = false;
      for (const t of timers) clearInterval(t);
    }

    // Guessers past their budget were refused without hashing.
    for (const c of codes) {
      expect(c.get('ok') ?? 0).toBe(0);
      expect(c.get('EJ003') ?? 0).toBeLessThanOrEqual(FAILS);
      expect(c.get('ER001') ?? 0).toBeGreaterThan(0);
    }
    const m = await scrape(server);
    // The room's hash, at most FAILS tries per guesser, the guest's.
    expect(value(m, 'onair_password_hashes_total')).toBeGreaterThanOrEqual(1 + 1);
    expect(value(m, 'onair_password_hashes_total')).toBeLessThanOrEqual(1 + ATTACKERS * FAILS + 1);
    expect(value(m, 'onair_password_refused_total', { reason: 'locked' })).toBeGreaterThan(0);
    expect(value(m, 'onair_password_lockouts_total', { scope: 'user' })).toBe(ATTACKERS);
  });

  it('beyond PASSWORD_HASH_QUEUE, createRoom with a password is ER001 without hashing', async () => {
    const server = await startServer({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' });
    const P = 'pw-queue';
    const creators = await Promise.all(Array.from({ length: 20 }, (_, i) => join(server, P, user(`maker${i}`))));
    const answers = await Promise.all(creators.map((c, i) => call(c, 'createRoom', { title: `Room ${i}`, max: 4, password: SECRET })));
    const ok = answers.filter((a) => a.ok).length;
    const busy = answers.filter((a) => !a.ok && a.code === 'ER001').length;
    expect(ok + busy).toBe(answers.length);
    expect(busy).toBeGreaterThan(0);
    const m = await scrape(server);
    expect(value(m, 'onair_password_hashes_total')).toBe(ok);
    expect(value(m, 'onair_password_refused_total', { reason: 'busy' })).toBe(busy);
    expect(value(m, 'onair_password_hash_queue')).toBe(0);
  });

  it('createRoom with a password at ROOMS_PER_PROGRAM_MAX is EC002 without hashing', async () => {
    const server = await startServer({ ROOMS_PER_PROGRAM_MAX: '2' });
    const P = 'pw-room-cap';
    const [a, b, c] = await Promise.all([join(server, P, user('a')), join(server, P, user('b')), join(server, P, user('c'))]);
    await createOk(a!, { title: 'With password', max: 4, password: SECRET });
    await createOk(b!, { title: 'Open', max: 4 });
    expect(value(await scrape(server), 'onair_password_hashes_total')).toBe(1);
    expect(await call(c!, 'createRoom', { title: 'Too many', max: 4, password: SECRET })).toMatchObject({ ok: false, code: 'EC002' });
    expect(value(await scrape(server), 'onair_password_hashes_total')).toBe(1);
  });
});
