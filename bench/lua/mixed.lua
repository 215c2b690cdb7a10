-- The cache workload: `writes` (0.2) of requests POST a `value`-byte body, the rest GET, both
-- uniform over `keys` preloaded keys; depth>1 pipelines batches.
-- wrk -s bench/lua/mixed.lua URL -- keys=10000 value=64 writes=0.2 depth=1
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local common = require("common")
setup = common.setup

function init(args)
  local o = common.args(args)
  common.seed(o)
  local keys, prefix, value, writes = o.keys or 10000, o.prefix or "k64-", o.value or 64, o.writes or 0.2
  local body = common.value(value, tid)
  local ctype = { ["Content-Type"] = "application/octet-stream" }
  local depth = o.depth or 1
  local function one()
    local key = prefix .. math.random(0, keys - 1)
    if math.random() < writes then return wrk.format("POST", "/store/" .. key, ctype, body) end
    return wrk.format("GET", "/get/" .. key, {})
  end
  request = common.ring(math.floor((o.ring or 65536) / depth), function()
    local batch = {}
    for d = 1, depth do batch[d] = one() end
    return table.concat(batch)
  end)
end

done = common.done_with({})
