-- Shared by every workload script: argument parsing, per-thread seeding, request rings, and a
-- done() that prints one machine-readable line (BENCHJSON {...}) for bench/lib/wrk.mjs.
-- Scripts are run by wrk from the repository root; BENCH_LUA_DIR overrides where they live.
local M = {}

-- "key=value" arguments after wrk's "--"; numbers become numbers.
function M.args(args)
  local t = {}
  for _, a in ipairs(args or {}) do
    local k, v = string.match(a, "^([%w_]+)=(.*)$")
    if k then t[k] = tonumber(v) or v end
  end
  return t
end

local threads = {}
local next_id = 0

-- Runs in wrk's main Lua state once per thread, before that thread's init().
function M.setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

-- Each thread draws its own reproducible sequence: seed given by the harness, plus the thread id.
function M.seed(opts)
  math.randomseed((opts.seed or 1) * 1000003 + (tid or 0) * 7919)
end

-- A value of n bytes whose content depends on i, so that different keys hold different bytes.
function M.value(n, i)
  local unit = string.format("%08x", (i or 0) % 0x7fffffff)
  local s = string.rep(unit, math.floor(n / 8) + 1)
  return string.sub(s, 1, n)
end

-- Ring of prebuilt request strings: request() then costs an index and a counter, so a one-core
-- wrk keeps ahead of a one-core server. build(i) returns one request (or a pipelined batch).
function M.ring(size, build)
  local ring, lens = {}, {}
  for i = 1, size do
    ring[i] = build(i)
    lens[i] = #ring[i]
  end
  local pos = 0
  sent = 0
  return function()
    pos = pos + 1
    if pos > size then pos = 1 end
    sent = sent + lens[pos]
    return ring[pos]
  end
end

local function encode(v)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return string.format("%.17g", v)
  elseif type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do table.insert(parts, string.format("%q:%s", k, encode(x))) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "boolean" then
    return tostring(v)
  end
  return string.format("%q", tostring(v))
end

-- Sums a per-thread global over every thread (nil counts as 0).
function M.sum(name)
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get(name)) or 0) end
  return total
end

-- wrk's percentile() only walks buckets from latency.min up, but its coordinated-omission
-- correction adds samples below min (heavily so when pipelining, as it spaces them by the time
-- per response, not per batch), so a high percentile can come back 0. Then walk every bucket.
local function percentile(latency, p)
  local v = latency:percentile(p)
  if v > 0 or latency.max == 0 then return v end
  local total = 0
  for i = 0, latency.max do total = total + latency[i] end
  local rank, seen = p / 100 * total, 0
  for i = 0, latency.max do
    seen = seen + latency[i]
    if seen >= rank then return i end
  end
  return latency.max
end

-- wrk calls done() in the main state once the run is over. extra: per-thread global names to sum.
function M.done_with(extra)
  return function(summary, latency, requests)
    local out = {
      duration_us = summary.duration,
      requests = summary.requests,
      bytes_in = summary.bytes,
      bytes_out = M.sum("sent"),
      errors = {
        connect = summary.errors.connect,
        read = summary.errors.read,
        write = summary.errors.write,
        status = summary.errors.status,
        timeout = summary.errors.timeout,
      },
      latency_us = {
        min = latency.min,
        mean = latency.mean,
        max = latency.max,
        stdev = latency.stdev,
        p50 = percentile(latency, 50),
        p90 = percentile(latency, 90),
        p99 = percentile(latency, 99),
        p999 = percentile(latency, 99.9),
      },
      counters = {},
    }
    for _, name in ipairs(extra or {}) do out.counters[name] = M.sum(name) end
    io.write("BENCHJSON " .. encode(out) .. "\n")
  end
end

return M
