/**
 * Lua scripts: each store decision runs as one script, which Redis executes without interleaving
 * any other command, so every decision is atomic across all servers. All keys of a programme
 * share the hash tag `{scheduleUID}`, so a programme lives on one Redis Cluster slot and a script
 * may touch any of its keys. KEYS[1] is always the programme's key prefix (`<prefix>{p}:`).
 * Replies are JSON (cjson) so the TypeScript side parses one shape.
 */

/** Shared helpers prepended to every script. */
const LIB = `
local base = KEYS[1]
local ttl = tonumber(ARGV[1])

local function touch(...)
  for _, k in ipairs({...}) do redis.call('PEXPIRE', base .. k, ttl) end
end

local function hash_to_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function read_aggro(rid)
  local flat = redis.call('HGETALL', base .. 'aggro:' .. rid)
  if #flat == 0 then return nil end
  local h = hash_to_table(flat)
  local a = cjson.decode(h.data)
  a.point = tonumber(h.point); a.up = tonumber(h.up); a.down = tonumber(h.down)
  a.pointSent = tonumber(h.pointSent); a.pointSentAt = tonumber(h.pointSentAt)
  return a
end

local function take_aggro(rid)
  local a = read_aggro(rid)
  if not a then return nil end
  redis.call('DEL', base .. 'aggro:' .. rid, base .. 'voters:' .. a.aggroUID, base .. 'win:point:' .. a.aggroUID)
  redis.call('ZREM', base .. 'aggros', rid)
  return a
end

local function room_view(rid)
  local flat = redis.call('HGETALL', base .. 'room:' .. rid)
  if #flat == 0 then return nil end
  local h = hash_to_table(flat)
  local r = { roomId = rid, title = h.title, max = tonumber(h.max), persistent = h.persistent == '1',
              createdAt = tonumber(h.createdAt), count = redis.call('HLEN', base .. 'members:' .. rid) }
  if h.pw and h.pw ~= '' then r.passwordHash = h.pw end
  return r
end

-- The member leaves its room; the last one out ends the live aggro and deletes a user room.
local function leave(sid, only)
  local rid = redis.call('HGET', base .. 'seats', sid)
  if not rid then return nil end
  if only ~= '' and only ~= rid then return nil end
  redis.call('HDEL', base .. 'seats', sid)
  local m = redis.call('HGET', base .. 'members:' .. rid, sid)
  if not m then return nil end
  redis.call('HDEL', base .. 'members:' .. rid, sid)
  local count = redis.call('HLEN', base .. 'members:' .. rid)
  local out = { roomId = rid, member = cjson.decode(m), count = count, deleted = false }
  if count == 0 then
    local a = take_aggro(rid)
    if a then out.endedAggro = a end
    if redis.call('HGET', base .. 'room:' .. rid, 'persistent') ~= '1' then
      redis.call('DEL', base .. 'room:' .. rid, base .. 'members:' .. rid, base .. 'win:count:' .. rid)
      redis.call('ZREM', base .. 'rooms', rid)
      out.deleted = true
    end
  end
  return out
end

local function seat(rid, sid, member_json)
  redis.call('HSET', base .. 'members:' .. rid, sid, member_json)
  redis.call('HSET', base .. 'seats', sid, rid)
  touch('members:' .. rid, 'seats')
end
`;

function script(body: string): string {
  return `${LIB}\n${body}`;
}

/** ARGV: ttl, roomId, roomJson, roomLimit, creatorSocketId ('' for none), creatorJson. */
export const CREATE_ROOM = script(`
local rid, room, limit, sid, mjson = ARGV[2], cjson.decode(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
if redis.call('ZCARD', base .. 'rooms') >= limit then return cjson.encode({ ok = false, code = 'EC002' }) end
local left = nil
if sid ~= '' then left = leave(sid, '') end
local seq = redis.call('INCR', base .. 'seq')
redis.call('ZADD', base .. 'rooms', seq, rid)
redis.call('HSET', base .. 'room:' .. rid, 'title', room.title, 'max', room.max, 'pw', room.passwordHash or '',
  'persistent', room.persistent and '1' or '0', 'createdAt', room.createdAt, 'countSent', sid ~= '' and 1 or 0)
touch('rooms', 'seq', 'room:' .. rid)
if sid ~= '' then seat(rid, sid, mjson) end
return cjson.encode({ ok = true, room = room_view(rid), left = left })
`);

/** ARGV: ttl. */
export const LIST_ROOMS = script(`
local out = {}
for _, rid in ipairs(redis.call('ZRANGE', base .. 'rooms', 0, -1)) do
  local r = room_view(rid)
  if r then out[#out + 1] = r end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`);

/** ARGV: ttl, roomId. */
export const GET_ROOM = script(`
local r = room_view(ARGV[2])
if not r then return 'null' end
return cjson.encode(r)
`);

/** ARGV: ttl, roomId, socketId, memberJson. */
export const JOIN = script(`
local rid, sid, mjson = ARGV[2], ARGV[3], ARGV[4]
local room = redis.call('HMGET', base .. 'room:' .. rid, 'max')
if not room[1] then return cjson.encode({ ok = false, code = 'EJ001' }) end
local count = redis.call('HLEN', base .. 'members:' .. rid)
if redis.call('HGET', base .. 'seats', sid) == rid then
  return cjson.encode({ ok = true, already = true, count = count })
end
if count >= tonumber(room[1]) then return cjson.encode({ ok = false, code = 'EJ002' }) end
local left = leave(sid, '')
seat(rid, sid, mjson)
touch('room:' .. rid)
return cjson.encode({ ok = true, already = false, count = count + 1, left = left, aggro = read_aggro(rid) })
`);

/** ARGV: ttl, socketId, onlyRoomId ('' for any). */
export const LEAVE = script(`
local out = leave(ARGV[2], ARGV[3])
if not out then return 'null' end
return cjson.encode(out)
`);

/** ARGV: ttl, socketId, aggroJson (static fields), cooldownMs. */
export const START_AGGRO = script(`
local sid, a, cooldown = ARGV[2], cjson.decode(ARGV[3]), tonumber(ARGV[4])
local rid = a.roomId
if redis.call('HGET', base .. 'seats', sid) ~= rid then return 'EM001' end
if redis.call('EXISTS', base .. 'aggro:' .. rid) == 1 then return 'EA001' end
local cd_until = tonumber(redis.call('GET', base .. 'cd:' .. a.userUID) or '0')
if cd_until > a.startedAt then return 'EA002' end
redis.call('HSET', base .. 'aggro:' .. rid, 'data', ARGV[3], 'aggroUID', a.aggroUID, 'userUID', a.userUID,
  'point', 0, 'up', 0, 'down', 0, 'pointSent', a.pointSent, 'pointSentAt', a.pointSentAt)
redis.call('ZADD', base .. 'aggros', a.expiresAt, rid)
touch('aggro:' .. rid, 'aggros')
-- The value is the end of the cooldown on the servers' clock; the expiry only cleans it up.
if cooldown > 0 then redis.call('SET', base .. 'cd:' .. a.userUID, string.format('%d', a.startedAt + cooldown), 'PX', cooldown + 1000) end
return 'OK'
`);

/** ARGV: ttl, socketId, userUID, aggroUID, delta. */
export const VOTE = script(`
local sid, uid, id, delta = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local rid = redis.call('HGET', base .. 'seats', sid)
if not rid then return cjson.encode({ ok = false, code = 'EA003' }) end
local key = base .. 'aggro:' .. rid
local h = redis.call('HMGET', key, 'aggroUID', 'userUID')
if h[1] ~= id then return cjson.encode({ ok = false, code = 'EA003' }) end
if h[2] == uid then return cjson.encode({ ok = false, code = 'EA004' }) end
if redis.call('SADD', base .. 'voters:' .. id, uid) == 0 then return cjson.encode({ ok = false, code = 'EA004' }) end
touch('voters:' .. id)
local point = redis.call('HINCRBY', key, 'point', delta)
redis.call('HINCRBY', key, delta > 0 and 'up' or 'down', 1)
return cjson.encode({ ok = true, point = point, roomId = rid })
`);

/** ARGV: ttl, roomId. */
export const LIVE_AGGRO = script(`
local a = read_aggro(ARGV[2])
if not a then return 'null' end
return cjson.encode(a)
`);

/** ARGV: ttl. */
export const LIVE_AGGROS = script(`
local out = {}
for _, rid in ipairs(redis.call('ZRANGE', base .. 'aggros', 0, -1)) do
  local a = read_aggro(rid)
  if a then out[#out + 1] = a end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`);

/** ARGV: ttl, roomId, aggroUID. */
export const END_AGGRO = script(`
local rid, id = ARGV[2], ARGV[3]
if redis.call('HGET', base .. 'aggro:' .. rid, 'aggroUID') ~= id then return 'null' end
return cjson.encode(take_aggro(rid))
`);

/** ARGV: ttl, roomId. */
export const FLUSH_COUNT = script(`
local rid = ARGV[2]
redis.call('DEL', base .. 'win:count:' .. rid)
local sent = redis.call('HGET', base .. 'room:' .. rid, 'countSent')
if not sent then return 'null' end
local count = redis.call('HLEN', base .. 'members:' .. rid)
if count == tonumber(sent) then return 'null' end
redis.call('HSET', base .. 'room:' .. rid, 'countSent', count)
return tostring(count)
`);

/** ARGV: ttl, roomId, aggroUID, now. */
export const FLUSH_POINT = script(`
local rid, id, now = ARGV[2], ARGV[3], ARGV[4]
redis.call('DEL', base .. 'win:point:' .. id)
local key = base .. 'aggro:' .. rid
local h = redis.call('HMGET', key, 'aggroUID', 'point', 'pointSent')
if h[1] ~= id or h[2] == h[3] then return 'null' end
redis.call('HSET', key, 'pointSent', h[2], 'pointSentAt', now)
return h[2]
`);

/** ARGV: ttl, userUID, socketId. */
export const CLAIM_SESSION = script(`
local prev = redis.call('HGET', base .. 'sessions', ARGV[2])
redis.call('HSET', base .. 'sessions', ARGV[2], ARGV[3])
touch('sessions')
if not prev or prev == ARGV[3] then return 'null' end
return cjson.encode(prev)
`);

/** ARGV: ttl, userUID, socketId. */
export const RELEASE_SESSION = script(`
if redis.call('HGET', base .. 'sessions', ARGV[2]) == ARGV[3] then redis.call('HDEL', base .. 'sessions', ARGV[2]) end
return 'null'
`);

/** ARGV: ttl. */
export const IS_IDLE = script(`
if redis.call('ZCARD', base .. 'rooms') == 0 and redis.call('HLEN', base .. 'sessions') == 0 then return 'true' end
return 'false'
`);

/** Keep a busy programme's keys from expiring. ARGV: ttl. */
export const TOUCH_PROGRAM = script(`
touch('rooms', 'seq', 'seats', 'sessions', 'aggros')
for _, rid in ipairs(redis.call('ZRANGE', base .. 'rooms', 0, -1)) do
  touch('room:' .. rid, 'members:' .. rid, 'aggro:' .. rid)
  local id = redis.call('HGET', base .. 'aggro:' .. rid, 'aggroUID')
  if id then touch('voters:' .. id) end
end
return 'null'
`);
