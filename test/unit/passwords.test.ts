/**
 * The bounds on password hashing, on their own: `HashQueue` (how many hashes run and wait),
 * `WrongPasswordBudget` (per user and per room, on an injected clock), `PasswordGuard` over a
 * hashing that the test controls, and the service's order of checks (cheap refusals before any
 * hashing), counted through that hashing.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { HashQueue } from '../../src/domain/hash-queue.js';
import type { Member } from '../../src/domain/model.js';
import { WrongPasswordBudget } from '../../src/domain/password-budget.js';
import { defaultPasswordLimits, PasswordGuard, type PasswordHashing, type PasswordLimits, type PasswordObserver } from '../../src/domain/password-guard.js';
import { OnAirService } from '../../src/domain/service.js';
import { MemoryDeadlineIndex } from '../../src/state/memory/memory-cluster.js';
import { MemoryStore } from '../../src/state/memory/memory-store.js';
import { RecordingDelivery } from '../helpers/domain.js';

class ManualClock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
}

/** A hashing whose every call waits until the test releases it, and is counted. */
class HeldHashing implements PasswordHashing {
  calls = 0;
  private readonly held: (() => void)[] = [];
  async hash(password: string): Promise<string> {
    this.calls += 1;
    await new Promise<void>((resolve) => this.held.push(resolve));
    return `plain$${password}`;
  }
  async verify(password: string, stored: string): Promise<boolean> {
    this.calls += 1;
    await new Promise<void>((resolve) => this.held.push(resolve));
    return stored === `plain$${password}`;
  }
  get waiting(): number {
    return this.held.length;
  }
  releaseAll(): void {
    for (const r of this.held.splice(0)) r();
  }
}

/** Answers at once, counting. */
class CountingHashing implements PasswordHashing {
  calls = 0;
  async hash(password: string): Promise<string> {
    this.calls += 1;
    return `plain$${password}`;
  }
  async verify(password: string, stored: string): Promise<boolean> {
    this.calls += 1;
    return stored === `plain$${password}`;
  }
}

class CountingObserver implements PasswordObserver {
  hashed = 0;
  refused: string[] = [];
  lockouts: string[] = [];
  passwordHashed(): void {
    this.hashed += 1;
  }
  passwordRefused(reason: 'busy' | 'locked'): void {
    this.refused.push(reason);
  }
  passwordLockout(scope: 'user' | 'room'): void {
    this.lockouts.push(scope);
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('HashQueue', () => {
  it('runs at most `concurrency` jobs, keeps at most `queueMax` waiting, refuses beyond at once', async () => {
    const q = new HashQueue(2, 3);
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const job = () =>
      new Promise<number>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        gates.push(() => {
          running -= 1;
          resolve(1);
        });
      });
    const accepted = Array.from({ length: 5 }, () => q.run(job));
    expect(accepted.every((r) => r !== null)).toBe(true);
    expect(q.queued).toBe(3);
    expect(q.run(job)).toBeNull();
    // An operator's job waits whatever the queue holds.
    const forced = q.run(job, true);
    expect(forced).not.toBeNull();
    while (gates.length > 0 || q.queued > 0) {
      gates.shift()?.();
      await settle();
    }
    expect(await Promise.all([...accepted, forced])).toEqual([1, 1, 1, 1, 1, 1]);
    expect(peak).toBe(2);
    expect(q.queued).toBe(0);
  });

  it('a failing job frees its slot', async () => {
    const q = new HashQueue(1, 0);
    await expect(q.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run(async () => 'next')).toBe('next');
  });
});

describe('WrongPasswordBudget', () => {
  const limits = { perUser: 3, perRoom: 4, periodMs: 10_000 };

  it('a user who spent its budget is refused until the period after the lock began has passed', () => {
    const clock = new ManualClock();
    const b = new WrongPasswordBudget(limits, clock);
    for (let i = 0; i < 2; i++) {
      expect(b.begin('p\nr1', 'u')).toBeNull();
      expect(b.settle('p\nr1', 'u', true)).toEqual([]);
    }
    clock.t += 5000;
    expect(b.begin('p\nr2', 'u')).toBeNull();
    expect(b.settle('p\nr2', 'u', true)).toEqual(['user']);
    // Any room: the budget is the user's.
    expect(b.begin('p\nr3', 'u')).toBe('user');
    clock.t += 9_999;
    expect(b.begin('p\nr3', 'u')).toBe('user');
    clock.t += 1;
    expect(b.begin('p\nr3', 'u')).toBeNull();
  });

  it('tries being checked count against the user budget', () => {
    const b = new WrongPasswordBudget(limits, new ManualClock());
    expect(b.begin('p\nr', 'u')).toBeNull();
    expect(b.begin('p\nr', 'u')).toBeNull();
    expect(b.begin('p\nr', 'u')).toBeNull();
    expect(b.begin('p\nr', 'u')).toBe('user');
    b.settle('p\nr', 'u', false);
    expect(b.begin('p\nr', 'u')).toBeNull();
  });

  it('a right password does not spend the budget', () => {
    const b = new WrongPasswordBudget(limits, new ManualClock());
    for (let i = 0; i < 10; i++) {
      expect(b.begin('p\nr', 'u')).toBeNull();
      b.settle('p\nr', 'u', false);
    }
  });

  it('a room under guessing refuses the guessers for a period, not the users who never failed there', () => {
    const clock = new ManualClock();
    const b = new WrongPasswordBudget(limits, clock);
    const room = 'p\nr';
    for (const u of ['a', 'b', 'c']) {
      expect(b.begin(room, u)).toBeNull();
      expect(b.settle(room, u, true)).toEqual([]);
    }
    expect(b.begin(room, 'd')).toBeNull();
    expect(b.settle(room, 'd', true)).toEqual(['room']);
    for (const u of ['a', 'b', 'c', 'd']) expect(b.begin(room, u)).toBe('room');
    // A newcomer still gets its try; another room is not concerned.
    expect(b.begin(room, 'newcomer')).toBeNull();
    b.settle(room, 'newcomer', false);
    expect(b.begin('p\nother', 'a')).toBeNull();
    b.settle('p\nother', 'a', false);
    clock.t += limits.periodMs;
    expect(b.begin(room, 'a')).toBeNull();
  });

  it('forgets expired windows, so memory follows the guessing of the last period', () => {
    const clock = new ManualClock();
    const b = new WrongPasswordBudget({ perUser: 100, perRoom: 1_000_000, periodMs: 1000 }, clock);
    for (let i = 0; i < 10_000; i++) {
      b.begin('p\nr', `u${i}`);
      b.settle('p\nr', `u${i}`, true);
    }
    clock.t += 1000;
    b.begin('p\nr', 'late');
    b.settle('p\nr', 'late', true);
    expect(b.size).toBe(2);
  });
});

describe('PasswordGuard', () => {
  const limits: PasswordLimits = { hashConcurrency: 1, hashQueue: 2, failuresPerUser: 2, failuresPerRoom: 100, lockMs: 60_000 };

  it('refuses a try as busy, without hashing, when the queue is full', async () => {
    const hashing = new HeldHashing();
    const observer = new CountingObserver();
    const g = new PasswordGuard(limits, new ManualClock(), observer, hashing);
    const tries = ['a', 'b', 'c'].map((u) => g.check('p', 'r', u, 'guess', 'plain$right'));
    expect(g.queued).toBe(2);
    expect(await g.check('p', 'r', 'd', 'right', 'plain$right')).toBe('busy');
    expect(await g.hash('pw')).toBeNull();
    expect(observer.refused).toEqual(['busy', 'busy']);
    while (hashing.waiting > 0 || g.queued > 0) {
      hashing.releaseAll();
      await settle();
    }
    expect(await Promise.all(tries)).toEqual(['wrong', 'wrong', 'wrong']);
    expect(hashing.calls).toBe(3);
    expect(observer.hashed).toBe(3);
    // The busy refusal cost `d` nothing: it may try again.
    const right = g.check('p', 'r', 'd', 'right', 'plain$right');
    await settle();
    hashing.releaseAll();
    expect(await right).toBe('ok');
  });

  it('a user past its budget is refused as locked without hashing; a missing password costs nothing', async () => {
    const hashing = new CountingHashing();
    const observer = new CountingObserver();
    const g = new PasswordGuard(limits, new ManualClock(), observer, hashing);
    expect(await g.check('p', 'r', 'u', undefined, 'plain$right')).toBe('wrong');
    expect(hashing.calls).toBe(0);
    expect(await g.check('p', 'r', 'u', 'x', 'plain$right')).toBe('wrong');
    expect(await g.check('p', 'r', 'u', 'y', 'plain$right')).toBe('wrong');
    expect(observer.lockouts).toEqual(['user']);
    expect(await g.check('p', 'r', 'u', 'right', 'plain$right')).toBe('locked');
    expect(hashing.calls).toBe(2);
    expect(observer.refused).toEqual(['locked']);
    expect(await g.check('p', 'r', 'someone-else', 'right', 'plain$right')).toBe('ok');
  });
});

describe('the service checks what is cheap before hashing', () => {
  function setup<H extends PasswordHashing = CountingHashing>(
    options: { roomsPerProgramMax?: number; limits?: Partial<typeof defaultPasswordLimits>; hashing?: H } = {},
  ) {
    const clock = { now: () => Date.now() };
    const hashing = (options.hashing ?? new CountingHashing()) as H;
    const service = new OnAirService(
      {
        store: new MemoryStore(clock),
        delivery: new RecordingDelivery(),
        records: { record: async () => {}, close: async () => {} },
        clock,
        ids: { roomId: () => `room${Math.random()}`, aggroUID: () => 'a', messageId: () => 'm' },
        log: pino({ level: 'silent' }),
        deadlines: new MemoryDeadlineIndex(),
        passwords: new PasswordGuard({ ...defaultPasswordLimits, ...options.limits }, clock, undefined, hashing),
      },
      { roomsPerProgramMax: options.roomsPerProgramMax ?? 10, aggroTtlMs: 30_000, aggroCooldownMs: 60_000, batchIntervalMs: 0 },
    );
    return { service, hashing };
  }
  const m = (n: string): Member => ({ userUID: `u-${n}`, displayName: n, socketId: `s-${n}` });

  it('createRoom with a password at ROOMS_PER_PROGRAM_MAX is EC002 without hashing', async () => {
    const { service, hashing } = setup({ roomsPerProgramMax: 1 });
    expect(await service.createRoom('p', m('a'), { title: 'One', max: 2 })).toMatchObject({ ok: true });
    expect(await service.createRoom('p', m('b'), { title: 'Two', max: 2, password: 'pw' })).toEqual({ ok: false, code: 'EC002' });
    expect(hashing.calls).toBe(0);
  });

  it('createRoom answers ER001 when the hash queue is full', async () => {
    const { service, hashing } = setup({ hashing: new HeldHashing(), limits: { hashConcurrency: 1, hashQueue: 0 } });
    const first = service.createRoom('p', m('a'), { title: 'One', max: 2, password: 'pw' });
    await settle();
    expect(await service.createRoom('p', m('b'), { title: 'Two', max: 2, password: 'pw' })).toEqual({ ok: false, code: 'ER001' });
    hashing.releaseAll();
    expect(await first).toMatchObject({ ok: true });
  });

  it('joinRoom of a full locked room is EJ002 without hashing', async () => {
    const { service, hashing } = setup();
    const made = await service.createRoom('p', m('a'), { title: 'Pair', max: 2, password: 'pw' });
    if (!made.ok) throw new Error(made.code);
    expect(await service.joinRoom('p', m('b'), { roomId: made.roomId, password: 'pw' })).toMatchObject({ ok: true });
    const before = hashing.calls;
    expect(await service.joinRoom('p', m('c'), { roomId: made.roomId, password: 'wrong' })).toEqual({ ok: false, code: 'EJ002' });
    expect(await service.joinRoom('p', m('c'), { roomId: made.roomId, password: 'pw' })).toEqual({ ok: false, code: 'EJ002' });
    expect(hashing.calls).toBe(before);
  });

  it('joinRoom past the wrong-password budget is ER001 without hashing', async () => {
    const { service, hashing } = setup();
    const made = await service.createRoom('p', m('a'), { title: 'Locked', max: 5, password: 'pw' });
    if (!made.ok) throw new Error(made.code);
    for (let i = 0; i < defaultPasswordLimits.failuresPerUser; i++) {
      expect(await service.joinRoom('p', m('x'), { roomId: made.roomId, password: `guess${i}` })).toEqual({ ok: false, code: 'EJ003' });
    }
    const before = hashing.calls;
    expect(await service.joinRoom('p', m('x'), { roomId: made.roomId, password: 'pw' })).toEqual({ ok: false, code: 'ER001' });
    expect(hashing.calls).toBe(before);
    expect(await service.joinRoom('p', m('y'), { roomId: made.roomId, password: 'pw' })).toMatchObject({ ok: true });
  });
});
