/**
 * Moderation state shared by every server, in Redis: each decision one Lua script, so a mute,
 * a slow-mode window or a duplicate is decided once for all servers. Keys sit under the
 * programme's hash tag (`<prefix>{p}:mod:…`), beside `RedisStore`'s; windows carry their own
 * PX expiry, so they end by themselves, and the rest expires `ttlMs` after its last write.
 */
import { createHash } from 'node:crypto';
import type { Admission, AdmitRules, IndexedMessage, ModerationStore, Mute, SlowMode } from '../../domain/ports/moderation-store.js';
import { programmeKey } from './keys.js';

export interface RedisModerationCommands {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const LIB = `
local base = KEYS[1]
local ttl = tonumber(ARGV[1])
local function active_mute(user, now)
  local raw = redis.call('HGET', base .. 'mutes', user)
  if not raw then return nil end
  local m = cjson.decode(raw)
  if m['until'] > now then return m end
  redis.call('HDEL', base .. 'mutes', user)
  return nil
end
`;

/** KEYS[2]: the state store's seats. ARGV: ttl, messageJson, textKey, now, duplicateWindowMs,
 * indexSize, socketId ('' to skip the seat check). */
const ADMIT = `${LIB}
local msg, key, now, dup, size, sid = cjson.decode(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
if sid ~= '' and redis.call('HGET', KEYS[2], sid) ~= msg.roomId then return cjson.encode({ ok = false, code = 'EM001' }) end
local m = active_mute(msg.userUID, now)
if m then return cjson.encode({ ok = false, code = 'EM004', ['until'] = m['until'] }) end
local slow = tonumber(redis.call('HGET', base .. 'slow', msg.roomId) or redis.call('HGET', base .. 'slow', '') or '0') * 1000
local lastKey = base .. 'last:' .. msg.roomId .. ':' .. msg.userUID
local last = redis.call('GET', lastKey)
if last then
  local sep = string.find(last, '|', 1, true)
  local at, text = tonumber(string.sub(last, 1, sep - 1)), string.sub(last, sep + 1)
  if slow > 0 and now - at < slow then return cjson.encode({ ok = false, code = 'EM005', retryAfterMs = at + slow - now }) end
  if dup > 0 and text == key and now - at < dup then return cjson.encode({ ok = false, code = 'EM006' }) end
end
local keep = math.max(slow, dup)
if keep > 0 then redis.call('SET', lastKey, tostring(now) .. '|' .. key, 'PX', keep) end
redis.call('HSET', base .. 'msg', msg.id, ARGV[2])
redis.call('RPUSH', base .. 'msgs', msg.id)
while redis.call('LLEN', base .. 'msgs') > size do
  local old = redis.call('LPOP', base .. 'msgs')
  redis.call('HDEL', base .. 'msg', old)
  redis.call('HDEL', base .. 'removed', old)
end
redis.call('PEXPIRE', base .. 'msg', ttl)
redis.call('PEXPIRE', base .. 'msgs', ttl)
return cjson.encode({ ok = true })
`;

/** ARGV: ttl, userUID, now. */
const MUTED_UNTIL = `${LIB}
local m = active_mute(ARGV[2], tonumber(ARGV[3]))
if m then return tostring(m['until']) end
return '0'
`;

/** ARGV: ttl, muteJson, now. The hash lives as long as its longest mute. */
const MUTE = `${LIB}
local m, now = cjson.decode(ARGV[2]), tonumber(ARGV[3])
if m['until'] <= now then return 'null' end
redis.call('HSET', base .. 'mutes', m.userUID, ARGV[2])
local left = redis.call('PTTL', base .. 'mutes')
if left < m['until'] - now then redis.call('PEXPIRE', base .. 'mutes', m['until'] - now) end
return 'null'
`;

/** ARGV: ttl, userUID, now. */
const UNMUTE = `${LIB}
local m = active_mute(ARGV[2], tonumber(ARGV[3]))
redis.call('HDEL', base .. 'mutes', ARGV[2])
if m then return 'true' end
return 'false'
`;

/** ARGV: ttl, now. */
const MUTES = `${LIB}
local now = tonumber(ARGV[2])
local out = {}
local all = redis.call('HGETALL', base .. 'mutes')
for i = 1, #all, 2 do
  local m = active_mute(all[i], now)
  if m then out[#out + 1] = all[i + 1] end
end
return '[' .. table.concat(out, ',') .. ']'
`;

/** ARGV: ttl, roomId ('' for the programme), seconds. */
const SET_SLOW = `${LIB}
if tonumber(ARGV[3]) > 0 then
  redis.call('HSET', base .. 'slow', ARGV[2], ARGV[3])
  redis.call('PEXPIRE', base .. 'slow', ttl)
else
  redis.call('HDEL', base .. 'slow', ARGV[2])
end
return 'null'
`;

/** ARGV: ttl, id. */
const CLAIM_REMOVAL = `${LIB}
local raw = redis.call('HGET', base .. 'msg', ARGV[2])
if not raw then return 'null' end
if redis.call('HSETNX', base .. 'removed', ARGV[2], '1') == 0 then return 'null' end
redis.call('PEXPIRE', base .. 'removed', ttl)
return raw
`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

export class RedisModeration implements ModerationStore {
  private readonly shas = new Map<string, string>();

  /** `ttlMs`: how long slow-mode settings and the message index outlive their last write. */
  constructor(
    private readonly redis: RedisModerationCommands & { hGetAll(key: string): Promise<Record<string, string>>; hGet(key: string, field: string): Promise<unknown>; del(keys: string[]): Promise<unknown> },
    private readonly options: { prefix: string; ttlMs: number },
  ) {}

  private base(p: string): string {
    return programmeKey(this.options.prefix, p, 'mod:');
  }

  private run(script: string, p: string, ...args: (string | number)[]): Promise<string> {
    return this.runWith(script, [this.base(p)], args);
  }

  private async runWith(script: string, keys: string[], args: (string | number)[]): Promise<string> {
    let sha = this.shas.get(script);
    if (!sha) {
      sha = sha1(script);
      this.shas.set(script, sha);
    }
    const options = { keys, arguments: [String(this.options.ttlMs), ...args.map(String)] };
    try {
      return (await this.redis.evalSha(sha, options)) as string;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return (await this.redis.eval(script, options)) as string;
    }
  }

  async admit(p: string, message: IndexedMessage, textKey: string, now: number, rules: AdmitRules, seat?: { socketId: string }): Promise<Admission> {
    const keys = [this.base(p), programmeKey(this.options.prefix, p, 'seats')];
    return JSON.parse(await this.runWith(ADMIT, keys, [JSON.stringify(message), textKey, now, rules.duplicateWindowMs, rules.indexSize, seat?.socketId ?? ''])) as Admission;
  }

  async mutedUntil(p: string, userUID: string, now: number): Promise<number> {
    return Number(await this.run(MUTED_UNTIL, p, userUID, now));
  }

  async mute(p: string, mute: Mute, now: number): Promise<void> {
    await this.run(MUTE, p, JSON.stringify(mute), now);
  }

  async unmute(p: string, userUID: string, now: number): Promise<boolean> {
    return (await this.run(UNMUTE, p, userUID, now)) === 'true';
  }

  async mutes(p: string, now: number): Promise<Mute[]> {
    const all = JSON.parse(await this.run(MUTES, p, now)) as Mute[];
    return all.sort((a, b) => a.until - b.until || (a.userUID < b.userUID ? -1 : 1));
  }

  async setSlowMode(p: string, roomId: string | null, seconds: number): Promise<void> {
    await this.run(SET_SLOW, p, roomId ?? '', seconds);
  }

  async slowModes(p: string): Promise<SlowMode[]> {
    const all = await this.redis.hGetAll(`${this.base(p)}slow`);
    return Object.entries(all).map(([roomId, seconds]) => ({ roomId: roomId || null, seconds: Number(seconds) }));
  }

  async message(p: string, id: string): Promise<IndexedMessage | null> {
    const raw = (await this.redis.hGet(`${this.base(p)}msg`, id)) as string | null;
    return raw ? (JSON.parse(raw) as IndexedMessage) : null;
  }

  async claimRemoval(p: string, id: string): Promise<IndexedMessage | null> {
    return JSON.parse(await this.run(CLAIM_REMOVAL, p, id)) as IndexedMessage | null;
  }

  async forget(p: string): Promise<void> {
    const b = this.base(p);
    await this.redis.del([`${b}mutes`, `${b}slow`, `${b}msg`, `${b}msgs`, `${b}removed`]);
  }
}
