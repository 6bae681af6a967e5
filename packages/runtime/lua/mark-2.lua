--[[
  Moves a node into a non-terminal state (STARTED, RETRY) unless it has already ended, so a late
  or duplicate delivery can never turn a finished result back into a running one.

  Input:
    KEYS[1] state hash   KEYS[2] result hash
    ARGV[1] node index   ARGV[2] new state   ARGV[3] envelope to store, or '' to keep the current one

  Output: 'OK' when changed, otherwise the terminal state the node already has.
]]
local state = redis.call('HGET', KEYS[1], ARGV[1])
if state == 'SUCCESS' or state == 'FAILURE' or state == 'REVOKED' then return state end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) end
return 'OK'
