--[[
  Reads nodes' states and stored envelopes: a waiter's read after an announcement. The reads that
  waiters make in the same moment go in one call (store.ts): on one Redis server those of every
  workflow, on a cluster those of one workflow (a script's keys must share a slot). A burst of
  announcements (1 000 lone tasks ending at once) then costs a few requests, not one per waiter.
  A script rather than a pipeline of HGETs: an ioredis pipeline on a connection with many scripts
  defined (BullMQ's and ours) costs the client more CPU than the request itself.

  Input (the caller passes the number of keys, 2 per node):
    KEYS[2k-1] node k's state hash   KEYS[2k] node k's result hash
    ARGV[k]    node k's index

  Output:
    { state or false, envelope or false } per node, in order.
]]
local replies = {}
for k = 1, #ARGV do
  replies[k] = { redis.call('HGET', KEYS[2 * k - 1], ARGV[k]), redis.call('HGET', KEYS[2 * k], ARGV[k]) }
end
return replies
