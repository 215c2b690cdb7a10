-- Zipf-distributed cache traffic over `keys` keys (rank r is key <prefix><r>): `writes` of the
-- requests POST a `value`-byte body, the rest GET. Requests are drawn one at a time (a ring would
-- cap the distinct keys). Misses are the GETs answered 404, so hit ratio = 1 - misses / gets.
-- wrk -s bench/lua/zipf.lua URL -- keys=1000000 s=0.99 value=1024 writes=0.2
package.path = (os.getenv("BENCH_LUA_DIR") or "bench/lua") .. "/?.lua;" .. package.path
local common = require("common")
local zipf = require("zipf_sampler")
setup = common.setup

function init(args)
  local o = common.args(args)
  common.seed(o)
  local prefix, writes = o.prefix or "z", o.writes or 0.2
  local sample = zipf.sampler(o.keys or 1000000, o.s or 0.99, math.random)
  local body = common.value(o.value or 1024, tid)
  local blen = #body
  local post_head = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] ..
    "\r\nContent-Type: application/octet-stream\r\nContent-Length: " .. blen .. "\r\n\r\n"
  local get_tail = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n\r\n"
  gets, posts, sent = 0, 0, 0
  request = function()
    local r
    if math.random() < writes then
      posts = posts + 1
      r = "POST /store/" .. prefix .. sample() .. post_head .. body
    else
      gets = gets + 1
      r = "GET /get/" .. prefix .. sample() .. get_tail
    end
    sent = sent + #r
    return r
  end
end

function response(status)
  if status == 404 then misses = (misses or 0) + 1 elseif status >= 500 then failed = (failed or 0) + 1 end
end

done = common.done_with({ "gets", "posts", "misses", "failed" })
