-- Splits a stored comma-separated list of node indices ("3,4,7") into a Lua list.
local function splitIndices(csv)
  local list = {}
  if csv then
    for j in string.gmatch(csv, '[^,]+') do list[#list + 1] = j end
  end
  return list
end
