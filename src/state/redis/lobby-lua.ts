/**
 * The Lua side of a big programme's lobby (spec 3.1; the rules are `domain/lobby.ts`), spliced
 * into the scripts' shared helpers (`scripts.ts`), after `announce`, `touch` and `room_view`.
 *
 * Keys under the programme's prefix: `rank` (sorted set: every room by its featured-view score),
 * `open` (sorted set: rooms with a free seat and no password, by `openScore`, for `quickJoin`),
 * `view` (set: the featured view), `viewAt` (when it was last recomputed). Both sorted sets are
 * kept by `rerank`, called wherever a room's count changes (`seat`, `leave`), so no call ever
 * has to look at every room to rank them: a join or leave costs two O(log N) updates.
 */

/** The scores of `domain/lobby.ts` (`rankScore`, `openScore`, `beats`) in Lua; the store
 * contract checks both backends choose the same view. */
export const LOBBY_LIB = `
local COUNT_UNIT, TIER_UNIT = 4294967296, 70368744177664

local function room_seq(rid)
  return tonumber(redis.call('ZSCORE', base .. 'rooms', rid))
end

local function rerank(rid)
  local h = redis.call('HMGET', base .. 'room:' .. rid, 'persistent', 'pw', 'max')
  if not h[3] then return end
  local low = (room_seq(rid) or 0) % COUNT_UNIT
  local count = redis.call('HLEN', base .. 'members:' .. rid)
  local open = (not h[2] or h[2] == '') and count < tonumber(h[3])
  local tier = 0
  if h[1] == '1' then tier = 2 elseif open then tier = 1 end
  redis.call('ZADD', base .. 'rank', string.format('%.0f', tier * TIER_UNIT + math.min(count, 16383) * COUNT_UNIT + low), rid)
  if open then
    redis.call('ZADD', base .. 'open', string.format('%.0f', count * COUNT_UNIT + low), rid)
  else
    redis.call('ZREM', base .. 'open', rid)
  end
  touch('rank', 'open')
end

local function beats(o, i)
  local ot, it = math.floor(o / TIER_UNIT), math.floor(i / TIER_UNIT)
  if ot ~= it then return ot > it end
  local oc, ic = math.floor(o / COUNT_UNIT) % 16384, math.floor(i / COUNT_UNIT) % 16384
  return oc >= ic + math.max(2, math.ceil(ic / 5))
end

-- A room's lobby news: to the lobby while the room is in the view (its watchers sit in the
-- lobby and hear it there), else to its watchers alone (channel '<lobby>/<roomId>').
local function announce_of(rid, in_view, event, payload_json)
  if in_view then announce(lobby_channel, event, payload_json) else announce(lobby_channel .. '/' .. rid, event, payload_json) end
end

-- The room goes, with its places in the lobby's sets; its deleteRoom is announced.
local function drop_room(rid)
  redis.call('DEL', base .. 'room:' .. rid, base .. 'members:' .. rid, base .. 'history:' .. rid, base .. 'order:' .. rid, count_window(rid))
  redis.call('ZREM', base .. 'rooms', rid)
  redis.call('ZREM', base .. 'rank', rid)
  redis.call('ZREM', base .. 'open', rid)
  local in_view = redis.call('SREM', base .. 'view', rid) == 1
  announce_of(rid, in_view, 'deleteRoom', cjson.encode({ roomId = rid }))
end

-- The featured view in creation order.
local function view_rooms()
  local out = {}
  for _, rid in ipairs(redis.call('SMEMBERS', base .. 'view')) do
    local r = room_view(rid)
    if r then
      r.seq = room_seq(rid)
      out[#out + 1] = r
    end
  end
  table.sort(out, function(a, b) return a.seq < b.seq end)
  for _, r in ipairs(out) do r.seq = nil end
  return out
end
`;
