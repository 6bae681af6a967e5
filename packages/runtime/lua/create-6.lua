--[[
  Stores a workflow's plan and marks its entry nodes released, unless the workflow exists already:
  applying the same ids twice is idempotent.

  Input:
    KEYS[1] graph hash      KEYS[2] state hash     KEYS[3] result hash
    KEYS[4] deps hash       KEYS[5] outbox set     KEYS[6] released hash
    ARGV[1] ttl in seconds (0: never expire)
    ARGV[2] number of graph field/value pairs   ARGV[3] number of deps field/value pairs
    ARGV[4] number of entry node indices
    ARGV[5...] graph pairs, then deps pairs, then entry indices

  Output:
    1 created, 0 the workflow already existed (nothing written).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[1])
local pos = 5

local function hsetPairs(key, pairs)
  for from = 0, pairs - 1, 1000 do
    local n = math.min(1000, pairs - from)
    redis.call('HSET', key, unpack(ARGV, pos + 2 * from, pos + 2 * (from + n) - 1))
  end
  pos = pos + 2 * pairs
end

hsetPairs(KEYS[1], tonumber(ARGV[2]))
hsetPairs(KEYS[4], tonumber(ARGV[3]))
local entries = tonumber(ARGV[4])
for from = 0, entries - 1, 1000 do
  local n = math.min(1000, entries - from)
  redis.call('SADD', KEYS[5], unpack(ARGV, pos + from, pos + from + n - 1))
end
if ttl > 0 then
  for k = 1, 6 do redis.call('EXPIRE', KEYS[k], ttl) end
end
return 1
