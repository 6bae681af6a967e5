--[[
  Reads one node's state and stored envelope in one request (a waiter's read after an
  announcement). A script rather than a pipeline of two HGETs: an ioredis pipeline on a connection
  with many scripts defined (BullMQ's and ours) costs the client more CPU than the request itself.

  Input:
    KEYS[1] state hash   KEYS[2] result hash
    ARGV[1] node index

  Output:
    { state or false, envelope or false }
]]
return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1]) }
