--[[
  Records the successes of one or more nodes of one workflow, and releases every successor whose
  last predecessor each was: per node one atomic step, all of them in one call. A redelivered job
  finds its node already recorded and only gets back the successors still waiting in the outbox,
  so nothing is released twice. The worker sends the successes its jobs reached in the same
  moment in one call (store.ts), so a group's members cost one request per batch, not per member.

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV[1] ttl seconds   ARGV[2] events channel
    ARGV[3..] three arguments per node, nodes in order:
      node index, result envelope (JSON), inline limit: when more successors than this are
      released (0: no limit), only their indices are returned, so a huge fan-out never builds a
      reply of every spec and input

  Output:
    one reply per node, in order: { status, released... } with status
      RECORDED          recorded now
      ALREADY_RECORDED  a duplicate delivery: released lists successors still in the outbox
      ALREADY_ENDED     the node had already failed or been revoked: nothing recorded, nothing released
      NO_WORKFLOW       the workflow does not exist: nothing recorded
    and `released` as appended by appendReleased (index, spec, input count, input envelopes), or
    beyond the inline limit '#' followed by the released indices.

  Events: PUBLISH <channel> "<index>:SUCCESS" for each node recorded now.
]]
--@include status
--@include split-indices
--@include is-terminal
--@include refresh-ttl
--@include append-released
--@include sentinel

local function advance(i, envelope, limit)
  -- The state hash holds its sentinel for the workflow's whole life: one read says whether the
  -- workflow exists and what state the node is in.
  local read = redis.call('HMGET', KEYS[2], i, SENTINEL)
  if not read[2] then return { NO_WORKFLOW }, false end
  local state = read[1]
  local released = {}
  local status = RECORDED

  if state == 'SUCCESS' then
    status = ALREADY_RECORDED
    for _, j in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. i))) do
      if redis.call('SISMEMBER', KEYS[5], j) == 1 then released[#released + 1] = j end
    end
  elseif state == 'FAILURE' or state == 'REVOKED' then
    return { ALREADY_ENDED }, false
  else
    redis.call('HSET', KEYS[2], i, 'SUCCESS')
    redis.call('HSET', KEYS[3], i, envelope)
    redis.call('SREM', KEYS[5], i)
    for _, j in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. i))) do
      if not isTerminal(redis.call('HGET', KEYS[2], j)) and redis.call('HINCRBY', KEYS[4], j, -1) == 0 then
        redis.call('SADD', KEYS[5], j)
        redis.call('HINCRBY', KEYS[6], j, 1)
        released[#released + 1] = j
      end
    end
    redis.call('PUBLISH', ARGV[2], i .. ':SUCCESS')
  end
  if limit > 0 and #released > limit then
    local out = { status, '#' }
    for k = 1, #released do out[k + 2] = released[k] end
    return out, status == RECORDED
  end
  return appendReleased({ status }, released), status == RECORDED
end

local replies = {}
local recorded = false
for a = 3, #ARGV, 3 do
  local reply, now = advance(ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]) or 0)
  replies[#replies + 1] = reply
  recorded = recorded or now
end
if recorded then refreshTtl(tonumber(ARGV[1])) end
return replies
