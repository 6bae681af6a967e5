-- Return codes shared by the scripts; lua.ts names the same numbers (ScriptStatus).
local RECORDED = 0           -- the outcome was recorded now
local ALREADY_RECORDED = 1   -- a duplicate delivery: the same outcome was recorded before
local ALREADY_ENDED = 2      -- the node had ended otherwise (failed, revoked, succeeded)
local NO_WORKFLOW = -1       -- the workflow does not exist (expired, or never created)
