-- Whether a stored node state is final: a final state never changes again.
local function isTerminal(state)
  return state == 'SUCCESS' or state == 'FAILURE' or state == 'REVOKED'
end
