--[[
  Lists every released node whose job may not have been enqueued yet, so whoever finds a
  non-empty outbox (a retried apply, a recovery pass) can finish enqueueing it. Enqueueing is
  idempotent because job ids are the node ids.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash

  Output: { 0, released... } as appended by appendReleased.
]]
--@include released
local pending = {}
for _, j in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if j ~= SENTINEL then pending[#pending + 1] = j end
end
return appendReleased({ 0 }, pending)
