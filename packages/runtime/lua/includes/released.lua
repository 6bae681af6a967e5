-- Appends, for each released node index in `indices`, the data a worker needs to enqueue it:
-- index, spec JSON (`n:<i>`), the number of input envelopes, then those envelopes in input order.
-- KEYS[1] must be the workflow's graph hash and KEYS[3] its result hash.
local function appendReleased(out, indices)
  for _, j in ipairs(indices) do
    out[#out + 1] = j
    out[#out + 1] = redis.call('HGET', KEYS[1], 'n:' .. j)
    local inputs = redis.call('HGET', KEYS[1], 'a:' .. j)
    local ids = {}
    if inputs then
      for k in string.gmatch(inputs, '[^,]+') do ids[#ids + 1] = k end
    end
    out[#out + 1] = #ids
    -- HMGET in slices: Lua's unpack() has a small argument limit.
    for from = 1, #ids, 1000 do
      local to = math.min(from + 999, #ids)
      local values = redis.call('HMGET', KEYS[3], unpack(ids, from, to))
      for v = 1, #values do out[#out + 1] = values[v] or false end
    end
  end
  return out
end

-- The sentinel member every workflow set and hash holds from creation, so none is ever deleted.
local SENTINEL = '_'

local function splitIndices(csv)
  local list = {}
  if csv then
    for j in string.gmatch(csv, '[^,]+') do list[#list + 1] = j end
  end
  return list
end

local function isTerminal(state)
  return state == 'SUCCESS' or state == 'FAILURE' or state == 'REVOKED'
end

-- Keeps a running workflow alive: its keys expire `ttl` seconds after its last activity, give or
-- take a minute. Refreshing at most once a minute costs one TTL read per call instead of six
-- EXPIREs; the keys carry a sentinel member from creation (see create-9.lua), so none of them is
-- ever recreated without a TTL in between.
local function refreshTtl(ttl)
  if ttl > 0 and redis.call('TTL', KEYS[1]) < ttl - math.min(60, ttl / 2) then
    for k = 1, 6 do redis.call('EXPIRE', KEYS[k], ttl) end
  end
end
