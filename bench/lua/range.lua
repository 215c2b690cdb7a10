-- The streaming-chunk case: random `slice`-byte Range reads (aligned to the slice size) of one
-- preloaded `size`-byte value. wrk -s bench/lua/range.lua URL -- key=big size=10485760 slice=4096
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local common = require("common")
setup = common.setup

function init(args)
  local o = common.args(args)
  common.seed(o)
  local key, size, slice = o.key or "big", o.size or 10485760, o.slice or 4096
  local slices = math.floor(size / slice)
  request = common.ring(o.ring or 65536, function()
    local a = math.random(0, slices - 1) * slice
    return wrk.format("GET", "/get/" .. key, { Range = "bytes=" .. a .. "-" .. (a + slice - 1) })
  end)
end

-- Counting statuses costs wrk some CPU, but proves every answer was a 206 and not a full 10 MiB.
function response(status)
  if status == 206 then partial = (partial or 0) + 1 else other = (other or 0) + 1 end
end

done = common.done_with({ "partial", "other" })
