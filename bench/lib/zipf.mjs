// Zipf(s) over ranks 1..n by rejection-inversion (Hörmann and Derflinger, 1996), the same
// algorithm as bench/lua/zipf_sampler.lua, plus a seeded PRNG so traces are reproducible.

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const helper1 = (x) => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x)));
const helper2 = (x) =>
  Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));

/** Returns a function drawing ranks in 1..n with P(k) proportional to k^-s (s > 0). */
export function zipfSampler(n, s, rand = Math.random) {
  if (!(n >= 1) || !(s > 0)) throw new RangeError('zipf needs n >= 1 and s > 0');
  const h = (x) => Math.exp(-s * Math.log(x));
  const H = (x) => {
    const lx = Math.log(x);
    return helper2((1 - s) * lx) * lx;
  };
  const Hinv = (x) => {
    let t = x * (1 - s);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  };
  const hx1 = H(1.5) - 1;
  const hn = H(n + 0.5);
  const sv = 2 - Hinv(H(2.5) - h(2));
  return () => {
    for (;;) {
      const u = hn + rand() * (hx1 - hn);
      const x = Hinv(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= sv || u >= H(k + 0.5) - h(k)) return k;
    }
  };
}

/** Exact P(rank = k) for Zipf(s) over 1..n, for tests and expected hit ratios. */
export function zipfPmf(n, s) {
  const p = new Float64Array(n + 1);
  let z = 0;
  for (let k = 1; k <= n; k++) z += p[k] = Math.pow(k, -s);
  for (let k = 1; k <= n; k++) p[k] /= z;
  return p;
}
