--[[
  Revokes nodes: each named node that has not ended, and everything downstream of it, becomes
  REVOKED with the given envelope, so it never runs and no waiter hangs. The state lives in Redis,
  so a revocation outlives any worker restart. Error callbacks do not fire (as in Celery).

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV[1] envelope to store (REVOKED)   ARGV[2] ttl seconds   ARGV[3] events channel
    ARGV[4] 'all' to revoke every unfinished node of the workflow, else ''
    ARGV[5...] node indices to revoke (with their downstream)

  Output: the indices that were revoked now (some may be running: the caller may terminate them).

  Events: PUBLISH <channel> "<index>:REVOKED" for each.
]]
--@include split-indices
--@include is-terminal
--@include refresh-ttl
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local queue = {}
if ARGV[4] == 'all' then
  local meta = cjson.decode(redis.call('HGET', KEYS[1], 'meta'))
  for k = 1, #meta.nodes do queue[#queue + 1] = tostring(k - 1) end
else
  for k = 5, #ARGV do queue[#queue + 1] = ARGV[k] end
end

local revoked = {}
local head = 1
while head <= #queue do
  local j = queue[head]
  head = head + 1
  if not isTerminal(redis.call('HGET', KEYS[2], j)) then
    redis.call('HSET', KEYS[2], j, 'REVOKED')
    redis.call('HSET', KEYS[3], j, ARGV[1])
    redis.call('SREM', KEYS[5], j)
    redis.call('PUBLISH', ARGV[3], j .. ':REVOKED')
    revoked[#revoked + 1] = tonumber(j)
    for _, k in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. j))) do queue[#queue + 1] = k end
  end
end
refreshTtl(KEYS, tonumber(ARGV[2]))
return revoked
