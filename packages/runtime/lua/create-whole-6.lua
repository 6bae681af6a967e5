--[[
  Creates a small workflow in one step: the whole plan comes as arguments, so applying a lone task
  or a small canvas costs one script call instead of staged writes plus `create-9.lua` (which a
  plan of more than one slice still uses). Unless the workflow already exists, writes the graph
  (meta included), the deps, the outbox and the sentinels, with the TTL, atomically. All keys share
  the workflow's hash tag: one Redis Cluster slot.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV[1] ttl in seconds (0: never expire)   ARGV[2] meta JSON
    ARGV[3] G, the number of graph arguments that follow (field, value, field, value, ...)
    ARGV[4 .. 3+G] graph fields and values
    ARGV[4+G] D, the number of deps arguments that follow (index, count, ...)
    ARGV[5+G .. 4+G+D] deps
    ARGV[5+G+D ..] outbox members (the entry nodes)

  Output:
    1 created, 0 the workflow already existed (nothing written).
]]
--@include sentinel
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- unpack() has a small argument limit: write in slices. The first slice also carries `a` and `b`
-- (a field and its value, or one member), so a lone task's plan costs no command of its own for them.
local SLICE = 1000
local function write(command, key, first, last, a, b)
  local to = math.min(first + SLICE - 1, last)
  if a == nil then
    if first <= last then redis.call(command, key, unpack(ARGV, first, to)) end
  elseif b == nil then
    redis.call(command, key, a, unpack(ARGV, first, to))
  else
    redis.call(command, key, a, b, unpack(ARGV, first, to))
  end
  for from = to + 1, last, SLICE do
    redis.call(command, key, unpack(ARGV, from, math.min(from + SLICE - 1, last)))
  end
end
local g = tonumber(ARGV[3])
write('HSET', KEYS[1], 4, 3 + g, 'meta', ARGV[2])
local d = tonumber(ARGV[4 + g])
write('HSET', KEYS[4], 5 + g, 4 + g + d)
write('SADD', KEYS[5], 5 + g + d, #ARGV, SENTINEL)
-- Sentinel members: these keys exist, with their TTL, for the workflow's whole life (see create-9.lua).
redis.call('HSET', KEYS[2], SENTINEL, '')
redis.call('HSET', KEYS[3], SENTINEL, '')
redis.call('HSET', KEYS[6], SENTINEL, 0)
local ttl = tonumber(ARGV[1])
for k = 1, 6 do
  if ttl > 0 then redis.call('EXPIRE', KEYS[k], ttl) else redis.call('PERSIST', KEYS[k]) end
end
return 1
