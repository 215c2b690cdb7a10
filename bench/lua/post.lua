-- POST of `value`-byte bodies (1 MiB) over `keys` keys, so that the stored set stays bounded.
-- wrk -s bench/lua/post.lua URL -- keys=64 value=1048576
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local common = require("common")
setup = common.setup

function init(args)
  local o = common.args(args)
  common.seed(o)
  local keys, value, prefix = o.keys or 64, o.value or 1048576, o.prefix or "m-"
  local body = common.value(value, tid)
  local ctype = { ["Content-Type"] = "application/octet-stream" }
  -- A short ring: each entry holds a whole body.
  request = common.ring(o.ring or 16, function()
    return wrk.format("POST", "/store/" .. prefix .. math.random(0, keys - 1), ctype, body)
  end)
end

done = common.done_with({})
