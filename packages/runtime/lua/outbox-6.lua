--[[
  Lists released nodes whose jobs may not have been enqueued yet, so whoever holds them can
  finish enqueueing: a retried apply or a recovery pass asks for the whole outbox, a worker running
  a release job (see dispatch.ts) for that job's nodes. Enqueueing is idempotent because job ids
  are the node ids, and a node leaves the outbox atomically with its outcome, so a node that has
  already ended is never listed.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV    node indices to keep, if any; none lists the whole outbox

  Output: { RECORDED, released... } as appended by appendReleased, or { NO_WORKFLOW }.
]]
--@include status
--@include sentinel
--@include append-released
if redis.call('EXISTS', KEYS[1]) == 0 then return { NO_WORKFLOW } end
local pending = {}
if #ARGV == 0 then
  for _, j in ipairs(redis.call('SMEMBERS', KEYS[5])) do
    if j ~= SENTINEL then pending[#pending + 1] = j end
  end
else
  for _, j in ipairs(ARGV) do
    if redis.call('SISMEMBER', KEYS[5], j) == 1 then pending[#pending + 1] = j end
  end
end
return appendReleased(KEYS, { RECORDED }, pending)
