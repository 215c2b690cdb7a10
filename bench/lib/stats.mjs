// Medians and spreads over repeated runs, and the 15% rule for calling a difference.

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Spread as (max - min) / median, the figure the README quotes as ±. */
export function spread(xs) {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length < 2) return NaN;
  const med = median(v);
  return med === 0 ? NaN : (Math.max(...v) - Math.min(...v)) / med;
}

export const NOT_SHOWN = 0.15;

/**
 * Compares a to a baseline b (both medians, higher is better unless lowerIsBetter): returns the
 * ratio and a verdict; differences under 15% are "not shown".
 */
export function compare(a, b, { lowerIsBetter = false } = {}) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return { ratio: NaN, verdict: 'n/a' };
  const ratio = a / b;
  if (Math.abs(ratio - 1) < NOT_SHOWN) return { ratio, verdict: 'not shown' };
  const better = lowerIsBetter ? ratio < 1 : ratio > 1;
  return { ratio, verdict: better ? 'better' : 'worse' };
}
