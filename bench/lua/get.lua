-- GET of preloaded keys, uniform over `keys` keys named <prefix><i>; depth>1 pipelines batches.
-- wrk -s bench/lua/get.lua URL -- keys=10000 prefix=k64- depth=1 seed=1
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local common = require("common")
setup = common.setup

function init(args)
  local o = common.args(args)
  common.seed(o)
  local keys, prefix, depth = o.keys or 10000, o.prefix or "k64-", o.depth or 1
  local size = o.ring or 65536
  if depth > 1 then size = math.floor(size / depth) end
  request = common.ring(size, function()
    local batch = {}
    for d = 1, depth do
      batch[d] = wrk.format("GET", "/get/" .. prefix .. math.random(0, keys - 1), {})
    end
    return table.concat(batch)
  end)
end

done = common.done_with({})
