--[[
  Records a worker's heartbeat, and with ARGV[3] its record (an announce), on Redis's clock, so
  workers and readers on machines with skewed clocks agree on who is online. Also forgets
  workers not heard of for longer than the retention, a few per call.

  KEYS[1] seen: sorted set, worker name -> epoch ms of its last heartbeat
  KEYS[2] info: hash, worker name -> record JSON
  KEYS[3] live: hash, worker name -> live counters JSON (with the process's "instance" id)

  ARGV[1] worker name
  ARGV[2] live counters JSON
  ARGV[3] record JSON to store, or '' for a plain heartbeat
  ARGV[4] retention ms: how long an offline worker stays listed; also the keys' TTL
  ARGV[5] this process's instance id
  ARGV[6] online window ms: a worker heard of within it is online

  Returns {now, status, other}
    now    epoch ms by Redis's clock
    status 1 = recorded; 0 = plain heartbeat but the record is gone (expired, or Redis lost it):
           nothing was written, announce again
    other  on an announce, the instance id of another process that was online under this name, else ''
]]
local seen, info, live = KEYS[1], KEYS[2], KEYS[3]
local name, counters, record = ARGV[1], ARGV[2], ARGV[3]
local retention, instance, window = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local stale = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. (now - retention), 'LIMIT', 0, 100)
if #stale > 0 then
  redis.call('ZREM', seen, unpack(stale))
  redis.call('HDEL', info, unpack(stale))
  redis.call('HDEL', live, unpack(stale))
end

local other = ''
if record == '' then
  if redis.call('HEXISTS', info, name) == 0 then return {now, 0, ''} end
else
  local last = redis.call('ZSCORE', seen, name)
  if last and now - tonumber(last) <= window then
    local ok, previous = pcall(cjson.decode, redis.call('HGET', live, name) or '')
    if ok and type(previous) == 'table' and type(previous.instance) == 'string' and previous.instance ~= instance then
      other = previous.instance
    end
  end
  redis.call('HSET', info, name, record)
end
redis.call('HSET', live, name, counters)
redis.call('ZADD', seen, now, name)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, retention) end
return {now, 1, other}
