-- The sentinel member every workflow set and hash holds from creation (see create-9.lua), so none
-- of them is ever deleted and recreated without its TTL.
local SENTINEL = '_'
