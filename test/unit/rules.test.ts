/**
 * Rules that stand on their own: rate limits, text normalisation, payload schemas, password
 * hashing, aggro helpers, configuration and the error catalogue.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { aggroMessage, aggroRecord, finalPointDelay, newAggro } from '../../src/domain/aggro.js';
import type { LiveAggro } from '../../src/domain/model.js';
import { hashPassword, verifyPassword } from '../../src/domain/password.js';
import { KeyedRateLimiter, TokenBucket } from '../../src/domain/rate-limit.js';
import { ErrorCode, errorMessages } from '../../src/protocol/errors.js';
import { createSchemas, identitySchema, parsePayload } from '../../src/protocol/schemas.js';
import { cleanLine, cleanMessage, codePointLength, hasForbiddenKeys } from '../../src/protocol/text.js';

function manualClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

const EMOJI = '😀'; // one code point, two UTF-16 units

// ---- rate limits --------------------------------------------------------------------------

describe('TokenBucket', () => {
  it('allows a burst, then refuses until tokens refill at the rate', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(2, 3, clock); // 2 a second, burst 3
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true]);
    expect(bucket.take()).toBe(false);
    clock.advance(499); // 0.998 of a token
    expect(bucket.take()).toBe(false);
    clock.advance(1);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('refills no further than the burst', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(10, 2, clock);
    clock.advance(60_000);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  it('a sustained rate above the limit gets exactly the rate through', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(5, 5, clock);
    let passed = 0;
    for (let i = 0; i < 1000; i++) {
      // 100 attempts a second for 10 seconds
      if (bucket.take()) passed++;
      clock.advance(10);
    }
    // burst (5) + 10 s x 5/s, give or take the last partial token
    expect(passed).toBeGreaterThanOrEqual(54);
    expect(passed).toBeLessThanOrEqual(55);
  });

  it('isIdle is true only when the bucket is full again', () => {
    const clock = manualClock();
    const bucket = new TokenBucket(1, 2, clock);
    expect(bucket.isIdle()).toBe(true);
    bucket.take();
    expect(bucket.isIdle()).toBe(false);
    clock.advance(999);
    expect(bucket.isIdle()).toBe(false);
    clock.advance(1);
    expect(bucket.isIdle()).toBe(true);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const clock = manualClock();
    const limiter = new KeyedRateLimiter(1, 2, clock);
    expect([limiter.take('10.0.0.1'), limiter.take('10.0.0.1'), limiter.take('10.0.0.1')]).toEqual([true, true, false]);
    expect(limiter.take('10.0.0.2')).toBe(true);
    clock.advance(1000);
    expect(limiter.take('10.0.0.1')).toBe(true);
    expect(limiter.take('10.0.0.1')).toBe(false);
  });

  it('prune forgets only full buckets: an exhausted key stays limited', () => {
    const clock = manualClock();
    const limiter = new KeyedRateLimiter(1, 2, clock);
    limiter.take('busy');
    limiter.take('busy');
    limiter.take('idle');
    clock.advance(1000); // 'idle' is full again, 'busy' has one token
    limiter.prune();
    expect(limiter.take('busy')).toBe(true);
    expect(limiter.take('busy')).toBe(false);
    expect([limiter.take('idle'), limiter.take('idle'), limiter.take('idle')]).toEqual([true, true, false]);
  });

  it('stays correct with more keys than the pruning threshold', () => {
    const clock = manualClock();
    const limiter = new KeyedRateLimiter(1, 1, clock);
    expect(limiter.take('hot')).toBe(true);
    for (let i = 0; i < 10_050; i++) limiter.take(`k${i}`);
    // The hot key was not full (no time passed): pruning must not have reset it.
    expect(limiter.take('hot')).toBe(false);
  });
});

// ---- text ---------------------------------------------------------------------------------

describe('text rules', () => {
  it('codePointLength counts code points, so an emoji is one character', () => {
    expect(codePointLength('')).toBe(0);
    expect(codePointLength('abc')).toBe(3);
    expect(EMOJI.length).toBe(2);
    expect(codePointLength(EMOJI)).toBe(1);
    expect(codePointLength(`a${EMOJI}b`)).toBe(3);
    expect(codePointLength('한국어')).toBe(3);
  });

  it('cleanLine normalises to NFC, drops bidi marks and trims; a control character makes it null', () => {
    expect(cleanLine('  Quiz night  ')).toBe('Quiz night');
    expect(cleanLine('Cafe\u0301')).toBe('Café');
    expect(cleanLine('Cafe\u0301')).toHaveLength(4);
    expect(cleanLine('\u202Eevil\u202C')).toBe('evil');
    expect(cleanLine('a\u2066b\u2069\u200Ec\u200F')).toBe('abc');
    expect(cleanLine('a\u0000b')).toBeNull();
    expect(cleanLine('a\nb')).toBeNull();
    expect(cleanLine('a\tb')).toBeNull();
    expect(cleanLine('a\u0085b')).toBeNull();
    expect(cleanLine('   ')).toBeNull();
  });

  it('cleanMessage strips controls (keeping newline and tab) and bidi overrides, then trims', () => {
    expect(cleanMessage('  hi  ')).toBe('hi');
    expect(cleanMessage('a\u0000b\u0007c\u001Bd\u007Fe\u0085f\u009Fg')).toBe('abcdefg');
    expect(cleanMessage('line1\nline2\tend')).toBe('line1\nline2\tend');
    expect(cleanMessage('\u202Egnp.exe\u202C')).toBe('gnp.exe');
    expect(cleanMessage('x\u202Ay\u202Bz\u202D\u2066\u2067\u2068\u2069\u200E\u200F')).toBe('xyz');
    expect(cleanMessage('e\u0301')).toBe('é');
    expect(cleanMessage('\u0000 \u202E ')).toBe('');
  });

  it('hasForbiddenKeys finds prototype keys at the top, nested, and inside arrays', () => {
    expect(hasForbiddenKeys(JSON.parse('{"__proto__":{"admin":true}}'))).toBe(true);
    expect(hasForbiddenKeys({ constructor: { prototype: {} } })).toBe(true);
    expect(hasForbiddenKeys({ prototype: 1 })).toBe(true);
    expect(hasForbiddenKeys(JSON.parse('{"a":{"b":{"__proto__":{}}}}'))).toBe(true);
    expect(hasForbiddenKeys(JSON.parse('[{"ok":1},{"__proto__":{}}]'))).toBe(true);
    expect(hasForbiddenKeys(JSON.parse('{"list":[1,2,{"constructor":{}}]}'))).toBe(true);
    expect(hasForbiddenKeys(JSON.parse('[[{"prototype":0}]]'))).toBe(true);
  });

  it('hasForbiddenKeys passes ordinary payloads and primitives', () => {
    expect(hasForbiddenKeys({ title: 'x', max: 3, nested: { list: [1, { a: 'b' }] } })).toBe(false);
    expect(hasForbiddenKeys({ title: '__proto__' })).toBe(false); // a value, not a key
    for (const v of [null, undefined, 1, 'str', true, [], {}]) expect(hasForbiddenKeys(v)).toBe(false);
  });
});

// ---- schemas ------------------------------------------------------------------------------

describe('payload schemas', () => {
  const s = createSchemas();
  const ok = <T>(r: { ok: true; value: T } | { ok: false; reason: string }): T => {
    if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
    return r.value;
  };

  describe('createRoom', () => {
    it('accepts a room and trims its title', () => {
      expect(ok(parsePayload(s.createRoom, { title: '  Quiz  ', max: 5 }))).toEqual({ title: 'Quiz', max: 5 });
    });

    it('bounds the title in code points: 40 emoji pass, 41 do not; empty or control-laden titles fail', () => {
      expect(ok(parsePayload(s.createRoom, { title: EMOJI.repeat(40), max: 5 })).title).toBe(EMOJI.repeat(40));
      expect(parsePayload(s.createRoom, { title: EMOJI.repeat(41), max: 5 }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'a'.repeat(41), max: 5 }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: '   ', max: 5 }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'a\u0000b', max: 5 }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'a\nb', max: 5 }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 5, max: 5 }).ok).toBe(false);
    });

    it('bounds max to integers 2..ROOM_MAX_LIMIT', () => {
      for (const max of [2, 120]) expect(parsePayload(s.createRoom, { title: 'x', max }).ok).toBe(true);
      for (const max of [1, 121, 2.5, '5', null, Number.NaN]) expect(parsePayload(s.createRoom, { title: 'x', max }).ok).toBe(false);
      const small = createSchemas({ roomMaxLimit: 10, chatMaxLength: 300 });
      expect(parsePayload(small.createRoom, { title: 'x', max: 10 }).ok).toBe(true);
      expect(parsePayload(small.createRoom, { title: 'x', max: 11 }).ok).toBe(false);
    });

    it("treats password '' and null as no password; bounds it to 1-32 code points without controls", () => {
      expect(ok(parsePayload(s.createRoom, { title: 'x', max: 5, password: '' })).password).toBeUndefined();
      expect(ok(parsePayload(s.createRoom, { title: 'x', max: 5, password: null })).password).toBeUndefined();
      expect(ok(parsePayload(s.createRoom, { title: 'x', max: 5, password: EMOJI.repeat(32) })).password).toBe(EMOJI.repeat(32));
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, password: EMOJI.repeat(33) }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, password: 'a'.repeat(33) }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, password: 'a\u0001b' }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, password: 1234 }).ok).toBe(false);
    });

    it('checks scheduleUID against the namespace pattern', () => {
      expect(ok(parsePayload(s.createRoom, { title: 'x', max: 5, scheduleUID: 'Prog_1-a' })).scheduleUID).toBe('Prog_1-a');
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, scheduleUID: 'no/slash' }).ok).toBe(false);
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, scheduleUID: 'a'.repeat(65) }).ok).toBe(false);
    });

    it('strips extra keys', () => {
      const v = ok(parsePayload(s.createRoom, { title: 'x', max: 5, userUID: 'spoof', persistent: true }));
      expect(v).toEqual({ title: 'x', max: 5 });
    });

    it('refuses `__proto__`, `constructor` and `prototype` keys, also nested', () => {
      expect(parsePayload(s.createRoom, JSON.parse('{"title":"x","max":5,"__proto__":{"polluted":true}}'))).toMatchObject({
        ok: false,
      });
      expect(parsePayload(s.createRoom, { title: 'x', max: 5, extra: { constructor: { prototype: {} } } }).ok).toBe(false);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('joinRoom, leaveRoom and vote', () => {
    it('joinRoom: an id and an optional password', () => {
      expect(ok(parsePayload(s.joinRoom, { roomId: 'abc_D-9' }))).toEqual({ roomId: 'abc_D-9' });
      expect(ok(parsePayload(s.joinRoom, { roomId: 'r', password: '' })).password).toBeUndefined();
      expect(ok(parsePayload(s.joinRoom, { roomId: 'r', password: 'pw' })).password).toBe('pw');
      for (const roomId of ['', 'a b', 'a/b', 'a'.repeat(65), 12]) expect(parsePayload(s.joinRoom, { roomId }).ok).toBe(false);
    });

    it('leaveRoom: a bare string (the seed) or { roomId }', () => {
      expect(ok(parsePayload(s.leaveRoom, 'room1'))).toBe('room1');
      expect(ok(parsePayload(s.leaveRoom, { roomId: 'room1' }))).toBe('room1');
      expect(ok(parsePayload(s.leaveRoom, { roomId: 'room1', extra: 1 }))).toBe('room1');
      for (const bad of [undefined, null, 7, '', 'a b', { roomId: 7 }, {}, ['room1']]) expect(parsePayload(s.leaveRoom, bad).ok).toBe(false);
    });

    it('vote: a bare string or { aggroUID }', () => {
      expect(ok(parsePayload(s.vote, 'aggro1'))).toBe('aggro1');
      expect(ok(parsePayload(s.vote, { aggroUID: 'aggro1' }))).toBe('aggro1');
      for (const bad of [undefined, 1, { roomId: 'aggro1' }, { aggroUID: '' }, 'x y']) expect(parsePayload(s.vote, bad).ok).toBe(false);
    });

    it('parsePayload never throws on hostile input', () => {
      const cyclic: Record<string, unknown> = { roomId: 'r' };
      cyclic.self = cyclic;
      for (const raw of [undefined, null, 0, 'x', [], [1, 2], cyclic, Object.create(null) as object]) {
        for (const schema of Object.values(s)) expect(() => parsePayload(schema, raw)).not.toThrow();
      }
    });
  });

  describe('chat', () => {
    it('trims and cleans the message; bounds it in code points to CHAT_MAX_LENGTH', () => {
      expect(ok(parsePayload(s.chat, { roomId: 'r', type: 'N', msg: '  hi\u0000 there \u202E ' })).msg).toBe('hi there');
      expect(ok(parsePayload(s.chat, { roomId: 'r', type: 'N', msg: EMOJI.repeat(300) })).msg).toBe(EMOJI.repeat(300));
      expect(parsePayload(s.chat, { roomId: 'r', type: 'N', msg: EMOJI.repeat(301) }).ok).toBe(false);
      expect(parsePayload(s.chat, { roomId: 'r', type: 'N', msg: ' \u0000 ' }).ok).toBe(false);
      const short = createSchemas({ roomMaxLimit: 120, chatMaxLength: 5 });
      expect(parsePayload(short.chat, { roomId: 'r', type: 'N', msg: '12345' }).ok).toBe(true);
      expect(parsePayload(short.chat, { roomId: 'r', type: 'N', msg: '123456' }).ok).toBe(false);
    });

    it('knows the types N, A and AP only', () => {
      for (const type of ['N', 'A', 'AP']) expect(parsePayload(s.chat, { roomId: 'r', type, msg: 'x' }).ok).toBe(true);
      for (const type of ['X', 'n', '', undefined]) expect(parsePayload(s.chat, { roomId: 'r', type, msg: 'x' }).ok).toBe(false);
    });

    it("titleBroad: '' and null mean none; at most 100 characters", () => {
      expect(ok(parsePayload(s.chat, { roomId: 'r', type: 'A', msg: 'x', titleBroad: '' })).titleBroad).toBeUndefined();
      expect(ok(parsePayload(s.chat, { roomId: 'r', type: 'A', msg: 'x', titleBroad: null })).titleBroad).toBeUndefined();
      expect(ok(parsePayload(s.chat, { roomId: 'r', type: 'A', msg: 'x', titleBroad: ' News_KBS ' })).titleBroad).toBe('News_KBS');
      expect(parsePayload(s.chat, { roomId: 'r', type: 'A', msg: 'x', titleBroad: 'a'.repeat(101) }).ok).toBe(false);
    });

    it('drops identity fields a client puts in the payload', () => {
      const v = ok(parsePayload(s.chat, { roomId: 'r', type: 'N', msg: 'x', userUID: 'spoof', displayName: 'Admin', photoURL: 'x' }));
      expect(v).toEqual({ roomId: 'r', type: 'N', msg: 'x' });
    });
  });

  describe('identitySchema', () => {
    it('accepts a seed identity and trims the display name', () => {
      expect(identitySchema.parse({ userUID: 'uid-1', displayName: '  Kim  ', photoURL: 'https://x.example/p.png' })).toEqual({
        userUID: 'uid-1',
        displayName: 'Kim',
        photoURL: 'https://x.example/p.png',
      });
    });

    it('userUID: 1-128 characters, no whitespace or controls', () => {
      expect(identitySchema.safeParse({ userUID: 'u'.repeat(128), displayName: 'x' }).success).toBe(true);
      for (const userUID of ['', 'u'.repeat(129), 'a b', 'a\tb', 'a\u0000b', 42]) {
        expect(identitySchema.safeParse({ userUID, displayName: 'x' }).success).toBe(false);
      }
    });

    it('displayName: 1-30 code points after trimming, no controls', () => {
      expect(identitySchema.safeParse({ userUID: 'u', displayName: EMOJI.repeat(30) }).success).toBe(true);
      for (const displayName of [EMOJI.repeat(31), '   ', 'a\nb', '']) {
        expect(identitySchema.safeParse({ userUID: 'u', displayName }).success).toBe(false);
      }
    });

    it("photoURL: optional ('', null, 'null', 'undefined' mean none), http(s) only, at most 512", () => {
      for (const photoURL of ['', null, 'null', 'undefined', undefined]) {
        expect(identitySchema.parse({ userUID: 'u', displayName: 'x', photoURL }).photoURL).toBeUndefined();
      }
      const long = `https://x.example/${'a'.repeat(512 - 18)}`;
      expect(long).toHaveLength(512);
      expect(identitySchema.safeParse({ userUID: 'u', displayName: 'x', photoURL: long }).success).toBe(true);
      for (const photoURL of [`${long}a`, 'javascript:alert(1)', 'ftp://x.example/p', 'https://x y', 'data:image/png;base64,AA']) {
        expect(identitySchema.safeParse({ userUID: 'u', displayName: 'x', photoURL }).success).toBe(false);
      }
    });
  });
});

// ---- passwords ----------------------------------------------------------------------------

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('sesame 🔑');
    expect(await verifyPassword('sesame 🔑', stored)).toBe(true);
    expect(await verifyPassword('sesame', stored)).toBe(false);
    expect(await verifyPassword('Sesame 🔑', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: the same password hashes differently each time, and never appears in the hash', async () => {
    const [h1, h2] = await Promise.all([hashPassword('hunter2'), hashPassword('hunter2')]);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('hunter2');
    expect(await verifyPassword('hunter2', h1)).toBe(true);
    expect(await verifyPassword('hunter2', h2)).toBe(true);
  });

  it('a malformed stored value verifies nothing', async () => {
    const good = await hashPassword('pw');
    const [, salt, key] = good.split('$');
    for (const stored of ['', 'pw', 'scrypt', 'scrypt$$', `scrypt$${salt}$`, `scrypt$$${key}`, `bcrypt$${salt}$${key}`, `scrypt$${salt}$${key}AA`]) {
      expect(await verifyPassword('pw', stored)).toBe(false);
    }
  });
});

// ---- aggro helpers ------------------------------------------------------------------------

describe('aggro helpers', () => {
  const author = { userUID: 'u1', displayName: 'Kim', photoURL: 'https://x.example/k.png' };
  const base = { aggroUID: 'ag1', roomId: 'r1', msg: 'Goal!', type: 'A' as const, now: 1000, ttlMs: 30_000 };

  it('newAggro starts at point 0, expires after the TTL and counts the aggro event as sent', () => {
    const a = newAggro({ ...base, author, titleBroad: 'News_KBS' });
    expect(a).toEqual({
      aggroUID: 'ag1',
      roomId: 'r1',
      userUID: 'u1',
      displayName: 'Kim',
      photoURL: 'https://x.example/k.png',
      msg: 'Goal!',
      type: 'A',
      titleBroad: 'News_KBS',
      point: 0,
      up: 0,
      down: 0,
      startedAt: 1000,
      expiresAt: 31_000,
      pointSent: 0,
      pointSentAt: 1000,
    });
    const bare = newAggro({ ...base, author: { userUID: 'u2', displayName: 'Lee' }, titleBroad: undefined });
    expect(bare).not.toHaveProperty('photoURL');
    expect(bare).not.toHaveProperty('titleBroad');
  });

  it('aggroMessage carries the wire fields only (no titleBroad, no counters)', () => {
    const a: LiveAggro = { ...newAggro({ ...base, author, titleBroad: 'News_KBS' }), point: 3, up: 4, down: 1 };
    expect(aggroMessage(a)).toEqual({
      displayName: 'Kim',
      msg: 'Goal!',
      roomId: 'r1',
      type: 'A',
      userUID: 'u1',
      aggroUID: 'ag1',
      photoURL: 'https://x.example/k.png',
      point: 3,
      ts: 1000,
      expiresAt: 31_000,
    });
    expect(aggroMessage(newAggro({ ...base, author: { userUID: 'u2', displayName: 'Lee' }, titleBroad: undefined }))).not.toHaveProperty(
      'photoURL',
    );
  });

  it('aggroRecord keeps what the admin API lists, with the end time and reason', () => {
    const a: LiveAggro = { ...newAggro({ ...base, type: 'AP', author, titleBroad: 'News_KBS' }), point: -2, up: 1, down: 3 };
    expect(aggroRecord('prog1', a, 5000, 'room_emptied')).toEqual({
      aggroUID: 'ag1',
      scheduleUID: 'prog1',
      roomId: 'r1',
      userUID: 'u1',
      displayName: 'Kim',
      // The public list of a programme's best shows it (spec section 10).
      photoURL: 'https://x.example/k.png',
      msg: 'Goal!',
      type: 'AP',
      titleBroad: 'News_KBS',
      point: -2,
      up: 1,
      down: 3,
      startedAt: 1000,
      endedAt: 5000,
      endReason: 'room_emptied',
    });
    expect(aggroRecord('p', newAggro({ ...base, author, titleBroad: undefined }), 2000, 'expired')).not.toHaveProperty('titleBroad');
    expect(aggroRecord('p', newAggro({ ...base, author: { userUID: 'u2', displayName: 'Lee' }, titleBroad: undefined }), 2000, 'expired')).not.toHaveProperty('photoURL');
  });

  it('finalPointDelay keeps one interval after the last aggroPoint, and is 0 without batching', () => {
    const a: LiveAggro = { ...newAggro({ ...base, author, titleBroad: undefined }), pointSentAt: 10_000 };
    expect(finalPointDelay(a, 10_100, 500)).toBe(400);
    expect(finalPointDelay(a, 10_500, 500)).toBe(0);
    expect(finalPointDelay(a, 20_000, 500)).toBe(0);
    expect(finalPointDelay(a, 10_000, 500)).toBe(500);
    expect(finalPointDelay(a, 10_100, 0)).toBe(0);
  });
});

// ---- configuration ------------------------------------------------------------------------

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('defaults match the spec (section 8) outside production', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      production: false,
      port: 8443,
      host: '0.0.0.0',
      socketPath: '/socket.io',
      roomMaxLimit: 120,
      roomsPerProgramMax: 20_000,
      lobbyViewSize: 100,
      chatMaxLength: 300,
      aggroTtlMs: 30_000,
      aggroCooldownMs: 60_000,
      batchIntervalMs: 500,
      nodeTimeoutMs: 15_000,
      dataDir: './data',
      auth: { mode: 'dev' },
      tls: { enabled: true },
      transports: ['polling', 'websocket'],
      corsOrigins: null,
      scheduleMode: 'open',
    });
    expect(c.redisUrl).toBeUndefined();
    expect(c.databaseUrl).toBeUndefined();
    expect(c.adminToken).toBeUndefined();
  });

  it('reads valid values', () => {
    const c = loadConfig({
      PORT: ' 9000 ',
      HOST: '127.0.0.1',
      SOCKET_PATH: '/jg',
      TRANSPORTS: 'websocket',
      TLS: 'off',
      CORS_ORIGINS: 'https://a.example, http://b.example:8080',
      BATCH_INTERVAL_MS: '0',
      AGGRO_COOLDOWN_MS: '0',
      ROOM_MAX_LIMIT: '50',
      REDIS_URL: 'redis://localhost:6379',
      DATA_DIR: '/tmp/onair',
    });
    expect(c).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      socketPath: '/jg',
      transports: ['websocket'],
      tls: { enabled: false },
      corsOrigins: ['https://a.example', 'http://b.example:8080'],
      batchIntervalMs: 0,
      aggroCooldownMs: 0,
      roomMaxLimit: 50,
      redisUrl: 'redis://localhost:6379',
      dataDir: '/tmp/onair',
    });
  });

  it('REDIS_CLUSTER_NODES: some nodes of a Redis Cluster, comma-separated, instead of REDIS_URL', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: ' redis://10.0.0.1:7000, redis://:pw@10.0.0.2:7000 ' });
    expect(c.redisClusterNodes).toEqual(['redis://10.0.0.1:7000', 'redis://:pw@10.0.0.2:7000']);
    expect(c.redisUrl).toBeUndefined();
    // A node URL may carry the password: never echoed.
    expect(configError({ REDIS_CLUSTER_NODES: 'redis://:s3cret@h:1,nope' }).message).not.toContain('s3cret');
  });

  it('uses jwt in production and takes one key source', () => {
    const secret = 'x'.repeat(32);
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, JWT_ISSUER: 'iss', JWT_AUDIENCE: 'aud' });
    expect(c.production).toBe(true);
    expect(c.auth).toEqual({ mode: 'jwt', key: { kind: 'secret', secret }, issuer: 'iss', audience: 'aud', clockToleranceS: 30, cacheSize: 20_000 });
  });

  const bad: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['HOST', { HOST: '  ' }],
    ['TLS', { TLS: 'maybe' }],
    ['TLS_CERT', { TLS_CERT: '/etc/cert.pem' }],
    ['SOCKET_PATH', { SOCKET_PATH: 'socket.io' }],
    ['SOCKET_PATH', { SOCKET_PATH: '/a b' }],
    ['TRANSPORTS', { TRANSPORTS: 'ws' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'a.example' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'perhaps' }],
    ['AUTH_MODE', { AUTH_MODE: 'none' }],
    ['AUTH_MODE', { NODE_ENV: 'production', AUTH_MODE: 'dev', JWT_SECRET: 'x'.repeat(32) }],
    ['AUTH_MODE', { NODE_ENV: 'production' }],
    ['AUTH_MODE', { AUTH_MODE: 'jwt', JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://k.example/jwks' }],
    ['JWT_JWKS_URL', { AUTH_MODE: 'jwt', JWT_JWKS_URL: 'ftp://k.example/jwks' }],
    ['JWT_SECRET', { AUTH_MODE: 'jwt', JWT_SECRET: 'short' }],
    ['ROOM_MAX_LIMIT', { ROOM_MAX_LIMIT: '1' }],
    ['ROOMS_PER_PROGRAM_MAX', { ROOMS_PER_PROGRAM_MAX: '0' }],
    ['CHAT_MAX_LENGTH', { CHAT_MAX_LENGTH: '0' }],
    ['AGGRO_TTL_MS', { AGGRO_TTL_MS: '-5' }],
    ['AGGRO_COOLDOWN_MS', { AGGRO_COOLDOWN_MS: '1.5' }],
    ['BATCH_INTERVAL_MS', { BATCH_INTERVAL_MS: '60001' }],
    ['EVENT_RATE', { EVENT_RATE: '0' }],
    ['EVENT_BURST', { EVENT_BURST: 'many' }],
    ['HANDSHAKE_RATE', { HANDSHAKE_RATE: '0' }],
    ['HANDSHAKE_BURST', { HANDSHAKE_BURST: '0' }],
    ['MAX_PAYLOAD_BYTES', { MAX_PAYLOAD_BYTES: '100' }],
    ['MAX_PAYLOAD_BYTES', { MAX_PAYLOAD_BYTES: '1000000' }],
    ['NODE_TIMEOUT_MS', { NODE_TIMEOUT_MS: '50' }],
    ['REDIS_SILENCE_MS', { REDIS_SILENCE_MS: '50' }],
    ['REDIS_SILENCE_MS', { REDIS_SILENCE_MS: '120000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000,10.0.0.2:7000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'http://10.0.0.1:7000' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: ' , ' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000', REDIS_URL: 'redis://10.0.0.9:6379' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000,rediss://10.0.0.2:7000' }],
    ['DATA_DIR', { DATA_DIR: '  ' }],
    ['SCHEDULE_MODE', { SCHEDULE_MODE: 'loose' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }],
    ['SHUTDOWN_TIMEOUT_MS', { SHUTDOWN_TIMEOUT_MS: '1' }],
    ['SHUTDOWN_SPREAD_MS', { SHUTDOWN_SPREAD_MS: '10000' }],
    ['SHUTDOWN_SPREAD_MS', { SHUTDOWN_TIMEOUT_MS: '3000' }],
    ['SHUTDOWN_SPREAD_MS', { SHUTDOWN_SPREAD_MS: '-1' }],
  ];

  it.each(bad)('a bad %s stops the start with a ConfigError naming it (%j)', (name, env) => {
    const err = configError(env);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
    expect(err.problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
  });

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'x', LOG_LEVEL: 'loud', SCHEDULE_MODE: 'half' });
    for (const name of ['PORT', 'LOG_LEVEL', 'SCHEDULE_MODE']) expect(err.message).toContain(name);
  });

  it('never echoes a secret in the error', () => {
    const secret = 'TopSecretButTooShort-123';
    const token = 'admin-token-value-9876';
    const weak = configError({ AUTH_MODE: 'jwt', JWT_SECRET: secret, ADMIN_TOKEN: token });
    expect(weak.message).toContain('JWT_SECRET');
    expect(weak.message).not.toContain(secret);
    expect(weak.message).not.toContain(token);
    // Beside another bad value, the secrets stay out of the message too (the bad value itself may show).
    const other = configError({ AUTH_MODE: 'jwt', JWT_SECRET: secret, ADMIN_TOKEN: token, PORT: 'bad' });
    expect(other.message).toContain('PORT');
    expect(other.message).not.toContain(secret);
    expect(other.message).not.toContain(token);
  });
});

// ---- error catalogue ----------------------------------------------------------------------

describe('error catalogue', () => {
  // The table of spec section 2.
  const SPEC_CODES = ['EV001', 'ER001', 'EJ001', 'EJ002', 'EJ003', 'EJ004', 'EJ005', 'EC001', 'EC002', 'EM001', 'EM002', 'EM003', 'EM004', 'EM005', 'EM006', 'EO001', 'EA001', 'EA002', 'EA003', 'EA004', 'ES001'];

  it('holds exactly the codes of the spec, each naming itself', () => {
    expect(Object.keys(ErrorCode).sort()).toEqual([...SPEC_CODES].sort());
    for (const [k, v] of Object.entries(ErrorCode)) expect(v).toBe(k);
  });

  it('has a human message for every code, and only for those', () => {
    expect(Object.keys(errorMessages).sort()).toEqual([...SPEC_CODES].sort());
    for (const code of SPEC_CODES) {
      const message = errorMessages[code as ErrorCode];
      expect(typeof message).toBe('string');
      expect(message.trim().length).toBeGreaterThan(0);
    }
    expect(new Set(Object.values(errorMessages)).size).toBe(SPEC_CODES.length);
  });
});

describe('well-formed text', () => {
  it('refuses payloads holding a lone surrogate anywhere, accepts paired ones', async () => {
    const { createSchemas, parsePayload, identitySchema } = await import('../../src/protocol/index.js');
    const s = createSchemas();
    expect(parsePayload(s.createRoom, { title: 'ok \u{1F600}', max: 3 }).ok).toBe(true);
    expect(parsePayload(s.createRoom, { title: 'bad \uD800', max: 3 }).ok).toBe(false);
    expect(parsePayload(s.chat, { roomId: 'abc', type: 'N', msg: 'x\uDC00y' }).ok).toBe(false);
    expect(parsePayload(s.chat, { roomId: 'abc', type: 'N', msg: 'hi', ['k\uD800']: 1 }).ok).toBe(false);
    expect(parsePayload(identitySchema, { userUID: 'u\uD800', displayName: 'x' }).ok).toBe(false);
    expect(parsePayload(identitySchema, { userUID: 'u', displayName: 'x\uDBFF' }).ok).toBe(false);
  });
});
