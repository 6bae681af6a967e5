--[[
  Records a node's final failure, fails everything downstream of it (so no waiter hangs), and
  releases the error callbacks that failure fires — atomically, and only once however often the
  job is delivered. The callbacks fired are the node's own and, as in Celery, those of every join
  (chord body) the failure reaches, however deep: each join fails once (with the ChordError
  envelope), so its callbacks fire once per chord failure. Plain steps failed downstream fire none
  (Celery calls a chain's error callbacks once, from the failing step).

  Input:
    KEYS[1] graph hash   KEYS[2] state hash   KEYS[3] result hash
    KEYS[4] deps hash    KEYS[5] outbox set   KEYS[6] released hash
    ARGV[1] node index
    ARGV[2] envelope for the node and its plain successors (the original error)
    ARGV[3] envelope for joins downstream (ChordError)
    ARGV[4] ttl seconds   ARGV[5] events channel

  Output:
    { status, released... } with status
      RECORDED          recorded now
      ALREADY_RECORDED  already failed (a duplicate delivery): released lists the error callbacks
                        its failure fired that are still in the outbox
      ALREADY_ENDED     the node had already succeeded or been revoked: nothing changed
      NO_WORKFLOW       the workflow does not exist: nothing recorded
    and `released` as appended by appendReleased.

  Events: PUBLISH <channel> "<index>:FAILURE" for the node and every node failed downstream.
]]
--@include status
--@include split-indices
--@include is-terminal
--@include refresh-ttl
--@include append-released
if redis.call('EXISTS', KEYS[1]) == 0 then return { NO_WORKFLOW } end
local i = ARGV[1]
local state = redis.call('HGET', KEYS[2], i)
if state == 'SUCCESS' or state == 'REVOKED' then return { ALREADY_ENDED } end

local function isJoin(j)
  return redis.call('HEXISTS', KEYS[1], 'j:' .. j) == 1
end

local function appendErrbacks(list, j)
  for _, k in ipairs(splitIndices(redis.call('HGET', KEYS[1], 'e:' .. j))) do list[#list + 1] = k end
end

-- Walks everything downstream of the failed node. With `record`, fails each node that has not
-- ended; without, only retraces the walk (a duplicate delivery). Returns the error callbacks fired.
local function cascade(record)
  local errbacks = {}
  appendErrbacks(errbacks, i)
  local seen = {}
  local queue = splitIndices(redis.call('HGET', KEYS[1], 's:' .. i))
  local head = 1
  while head <= #queue do
    local j = queue[head]
    head = head + 1
    if not seen[j] then
      seen[j] = true
      local reach = not record or not isTerminal(redis.call('HGET', KEYS[2], j))
      if reach then
        local join = isJoin(j)
        if record then
          redis.call('HSET', KEYS[2], j, 'FAILURE')
          redis.call('HSET', KEYS[3], j, join and ARGV[3] or ARGV[2])
          redis.call('PUBLISH', ARGV[5], j .. ':FAILURE')
        end
        if join then appendErrbacks(errbacks, j) end
        for _, k in ipairs(splitIndices(redis.call('HGET', KEYS[1], 's:' .. j))) do queue[#queue + 1] = k end
      end
    end
  end
  return errbacks
end

local released = {}
if state == 'FAILURE' then
  for _, k in ipairs(cascade(false)) do
    if redis.call('SISMEMBER', KEYS[5], k) == 1 then released[#released + 1] = k end
  end
  return appendReleased(KEYS, { ALREADY_RECORDED }, released)
end

redis.call('HSET', KEYS[2], i, 'FAILURE')
redis.call('HSET', KEYS[3], i, ARGV[2])
redis.call('SREM', KEYS[5], i)
redis.call('PUBLISH', ARGV[5], i .. ':FAILURE')

for _, k in ipairs(cascade(true)) do
  if redis.call('HEXISTS', KEYS[2], k) == 0 and redis.call('SADD', KEYS[5], k) == 1 then
    redis.call('HINCRBY', KEYS[6], k, 1)
    released[#released + 1] = k
  end
end
refreshTtl(KEYS, tonumber(ARGV[4]))
return appendReleased(KEYS, { RECORDED }, released)
