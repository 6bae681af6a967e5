--[[
  A per-task-name rate limit shared by every worker: Celery's token bucket of capacity 1, as a
  generic cell rate algorithm. Starts are spaced at least `interval` ms apart.

  Input:
    KEYS[1] the task's rate key
    ARGV[1] interval in milliseconds between two starts

  Output: 0 when the task may start now (the slot is taken), else milliseconds to wait.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > now then return tat - now end
redis.call('SET', KEYS[1], now + interval, 'PX', math.ceil(interval) + 1000)
return 0
