-- Appends, for each released node index in `indices`, the data a worker needs to enqueue it:
-- index, spec JSON (`n:<i>`), the number of input envelopes, then those envelopes in input order.
-- `keys` are the workflow's six keys, graph hash first (result hash third).
local function appendReleased(keys, out, indices)
  for _, j in ipairs(indices) do
    out[#out + 1] = j
    out[#out + 1] = redis.call('HGET', keys[1], 'n:' .. j)
    local inputs = redis.call('HGET', keys[1], 'a:' .. j)
    local ids = {}
    if inputs then
      for k in string.gmatch(inputs, '[^,]+') do ids[#ids + 1] = k end
    end
    out[#out + 1] = #ids
    -- HMGET in slices: Lua's unpack() has a small argument limit.
    for from = 1, #ids, 1000 do
      local to = math.min(from + 999, #ids)
      local values = redis.call('HMGET', keys[3], unpack(ids, from, to))
      for v = 1, #values do out[#out + 1] = values[v] or false end
    end
  end
  return out
end
