--[[
  Creates one or more small workflows, each in one atomic step: every plan comes whole as
  arguments, so applying a lone task or a small canvas costs no staged writes plus `create-9.lua`
  (which a plan of more than one slice still uses). The applies an app makes in the same moment
  share one call on one Redis server (app.ts's launcher), as the successes a worker reaches together
  share `advance-n.lua`: a burst of 1 000 delays is a few requests, not 1 000. For each plan,
  unless the workflow already exists, writes the graph (meta included), the deps, the outbox and the
  sentinels, with the TTL. A workflow's keys share its hash tag: one Redis Cluster slot (on a
  cluster each call carries one plan).

  Input (the caller passes the number of keys, 6 per plan):
    KEYS[6p-5 .. 6p] plan p's graph hash, state hash, result hash, deps hash, outbox set, released hash
    ARGV[1] ttl in seconds (0: never expire)
    then per plan, in order:
      meta JSON
      1 when a node of the plan has successors or error callbacks (something can be released), else 0
      G, the number of graph arguments that follow (field, value, field, value, ...), then those
      D, the number of deps arguments that follow (index, count, ...), then those
      O, the number of outbox members that follow (the entry nodes), then those

  Output:
    per plan, in order: 1 created, 0 the workflow already existed (nothing written).
]]
--@include sentinel
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

local ttl = tonumber(ARGV[1])
local created = {}
local at = 2
for p = 1, #KEYS / 6 do
  local k = 6 * (p - 1)
  local meta = ARGV[at]
  local releases = ARGV[at + 1] == '1'
  local g = tonumber(ARGV[at + 2])
  local graphFrom = at + 3
  local d = tonumber(ARGV[graphFrom + g])
  local depsFrom = graphFrom + g + 1
  local o = tonumber(ARGV[depsFrom + d])
  local outboxFrom = depsFrom + d + 1
  at = outboxFrom + o
  if redis.call('EXISTS', KEYS[k + 1]) == 1 then
    created[p] = 0
  else
    write('HSET', KEYS[k + 1], graphFrom, graphFrom + g - 1, 'meta', meta)
    write('HSET', KEYS[k + 4], depsFrom, depsFrom + d - 1)
    write('SADD', KEYS[k + 5], outboxFrom, outboxFrom + o - 1, SENTINEL)
    -- Sentinel members: these keys exist, with their TTL, for the workflow's whole life (see
    -- create-9.lua). Only the scripts that release a node write the deps and released hashes
    -- (advance-n.lua, fail-6.lua): a plan that can release nothing (a lone task, a flat group)
    -- never has them, and skips three of its twelve commands.
    redis.call('HSET', KEYS[k + 2], SENTINEL, '')
    redis.call('HSET', KEYS[k + 3], SENTINEL, '')
    if releases then redis.call('HSET', KEYS[k + 6], SENTINEL, 0) end
    for key = k + 1, k + 6 do
      if (key ~= k + 4 or d > 0) and (key ~= k + 6 or releases) then
        if ttl > 0 then redis.call('EXPIRE', KEYS[key], ttl) else redis.call('PERSIST', KEYS[key]) end
      end
    end
    created[p] = 1
  end
end
return created
