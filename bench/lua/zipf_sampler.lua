-- Zipf(s) over ranks 1..n by rejection-inversion (Hörmann and Derflinger, 1996): O(1) per draw,
-- no table. Same algorithm as bench/lib/zipf.mjs, whose tests check the distribution.
local M = {}

local function helper1(x) -- log(1+x)/x, stable near 0
  if math.abs(x) > 1e-8 then return math.log(1 + x) / x end
  return 1 - x * (0.5 - x * (1 / 3 - 0.25 * x))
end

local function helper2(x) -- (exp(x)-1)/x, stable near 0
  if math.abs(x) > 1e-8 then return (math.exp(x) - 1) / x end
  return 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x))
end

function M.sampler(n, s, rand)
  local function h(x) return math.exp(-s * math.log(x)) end
  local function H(x) local lx = math.log(x); return helper2((1 - s) * lx) * lx end
  local function Hinv(x)
    local t = x * (1 - s)
    if t < -1 then t = -1 end
    return math.exp(helper1(t) * x)
  end
  local hx1 = H(1.5) - 1
  local hn = H(n + 0.5)
  local sv = 2 - Hinv(H(2.5) - h(2))
  return function()
    while true do
      local u = hn + rand() * (hx1 - hn)
      local x = Hinv(u)
      local k = math.floor(x + 0.5)
      if k < 1 then k = 1 elseif k > n then k = n end
      if k - x <= sv or u >= H(k + 0.5) - h(k) then return k end
    end
  end
end

return M
