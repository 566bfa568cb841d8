/** The scripts of sessions held through a blip (spec 7.1). Each is one atomic decision, as every
 * script (`scripts.ts`): a resume and the grace's end on any two servers never both win. Keys
 * beside `sessions` (user → socket id): `conns` (user → the session's connection token) and
 * `holds` (user → JSON `{ socketId, since, until }` while held). */
import { script } from './scripts.js';

/** ARGV: ttl, lobby, roomPrefix, userUID, socketId, memberJson, conn. */
export const RESUME_SESSION = script(`
local uid, sid, mjson, conn = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local prev = redis.call('HGET', base .. 'sessions', uid)
local hold = redis.call('HGET', base .. 'holds', uid)
redis.call('HSET', base .. 'sessions', uid, sid)
redis.call('HSET', base .. 'conns', uid, conn)
redis.call('HDEL', base .. 'holds', uid)
touch('sessions', 'conns')
local out = {}
if prev and prev ~= sid then
  out.previous = prev
  -- The seat passes on in place: same room, same count, nothing announced.
  local rid = redis.call('HGET', base .. 'seats', prev)
  if rid and redis.call('HEXISTS', base .. 'members:' .. rid, prev) == 1 and not redis.call('HGET', base .. 'seats', sid) then
    local okey = base .. 'order:' .. rid
    local since = redis.call('ZSCORE', okey, prev)
    redis.call('HDEL', base .. 'members:' .. rid, prev)
    redis.call('HDEL', base .. 'seats', prev)
    seat(rid, sid, mjson)
    -- The member keeps its place in the arrival order (the owner's heir is the longest present).
    redis.call('ZREM', okey, prev)
    if since then redis.call('ZADD', okey, since, sid) end
  end
end
local now_in = redis.call('HGET', base .. 'seats', sid)
if now_in then out.roomId = now_in end
if hold then out.heldSince = cjson.decode(hold).since end
return cjson.encode(out)
`);

/** ARGV: ttl, lobby, roomPrefix, userUID, socketId, conn ('' for any, `<nodeId>/*` for a
 * server's), holdJson. */
export const HOLD_SESSION = script(`
local uid, sid, conn = ARGV[4], ARGV[5], ARGV[6]
local current = redis.call('HGET', base .. 'sessions', uid)
if not current then return 'none' end
if current ~= sid then return 'replaced' end
local cur = redis.call('HGET', base .. 'conns', uid)
if conn ~= '' then
  if string.sub(conn, -2) == '/*' then
    local prefix = string.sub(conn, 1, -2)
    if cur and string.sub(cur, 1, #prefix) ~= prefix then return 'replaced' end
  elseif cur ~= conn then return 'replaced' end
end
redis.call('HSET', base .. 'holds', uid, ARGV[7])
touch('holds')
return 'held'
`);

/** ARGV: ttl, lobby, roomPrefix, userUID, socketId, now ('inf' for whatever is left). */
export const EXPIRE_SESSION = script(`
local uid, sid = ARGV[4], ARGV[5]
local raw = redis.call('HGET', base .. 'holds', uid)
if not raw or redis.call('HGET', base .. 'sessions', uid) ~= sid then return cjson.encode({ state = 'gone' }) end
local hold = cjson.decode(raw)
if hold.socketId ~= sid then return cjson.encode({ state = 'gone' }) end
if ARGV[6] ~= 'inf' and hold['until'] > tonumber(ARGV[6]) then return cjson.encode({ state = 'not-due' }) end
local left = leave(sid, '')
redis.call('HDEL', base .. 'sessions', uid)
redis.call('HDEL', base .. 'conns', uid)
redis.call('HDEL', base .. 'holds', uid)
return cjson.encode({ state = 'expired', left = left })
`);

/** ARGV: ttl, lobby, roomPrefix. */
export const HELD_SESSIONS = script(`
local flat = redis.call('HGETALL', base .. 'holds')
local out = {}
for i = 1, #flat, 2 do
  local h = cjson.decode(flat[i + 1])
  out[#out + 1] = { userUID = flat[i], socketId = h.socketId, ['until'] = h['until'] }
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`);
