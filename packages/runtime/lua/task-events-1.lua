--[[
  Appends a batch of task events to the capped event stream, one entry per event, in order. A
  worker sends the events of one event-loop turn in one call, so emitting costs its process one
  command per turn instead of one per event.

  KEYS[1] the event stream
  ARGV[1] approximate maximum length (XADD MAXLEN ~)
  ARGV[2..n] event JSON, oldest first

  Returns the number of entries added.
]]
local stream, maxlen = KEYS[1], ARGV[1]
for i = 2, #ARGV do
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'e', ARGV[i])
end
return #ARGV - 1
