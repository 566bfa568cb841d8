/**
 * Lua scripts: each store decision runs as one script, which Redis executes without interleaving
 * any other command, so every decision is atomic across all servers. All keys of a programme
 * share the hash tag `{scheduleUID}`. KEYS[1] is always the programme's key prefix
 * (`<prefix>{p}:`); the scripts derive the programme's other keys from it, which a standalone
 * Redis (or one shard per Redis, see docs/scaling.md) allows; Redis Cluster is not supported.
 * Replies are JSON (cjson) so the TypeScript side parses one shape. Every script does what can
 * fail (decoding) before it writes: Redis does not roll back a script that errors halfway.
 *
 * Announcements: KEYS[2] is the programme's stream (`<prefix>{p}:stream`, the one its
 * socket.io adapter reads, `streams-adapter.ts`), in the programme's slot; a decision that clients must see
 * in decision order also appends its event to that stream, in the format of socket.io's emitter
 * (uid "emitter", a BROADCAST). Every server, the deciding one included, delivers it from the
 * stream, so `count` never overtakes `deleteRoom`, nor `aggroPoint` `stopAggro`, even when
 * different servers decided them. ARGV[2] and ARGV[3] name the lobby channel and the prefix of
 * room channels. The room summary and the aggro message are generated from the domain's payload
 * tables (`payload-lua.ts`).
 */
import { AGGRO_MESSAGE, OWNER_NOTICE_TAIL, ROOM_SUMMARY } from '../../domain/payloads.js';
import { LUA_PRESENT, luaPayload } from './payload-lua.js';
import { LOBBY_LIB } from './lobby-lua.js';

/** The batching windows' keys under a programme's prefix: the one place their names are made,
 * for the scripts (which close them) and for `RedisStore`'s claims (which open them). */
export const COUNT_WINDOW = 'win:count:';
/** Entries a programme's stream keeps (trimmed approximately), by the scripts and the adapter
 * alike: how far back a recovering socket can be served (spec 7.1). */
export const STREAM_MAX_LEN = 10_000;
export const POINT_WINDOW = 'win:point:';

/** Shared helpers prepended to every script. */
const LIB = `
local base = KEYS[1]
local ttl = tonumber(ARGV[1])
local lobby_channel, room_prefix = ARGV[2], ARGV[3]

-- Deliver an event to a channel of this programme through the adapter's stream.
local function announce(channel, event, payload_json, except)
  local nsp = cjson.encode('/' .. string.match(base, '{([^}]*)}:$'))
  local excluded = ''
  if except and except ~= '' then excluded = cjson.encode(except) end
  local data = '{"packet":{"type":2,"data":[' .. cjson.encode(event) .. ',' .. payload_json .. '],"nsp":' .. nsp ..
    '},"opts":{"rooms":[' .. cjson.encode(channel) .. '],"except":[' .. excluded .. '],"flags":{}}}'
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ${STREAM_MAX_LEN}, '*', 'uid', 'emitter', 'nsp', cjson.decode(nsp), 'type', '3', 'to', channel, 'data', data)
  redis.call('PEXPIRE', KEYS[2], ttl)
end

local function room_channel(rid)
  return room_prefix .. rid
end

local function count_window(rid)
  return base .. '${COUNT_WINDOW}' .. rid
end

local function point_window(id)
  return base .. '${POINT_WINDOW}' .. id
end

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
  redis.call('DEL', base .. 'aggro:' .. rid, base .. 'voters:' .. a.aggroUID, point_window(a.aggroUID))
  redis.call('ZREM', base .. 'aggros', rid)
  return a
end

${LUA_PRESENT}
${luaPayload('aggro_message', AGGRO_MESSAGE)}
${luaPayload('summary', ROOM_SUMMARY)}
-- The fields it needs by name: a room hash also holds its search key and batching state, and
-- the view and pages read a hundred rooms and more per call.
local function room_view(rid)
  local h = redis.call('HMGET', base .. 'room:' .. rid, 'title', 'max', 'persistent', 'createdAt', 'pw', 'owner')
  if not h[2] then return nil end
  local r = { roomId = rid, title = h[1], max = tonumber(h[2]), persistent = h[3] == '1',
              createdAt = tonumber(h[4]), count = redis.call('HLEN', base .. 'members:' .. rid) }
  if h[5] and h[5] ~= '' then r.passwordHash = h[5] end
  if h[6] and h[6] ~= '' then r.ownerUID = h[6] end
  return r
end

${LOBBY_LIB}

local OWNER_TAIL = ${JSON.stringify(OWNER_NOTICE_TAIL)}

-- The owner has left: the room passes to its longest-present member (the first of 'order:'),
-- unless another socket of the same user still sits in it; announced to the room.
local function hand_over(rid, owner, out)
  local mkey = base .. 'members:' .. rid
  local heir = nil
  for _, raw in ipairs(redis.call('HVALS', mkey)) do
    local m = cjson.decode(raw)
    if m.userUID == owner then return end
    heir = heir or m
  end
  for _, id in ipairs(redis.call('ZRANGE', base .. 'order:' .. rid, 0, -1)) do
    local raw = redis.call('HGET', mkey, id)
    if raw then heir = cjson.decode(raw); break end
  end
  -- A seat 'order:' does not know (moved there by another decision) still inherits, last.
  if not heir then return end
  redis.call('HSET', base .. 'room:' .. rid, 'owner', heir.userUID)
  out.owner = { userUID = heir.userUID, displayName = heir.displayName }
  announce(room_channel(rid), 'system', cjson.encode({ code = 'OWNER', message = heir.displayName .. OWNER_TAIL, userUID = heir.userUID }))
end

-- The member leaves its room; the last one out ends the live aggro and deletes a user room.
local function leave(sid, only)
  local rid = redis.call('HGET', base .. 'seats', sid)
  if not rid then return nil end
  if only ~= '' and only ~= rid then return nil end
  local m = redis.call('HGET', base .. 'members:' .. rid, sid)
  local member = m and cjson.decode(m)
  redis.call('HDEL', base .. 'seats', sid)
  if not member then return nil end
  redis.call('HDEL', base .. 'members:' .. rid, sid)
  redis.call('ZREM', base .. 'order:' .. rid, sid)
  local count = redis.call('HLEN', base .. 'members:' .. rid)
  local out = { roomId = rid, member = member, count = count, deleted = false }
  if count > 0 and redis.call('HGET', base .. 'room:' .. rid, 'owner') == member.userUID then hand_over(rid, member.userUID, out) end
  if count == 0 then
    local a = take_aggro(rid)
    if a then out.endedAggro = a end
    if redis.call('HGET', base .. 'room:' .. rid, 'persistent') ~= '1' then
      out.deleted = true
      drop_room(rid)
      return out
    end
  end
  rerank(rid)
  return out
end

local function seat(rid, sid, member_json)
  redis.call('HSET', base .. 'members:' .. rid, sid, member_json)
  redis.call('HSET', base .. 'seats', sid, rid)
  -- Arrival order, for the owner's heir.
  redis.call('ZADD', base .. 'order:' .. rid, redis.call('INCR', base .. 'jseq'), sid)
  touch('members:' .. rid, 'seats', 'order:' .. rid, 'jseq')
  rerank(rid)
end
`;

export function script(body: string): string {
  return `${LIB}\n${body}`;
}

/** ARGV: ttl, lobby, roomPrefix, roomId, roomJson (with its `search` key), roomLimit,
 * creatorSocketId ('' for none), creatorJson, viewSize. */
export const CREATE_ROOM = script(`
local rid, room, limit, sid, mjson, view_size = ARGV[4], cjson.decode(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8], tonumber(ARGV[9])
local existing = room_view(rid)
if existing then return cjson.encode({ ok = true, room = existing, existed = true }) end
if redis.call('ZCARD', base .. 'rooms') >= limit then return cjson.encode({ ok = false, code = 'EC002' }) end
local left = nil
if sid ~= '' then left = leave(sid, '') end
local seq = redis.call('INCR', base .. 'seq')
redis.call('ZADD', base .. 'rooms', seq, rid)
redis.call('HSET', base .. 'room:' .. rid, 'title', room.title, 'max', room.max, 'pw', room.passwordHash or '',
  'persistent', room.persistent and '1' or '0', 'createdAt', room.createdAt, 'countSent', sid ~= '' and 1 or 0,
  'norm', room.search or '', 'owner', room.ownerUID or '')
touch('rooms', 'seq', 'room:' .. rid)
if sid ~= '' then seat(rid, sid, mjson) else rerank(rid) end
local view = room_view(rid)
-- A full view takes the room at its next recompute, if the room earns a place.
if redis.call('SCARD', base .. 'view') < view_size then
  redis.call('SADD', base .. 'view', rid)
  touch('view')
  announce(lobby_channel, 'addRoom', summary(view), sid)
end
return cjson.encode({ ok = true, room = view, left = left })
`);

/** ARGV: ttl, lobby, roomPrefix, roomId. */
export const DELETE_ROOM = script(`
local rid = ARGV[4]
if redis.call('EXISTS', base .. 'room:' .. rid) == 0 then return 'null' end
local members = {}
for _, m in ipairs(redis.call('HVALS', base .. 'members:' .. rid)) do members[#members + 1] = cjson.decode(m) end
for _, sid in ipairs(redis.call('HKEYS', base .. 'members:' .. rid)) do redis.call('HDEL', base .. 'seats', sid) end
local out = { members = members }
local a = take_aggro(rid)
if a then out.endedAggro = a end
drop_room(rid)
return cjson.encode(out)
`);

/** ARGV: ttl, lobby, roomPrefix. */
export const LIST_ROOMS = script(`
local out = {}
for _, rid in ipairs(redis.call('ZRANGE', base .. 'rooms', 0, -1)) do
  local r = room_view(rid)
  if r then out[#out + 1] = r end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`);

/** A chat message kept as the newest of its room's history if its author sits in the room; the
 * history is a list trimmed to its size, and the message announced to the room (the author's
 * socket left out), in the same step. ARGV: ttl, lobby, roomPrefix, roomId, socketId,
 * messageJson, historySize. */
export const CHAT = script(`
local rid, sid, msg, size = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
if redis.call('HGET', base .. 'seats', sid) ~= rid then return 'false' end
if size > 0 then
  redis.call('RPUSH', base .. 'history:' .. rid, msg)
  redis.call('LTRIM', base .. 'history:' .. rid, -size, -1)
  touch('history:' .. rid)
end
announce(room_channel(rid), 'chat', msg, sid)
return 'true'
`);

/** A message out of its room's history (removed by a moderator or hidden by reports). ARGV:
 * ttl, lobby, roomPrefix, roomId, id. */
export const REMOVE_CHAT = script(`
local rid, id = ARGV[4], ARGV[5]
local key = base .. 'history:' .. rid
for _, raw in ipairs(redis.call('LRANGE', key, 0, -1)) do
  if cjson.decode(raw).id == id then
    redis.call('LREM', key, 1, raw)
    return 'true'
  end
end
return 'false'
`);

/** A page of a room's history, oldest first: the `limit` messages before the one with id
 * `before` ('' for the newest). ARGV: ttl, lobby, roomPrefix, roomId, before, limit. */
export const HISTORY = script(`
local rid, before, limit = ARGV[4], ARGV[5], tonumber(ARGV[6])
local all = redis.call('LRANGE', base .. 'history:' .. rid, 0, -1)
local stop = #all
if before ~= '' then
  stop = nil
  for i = #all, 1, -1 do
    if cjson.decode(all[i]).id == before then stop = i - 1; break end
  end
  if not stop then return '[]' end
end
local parts = {}
for i = math.max(1, stop - limit + 1), stop do parts[#parts + 1] = all[i] end
return '[' .. table.concat(parts, ',') .. ']'
`);

/** ARGV: ttl, lobby, roomPrefix, roomId. */
export const GET_ROOM = script(`
local r = room_view(ARGV[4])
if not r then return 'null' end
return cjson.encode(r)
`);

/** ARGV: ttl, lobby, roomPrefix, roomId, socketId, memberJson, now ('' for no removal check),
 * password check ('' for none, else '=' followed by the hash checked, '' when open), userUID. */
export const JOIN = script(`
local rid, sid, mjson, now, pw_check, uid = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local room = redis.call('HMGET', base .. 'room:' .. rid, 'max', 'owner', 'pw')
if not room[1] then return cjson.encode({ ok = false, code = 'EJ001' }) end
local owner = nil
if room[2] and room[2] ~= '' then owner = room[2] end
local count = redis.call('HLEN', base .. 'members:' .. rid)
if redis.call('HGET', base .. 'seats', sid) == rid then
  return cjson.encode({ ok = true, already = true, count = count, ownerUID = owner })
end
if now ~= '' then
  local until_ms = redis.call('ZSCORE', base .. 'removed:' .. uid, rid)
  if until_ms and tonumber(until_ms) > tonumber(now) then return cjson.encode({ ok = false, code = 'EJ005' }) end
end
if pw_check ~= '' and pw_check ~= '=' .. (room[3] or '') then return cjson.encode({ ok = false, code = 'EJ003' }) end
if count >= tonumber(room[1]) then return cjson.encode({ ok = false, code = 'EJ002' }) end
local left = leave(sid, '')
seat(rid, sid, mjson)
touch('room:' .. rid)
local live = read_aggro(rid)
if live then announce(sid, 'aggro', aggro_message(live)) end
return cjson.encode({ ok = true, already = false, count = count + 1, left = left, aggro = live, ownerUID = owner })
`);

/** The owner of the caller's room takes a member's every socket out and blocks its return
 * until \`blockUntil\` (a sorted set per user: room by end of block). Decodes before it writes.
 * ARGV: ttl, lobby, roomPrefix, socketId, callerUID, userUID, blockUntil, now. */
export const REMOVE_MEMBER = script(`
local sid, caller, uid, block_until, now = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local rid = redis.call('HGET', base .. 'seats', sid)
if not rid then return cjson.encode({ ok = false, code = 'EM001' }) end
if redis.call('HGET', base .. 'room:' .. rid, 'owner') ~= caller then return cjson.encode({ ok = false, code = 'EO001' }) end
if uid == caller then return cjson.encode({ ok = false, code = 'EV001' }) end
local flat = redis.call('HGETALL', base .. 'members:' .. rid)
local removed, ids = {}, {}
for i = 1, #flat, 2 do
  local m = cjson.decode(flat[i + 1])
  if m.userUID == uid then
    removed[#removed + 1] = m
    ids[#ids + 1] = flat[i]
  end
end
if #removed == 0 then return cjson.encode({ ok = false, code = 'EV001' }) end
for _, id in ipairs(ids) do
  redis.call('HDEL', base .. 'members:' .. rid, id)
  redis.call('HDEL', base .. 'seats', id)
  redis.call('ZREM', base .. 'order:' .. rid, id)
end
local rkey = base .. 'removed:' .. uid
redis.call('ZREMRANGEBYSCORE', rkey, '-inf', string.format('%.0f', now))
redis.call('ZADD', rkey, string.format('%.0f', block_until), rid)
redis.call('PEXPIRE', rkey, math.max(redis.call('PTTL', rkey), block_until - now, 1))
rerank(rid)
return cjson.encode({ ok = true, removed = removed, count = redis.call('HLEN', base .. 'members:' .. rid) })
`);

/** The owner of the caller's room changes its title (with its search key) or password; the
 * lobby hears \`deleteRoom\` then \`addRoom\` where the room's news goes. ARGV: ttl, lobby,
 * roomPrefix, socketId, callerUID, title ('' to keep), search key, password ('keep', 'clear'
 * or 'set'), hash. */
export const UPDATE_ROOM = script(`
local sid, caller, title, norm, pw_mode, pw = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local rid = redis.call('HGET', base .. 'seats', sid)
if not rid then return cjson.encode({ ok = false, code = 'EM001' }) end
local key = base .. 'room:' .. rid
if redis.call('HGET', key, 'owner') ~= caller then return cjson.encode({ ok = false, code = 'EO001' }) end
if title ~= '' then redis.call('HSET', key, 'title', title, 'norm', norm) end
if pw_mode == 'set' then redis.call('HSET', key, 'pw', pw) elseif pw_mode == 'clear' then redis.call('HSET', key, 'pw', '') end
rerank(rid)
local r = room_view(rid)
local in_view = redis.call('SISMEMBER', base .. 'view', rid) == 1
announce_of(rid, in_view, 'deleteRoom', cjson.encode({ roomId = rid }))
announce_of(rid, in_view, 'addRoom', summary(r))
redis.call('HSET', key, 'countSent', r.count)
return cjson.encode({ ok = true, room = r })
`);

/** ARGV: ttl, lobby, roomPrefix, socketId, onlyRoomId ('' for any). */
export const LEAVE = script(`
local out = leave(ARGV[4], ARGV[5])
if not out then return 'null' end
return cjson.encode(out)
`);

/** ARGV: ttl, lobby, roomPrefix, socketId, aggroJson (static fields), cooldownMs. */
export const START_AGGRO = script(`
local sid, a, cooldown = ARGV[4], cjson.decode(ARGV[5]), tonumber(ARGV[6])
local rid = a.roomId
if redis.call('HGET', base .. 'seats', sid) ~= rid then return 'EM001' end
if redis.call('EXISTS', base .. 'aggro:' .. rid) == 1 then return 'EA001' end
local cd_until = tonumber(redis.call('GET', base .. 'cd:' .. a.userUID) or '0')
if cd_until > a.startedAt then return 'EA002' end
redis.call('HSET', base .. 'aggro:' .. rid, 'data', ARGV[5], 'aggroUID', a.aggroUID, 'userUID', a.userUID,
  'point', 0, 'up', 0, 'down', 0, 'pointSent', a.pointSent, 'pointSentAt', a.pointSentAt)
redis.call('ZADD', base .. 'aggros', a.expiresAt, rid)
touch('aggro:' .. rid, 'aggros')
-- The value is the end of the cooldown on the servers' clock; the expiry only cleans it up.
if cooldown > 0 then redis.call('SET', base .. 'cd:' .. a.userUID, string.format('%d', a.startedAt + cooldown), 'PX', cooldown + 1000) end
return 'OK'
`);

/** ARGV: ttl, lobby, roomPrefix, socketId, userUID, aggroUID, delta. */
export const VOTE = script(`
local sid, uid, id, delta = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
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

/** ARGV: ttl, lobby, roomPrefix. */
export const LIVE_AGGROS = script(`
local out = {}
for _, rid in ipairs(redis.call('ZRANGE', base .. 'aggros', 0, -1)) do
  local a = read_aggro(rid)
  if a then out[#out + 1] = a end
end
if #out == 0 then return '[]' end
return cjson.encode(out)
`);

/** ARGV: ttl, lobby, roomPrefix, roomId, aggroUID. */
export const END_AGGRO = script(`
local rid, id = ARGV[4], ARGV[5]
if redis.call('HGET', base .. 'aggro:' .. rid, 'aggroUID') ~= id then return 'null' end
return cjson.encode(take_aggro(rid))
`);

/** ARGV: ttl, lobby, roomPrefix, roomId. */
export const FLUSH_COUNT = script(`
local rid = ARGV[4]
redis.call('DEL', count_window(rid))
local sent = redis.call('HGET', base .. 'room:' .. rid, 'countSent')
if not sent then return 'null' end
local count = redis.call('HLEN', base .. 'members:' .. rid)
if count == tonumber(sent) then return 'null' end
redis.call('HSET', base .. 'room:' .. rid, 'countSent', count)
announce_of(rid, redis.call('SISMEMBER', base .. 'view', rid) == 1, 'count', cjson.encode({ roomId = rid, count = count }))
return tostring(count)
`);

/** ARGV: ttl, lobby, roomPrefix, roomId, aggroUID, now. */
export const FLUSH_POINT = script(`
local rid, id, now = ARGV[4], ARGV[5], ARGV[6]
redis.call('DEL', point_window(id))
local key = base .. 'aggro:' .. rid
local h = redis.call('HMGET', key, 'aggroUID', 'point', 'pointSent')
if h[1] ~= id or h[2] == h[3] then return 'null' end
redis.call('HSET', key, 'pointSent', h[2], 'pointSentAt', now)
announce(room_channel(rid), 'aggroPoint', cjson.encode({ aggroUID = id, point = tonumber(h[2]) }))
return h[2]
`);

/** ARGV: ttl, lobby, roomPrefix, userUID, socketId. */
export const CLAIM_SESSION = script(`
local prev = redis.call('HGET', base .. 'sessions', ARGV[4])
redis.call('HSET', base .. 'sessions', ARGV[4], ARGV[5])
touch('sessions')
if not prev or prev == ARGV[5] then return 'null' end
return cjson.encode(prev)
`);

/** ARGV: ttl, lobby, roomPrefix, userUID, socketId. */
export const RELEASE_SESSION = script(`
if redis.call('HGET', base .. 'sessions', ARGV[4]) == ARGV[5] then
  redis.call('HDEL', base .. 'sessions', ARGV[4])
  -- What a held session (session-scripts.ts) kept beside it goes with it.
  redis.call('HDEL', base .. 'conns', ARGV[4])
  redis.call('HDEL', base .. 'holds', ARGV[4])
end
return 'null'
`);

/** ARGV: ttl, lobby, roomPrefix. */
export const IS_IDLE = script(`
if redis.call('HLEN', base .. 'sessions') > 0 then return 'false' end
for _, rid in ipairs(redis.call('ZRANGE', base .. 'rooms', 0, -1)) do
  if redis.call('HGET', base .. 'room:' .. rid, 'persistent') ~= '1' or redis.call('HLEN', base .. 'members:' .. rid) > 0 then
    return 'false'
  end
end
return 'true'
`);

/** Keep a busy programme's keys from expiring. ARGV: ttl. */
export const TOUCH_PROGRAM = script(`
touch('rooms', 'seq', 'seats', 'sessions', 'aggros', 'rank', 'open', 'view', 'viewAt', 'jseq')
touch('conns', 'holds', 'stream')
for _, rid in ipairs(redis.call('ZRANGE', base .. 'rooms', 0, -1)) do
  touch('room:' .. rid, 'members:' .. rid, 'aggro:' .. rid, 'history:' .. rid, 'order:' .. rid)
  local id = redis.call('HGET', base .. 'aggro:' .. rid, 'aggroUID')
  if id then touch('voters:' .. id) end
end
return 'null'
`);

/** The end of an aggro, after it was recorded: its final total (when not yet sent), then
 * `stopAggro` or `deleteAggro`. ARGV: ttl, lobby, roomPrefix, roomId, aggroUID, finalPoint ('' for
 * none), event. */
export const ANNOUNCE_END = script(`
local rid, id, point, event = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if point ~= '' then announce(room_channel(rid), 'aggroPoint', cjson.encode({ aggroUID = id, point = tonumber(point) })) end
announce(room_channel(rid), event, cjson.encode(id))
return 'null'
`);
