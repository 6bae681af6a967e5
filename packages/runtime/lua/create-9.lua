--[[
  Publishes a workflow whose plan was written in slices under staging keys: unless the workflow
  already exists, the staged graph, deps and outbox are renamed into place (O(1) each) and the meta
  written, so the workflow appears atomically and applying the same ids twice stays idempotent.
  The staging keys share the workflow's hash tag, so this touches one Redis Cluster slot.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    KEYS[7] staged graph   KEYS[8] staged deps   KEYS[9] staged outbox
    ARGV[1] ttl in seconds (0: never expire)   ARGV[2] meta JSON

  Output:
    1 created, 0 the workflow already existed (the staging keys are discarded).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[7], KEYS[8], KEYS[9])
  return 0
end
redis.call('HSET', KEYS[7], 'meta', ARGV[2])
redis.call('RENAME', KEYS[7], KEYS[1])
if redis.call('EXISTS', KEYS[8]) == 1 then redis.call('RENAME', KEYS[8], KEYS[4]) end
if redis.call('EXISTS', KEYS[9]) == 1 then redis.call('RENAME', KEYS[9], KEYS[5]) end
-- Sentinel members: these keys exist, with their TTL, for the workflow's whole life, so the
-- scripts need not re-apply the TTL each time they write one (see refreshTtl).
redis.call('HSET', KEYS[2], '_', '')
redis.call('HSET', KEYS[3], '_', '')
-- On a Redis Cluster a script naming a key that does not exist is refused (TRYAGAIN) for as long
-- as its slot migrates; with deps always there too, a workflow's scripts wait only while its own
-- keys are split between two nodes.
redis.call('HSET', KEYS[4], '_', 0)
redis.call('SADD', KEYS[5], '_')
redis.call('HSET', KEYS[6], '_', 0)
local ttl = tonumber(ARGV[1])
for k = 1, 6 do
  if ttl > 0 then redis.call('EXPIRE', KEYS[k], ttl) else redis.call('PERSIST', KEYS[k]) end
end
return 1
