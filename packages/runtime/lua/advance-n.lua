--[[
  Records the successes of one or more nodes, of one or more workflows, and releases every
  successor whose last predecessor each was: per node one atomic step, all of them in one call. A
  redelivered job finds its node already recorded and only gets back the successors still waiting
  in the outbox, so nothing is released twice. The worker sends the successes its jobs reached in
  the same moment in one call (store.ts): on one Redis server those of every workflow, on a cluster
  those of one workflow (its keys share one slot). A group's members, or the hops of many small
  workflows, cost one request per batch, not per task.

  Input (the caller passes the number of keys, 6 per workflow):
    KEYS[6w-5 .. 6w] workflow w's keys: graph hash, state hash, result hash, deps hash, outbox set,
                     released hash
    ARGV[1] ttl seconds
    ARGV[2] W, the number of workflows
    ARGV[3 .. 2+W] workflow w's events channel
    ARGV[3+W ..] four arguments per node, nodes in order:
      workflow w (1-based), node index, result envelope (JSON), inline limit: when more successors
      than this are released (0: no limit), only their indices are returned, so a huge fan-out never
      builds a reply of every spec and input

  Output:
    one reply per node, in order: { status, released... } with status
      RECORDED          recorded now
      ALREADY_RECORDED  a duplicate delivery: released lists successors still in the outbox
      ALREADY_ENDED     the node had already failed or been revoked: nothing recorded, nothing released
      NO_WORKFLOW       the workflow does not exist: nothing recorded
    and `released` as appended by appendReleased (index, spec, input count, input envelopes), or
    beyond the inline limit '#' followed by the released indices.

  Events: PUBLISH <channel of w> "<index>:SUCCESS" for each node recorded now.
]]
--@include status
--@include split-indices
--@include is-terminal
--@include refresh-ttl
--@include append-released
--@include sentinel

local function advance(keys, channel, i, envelope, limit)
  -- The state hash holds its sentinel for the workflow's whole life: one read says whether the
  -- workflow exists and what state the node is in.
  local read = redis.call('HMGET', keys[2], i, SENTINEL)
  if not read[2] then return { NO_WORKFLOW }, false end
  local state = read[1]
  local released = {}
  local status = RECORDED

  if state == 'SUCCESS' then
    status = ALREADY_RECORDED
    for _, j in ipairs(splitIndices(redis.call('HGET', keys[1], 's:' .. i))) do
      if redis.call('SISMEMBER', keys[5], j) == 1 then released[#released + 1] = j end
    end
  elseif state == 'FAILURE' or state == 'REVOKED' then
    return { ALREADY_ENDED }, false
  else
    redis.call('HSET', keys[2], i, 'SUCCESS')
    redis.call('HSET', keys[3], i, envelope)
    redis.call('SREM', keys[5], i)
    for _, j in ipairs(splitIndices(redis.call('HGET', keys[1], 's:' .. i))) do
      if not isTerminal(redis.call('HGET', keys[2], j)) and redis.call('HINCRBY', keys[4], j, -1) == 0 then
        redis.call('SADD', keys[5], j)
        redis.call('HINCRBY', keys[6], j, 1)
        released[#released + 1] = j
      end
    end
    redis.call('PUBLISH', channel, i .. ':SUCCESS')
  end
  if limit > 0 and #released > limit then
    local out = { status, '#' }
    for k = 1, #released do out[k + 2] = released[k] end
    return out, status == RECORDED
  end
  return appendReleased(keys, { status }, released), status == RECORDED
end

local workflows = tonumber(ARGV[2])
local keysOf, recorded = {}, {}
for w = 1, workflows do keysOf[w] = { unpack(KEYS, 6 * w - 5, 6 * w) } end
local replies = {}
for a = 3 + workflows, #ARGV, 4 do
  local w = tonumber(ARGV[a])
  local reply, now = advance(keysOf[w], ARGV[2 + w], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3]) or 0)
  replies[#replies + 1] = reply
  recorded[w] = recorded[w] or now
end
for w = 1, workflows do
  if recorded[w] then refreshTtl(keysOf[w], tonumber(ARGV[1])) end
end
return replies
