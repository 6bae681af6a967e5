-- Keeps a running workflow alive: its keys expire `ttl` seconds after its last activity, give or
-- take a minute. Refreshing at most once a minute costs one TTL read per call instead of six
-- EXPIREs; the keys carry a sentinel member from creation (see create-9.lua), so none of them is
-- ever recreated without a TTL in between. `keys` are the workflow's six keys, graph hash first.
local function refreshTtl(keys, ttl)
  if ttl > 0 and redis.call('TTL', keys[1]) < ttl - math.min(60, ttl / 2) then
    for k = 1, 6 do redis.call('EXPIRE', keys[k], ttl) end
  end
end
