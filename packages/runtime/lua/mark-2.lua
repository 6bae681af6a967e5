--[[
  Moves a node into a non-terminal state (STARTED, RETRY) unless it has already ended, so a late
  or duplicate delivery can never turn a finished result back into a running one.

  Input:
    KEYS[1] state hash   KEYS[2] result hash
    ARGV[1] node index   ARGV[2] new state   ARGV[3] envelope to store, or '' to keep the current one

  Output:
    { RECORDED }              the state changed
    { ALREADY_ENDED, state }  the node had already ended, in `state`
    { NO_WORKFLOW }           the workflow does not exist
]]
--@include status
--@include is-terminal
-- The state hash holds a sentinel member for the workflow's whole life (see create-9.lua).
if redis.call('EXISTS', KEYS[1]) == 0 then return { NO_WORKFLOW } end
local state = redis.call('HGET', KEYS[1], ARGV[1])
if isTerminal(state) then return { ALREADY_ENDED, state } end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return { RECORDED }
