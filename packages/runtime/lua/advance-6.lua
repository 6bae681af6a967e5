--[[
  Records a node's success and releases every successor whose last predecessor it was, in one
  atomic step. A redelivered job finds the node already recorded and only gets back the
  successors still waiting in the outbox, so nothing is released twice.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV[1] node index   ARGV[2] result envelope (JSON)   ARGV[3] ttl seconds   ARGV[4] events channel
    ARGV[5] inline limit: when more successors than this are released (0: no limit), only their
            indices are returned, so a huge fan-out never builds a reply of every spec and input

  Output:
    { status, released... } with status
      RECORDED          recorded now
      ALREADY_RECORDED  a duplicate delivery: released lists successors still in the outbox
      ALREADY_ENDED     the node had already failed or been revoked: nothing recorded, nothing released
      NO_WORKFLOW       the workflow does not exist: nothing recorded
    and `released` as appended by appendReleased (index, spec, input count, input envelopes), or
    beyond the inline limit '#' followed by the released indices.

  Events: PUBLISH <channel> "<index>:SUCCESS".
]]
--@include status
--@include split-indices
--@include is-terminal
--@include refresh-ttl
--@include append-released
--@include sentinel
local i = ARGV[1]
-- The state hash holds its sentinel for the workflow's whole life: one read says whether the
-- workflow exists and what state the node is in.
local read = redis.call('HMGET', KEYS[2], i, SENTINEL)
if not read[2] then return { NO_WORKFLOW } end
local state = read[1]
local released = {}
local status = RECORDED

if state == 'SUCCESS' then
  status = ALREADY_RECORDED
  for _, j in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. i))) do
    if redis.call('SISMEMBER', KEYS[5], j) == 1 then released[#released + 1] = j end
  end
elseif state == 'FAILURE' or state == 'REVOKED' then
  return { ALREADY_ENDED }
else
  redis.call('HSET', KEYS[2], i, 'SUCCESS')
  redis.call('HSET', KEYS[3], i, ARGV[2])
  redis.call('SREM', KEYS[5], i)
  for _, j in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. i))) do
    if not isTerminal(redis.call('HGET', KEYS[2], j)) and redis.call('HINCRBY', KEYS[4], j, -1) == 0 then
      redis.call('SADD', KEYS[5], j)
      redis.call('HINCRBY', KEYS[6], j, 1)
      released[#released + 1] = j
    end
  end
  redis.call('PUBLISH', ARGV[4], i .. ':SUCCESS')
  refreshTtl(tonumber(ARGV[3]))
end
local limit = tonumber(ARGV[5]) or 0
if limit > 0 and #released > limit then
  local out = { status, '#' }
  for k = 1, #released do out[k + 2] = released[k] end
  return out
end
return appendReleased({ status }, released)
