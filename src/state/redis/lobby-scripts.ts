/** The scripts of a big programme's lobby (spec 3.1); their helpers are `lobby-lua.ts`. Each is
 * one atomic decision, as every script (`scripts.ts`). */
import { script } from './scripts.js';

/** ARGV: ttl, lobby, roomPrefix. */
export const VIEW_ROOMS = script(`
local rooms = view_rooms()
if #rooms == 0 then return '[]' end
return cjson.encode(rooms)
`);

/** At most once per interval, by whichever server asks first after it: fill the view's free
 * places from \`rank\`, then swap clearly beaten rooms (\`nextView\` in domain/lobby.ts); each
 * change announced to the lobby. Reads the view's members and the best \`viewSize\` of \`rank\`
 * only. ARGV: ttl, lobby, roomPrefix, now, intervalMs, viewSize, maxSwaps. */
export const REFRESH_VIEW = script(`
local now, interval, size, max_swaps = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local at = tonumber(redis.call('GET', base .. 'viewAt') or '')
if not at or now - at >= interval then
  redis.call('SET', base .. 'viewAt', string.format('%.0f', now), 'PX', ttl)
  local n = redis.call('SCARD', base .. 'view')
  if redis.call('ZCARD', base .. 'rooms') > n then
    local flat = redis.call('ZREVRANGE', base .. 'rank', 0, size - 1, 'WITHSCORES')
    local outsiders = {}
    for i = 1, #flat, 2 do
      if redis.call('SISMEMBER', base .. 'view', flat[i]) == 0 then
        outsiders[#outsiders + 1] = { id = flat[i], score = tonumber(flat[i + 1]) }
      end
    end
    local enter, gone = {}, {}
    local free, o = size - n, 1
    while free > 0 and o <= #outsiders do
      enter[#enter + 1] = outsiders[o].id
      o = o + 1
      free = free - 1
    end
    local insiders = {}
    for _, rid in ipairs(redis.call('SMEMBERS', base .. 'view')) do
      insiders[#insiders + 1] = { id = rid, score = tonumber(redis.call('ZSCORE', base .. 'rank', rid) or '0') }
    end
    table.sort(insiders, function(a, b) return a.score < b.score end)
    local i, swaps = 1, 0
    while o <= #outsiders and i <= #insiders and swaps < max_swaps and beats(outsiders[o].score, insiders[i].score) do
      enter[#enter + 1] = outsiders[o].id
      gone[#gone + 1] = insiders[i].id
      o, i, swaps = o + 1, i + 1, swaps + 1
    end
    for _, rid in ipairs(gone) do
      redis.call('SREM', base .. 'view', rid)
      announce(lobby_channel, 'deleteRoom', cjson.encode({ roomId = rid }))
    end
    for _, rid in ipairs(enter) do
      redis.call('SADD', base .. 'view', rid)
      local r = room_view(rid)
      -- The count as announced now; a window still open sends any later change.
      redis.call('HSET', base .. 'room:' .. rid, 'countSent', r.count)
      announce(lobby_channel, 'addRoom', summary(r))
    end
    touch('view')
  end
end
local rooms = view_rooms()
if #rooms == 0 then return '[]' end
return cjson.encode(rooms)
`);

/** A page in creation order from the \`rooms\` sorted set (score: creation sequence), looking at
 * no more than \`budget\` rooms. The set is read a chunk at a time and a room's title is matched
 * before the room is read: a search passes over up to \`budget\` rooms for a page of 20, and
 * reading each whole (and the budget's range at once) held Redis for milliseconds per call,
 * which every other command of every server waited behind. ARGV: ttl, lobby, roomPrefix, after
 * ('' from the start), limit, q ('' for none), open ('1'/'0'), budget. */
export const PAGE_ROOMS = script(`
local after, limit, q, open_only, budget = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1', tonumber(ARGV[8])
local min = '-inf'
if after ~= '' then min = '(' .. after end
-- Unfiltered, a page needs only its own rooms; filtered, it may pass over many.
local chunk = limit
if q ~= '' or open_only then chunk = math.max(limit, 200) end
local rooms, last, seen = {}, nil, 0
while seen < budget and #rooms < limit do
  local want = math.min(chunk, budget - seen)
  local flat = redis.call('ZRANGEBYSCORE', base .. 'rooms', min, '+inf', 'WITHSCORES', 'LIMIT', 0, want)
  for i = 1, #flat, 2 do
    if #rooms >= limit then break end
    local rid = flat[i]
    last, seen = flat[i + 1], seen + 1
    if q == '' or string.find(redis.call('HGET', base .. 'room:' .. rid, 'norm') or '', q, 1, true) then
      local r = room_view(rid)
      if r and (not open_only or ((not r.passwordHash) and r.count < r.max)) then rooms[#rooms + 1] = r end
    end
  end
  if #flat < want * 2 then break end
  min = '(' .. last
end
local next = cjson.null
if last and redis.call('ZCOUNT', base .. 'rooms', '(' .. last, '+inf') > 0 then next = tonumber(last) end
return cjson.encode({ rooms = rooms, next = next })
`);

/** Seat the socket in the fullest open room (the top of \`open\`), as JOIN does, passing over
 * rooms whose owner removed the user less than the block ago (as many more looked at as it has
 * such blocks). A plain \`string.find\` on UTF-8 finds a substring of whole characters only,
 * since no character's bytes start inside another's. ARGV: ttl, lobby, roomPrefix, socketId,
 * memberJson, q ('' for none), budget, userUID, now ('' for no removal check). */
export const QUICK_JOIN = script(`
local sid, mjson, q, budget, uid, now = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9]
local mine = redis.call('HGET', base .. 'seats', sid)
local rkey = base .. 'removed:' .. uid
local blocks = 0
if now ~= '' then blocks = redis.call('ZCOUNT', rkey, '(' .. now, '+inf') end
local function blocked(rid)
  if blocks == 0 then return false end
  local until_ms = redis.call('ZSCORE', rkey, rid)
  return until_ms and tonumber(until_ms) > tonumber(now)
end
local n = budget
if q == '' then n = 2 + blocks end
local pick = nil
for _, rid in ipairs(redis.call('ZREVRANGE', base .. 'open', 0, n - 1)) do
  if rid ~= mine and not blocked(rid) and (q == '' or string.find(redis.call('HGET', base .. 'room:' .. rid, 'norm') or '', q, 1, true)) then
    pick = rid
    break
  end
end
if not pick then return cjson.encode({ ok = false, code = 'EJ004' }) end
local picked = redis.call('HMGET', base .. 'room:' .. pick, 'title', 'owner')
local title, owner = picked[1], nil
if picked[2] and picked[2] ~= '' then owner = picked[2] end
local left = leave(sid, '')
seat(pick, sid, mjson)
touch('room:' .. pick)
local live = read_aggro(pick)
if live then announce(sid, 'aggro', aggro_message(live)) end
return cjson.encode({ ok = true, roomId = pick, title = title, count = redis.call('HLEN', base .. 'members:' .. pick), left = left, aggro = live, ownerUID = owner })
`);

/** ARGV: ttl, lobby, roomPrefix, roomIdsJson. */
export const ROOM_COUNTS = script(`
local out = {}
for _, rid in ipairs(cjson.decode(ARGV[4])) do
  if redis.call('EXISTS', base .. 'room:' .. rid) == 1 then out[rid] = redis.call('HLEN', base .. 'members:' .. rid) else out[rid] = cjson.null end
end
return cjson.encode(out)
`);
