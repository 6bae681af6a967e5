--[[
  Lists the workers presence knows, with Redis's clock, after forgetting those not heard of for
  longer than the retention (a few per call). O(workers): no SCAN.

  KEYS[1] seen: sorted set, worker name -> epoch ms of its last heartbeat
  KEYS[2] info: hash, worker name -> record JSON
  KEYS[3] live: hash, worker name -> live counters JSON

  ARGV[1] retention ms

  Returns {now, name1, lastBeat1, record1, counters1, name2, ...}; a record or counters value is
  false (nil) when missing.
]]
local seen, info, live = KEYS[1], KEYS[2], KEYS[3]
local retention = tonumber(ARGV[1])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local stale = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. (now - retention), 'LIMIT', 0, 100)
if #stale > 0 then
  redis.call('ZREM', seen, unpack(stale))
  redis.call('HDEL', info, unpack(stale))
  redis.call('HDEL', live, unpack(stale))
end

local reply = {now}
local workers = redis.call('ZRANGE', seen, 0, -1, 'WITHSCORES')
for i = 1, #workers, 2 do
  local name = workers[i]
  reply[#reply + 1] = name
  reply[#reply + 1] = tonumber(workers[i + 1])
  reply[#reply + 1] = redis.call('HGET', info, name)
  reply[#reply + 1] = redis.call('HGET', live, name)
end
return reply
