// Summaries of the probe's lines and the RSS samples, split by phase (idle, attack, after).

export const OUTCOMES = ['ok', 'timeout', 'refused', 'reset', 'http5xx', 'error'];

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** "<epoch ms> <outcome> <latency ms> <status>" lines -> [{ at, outcome, latency, status }]. */
export function parseProbeLines(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const [at, outcome, latency, status] = line.trim().split(' ');
    if (!OUTCOMES.includes(outcome)) continue;
    out.push({ at: Number(at), outcome, latency: Number(latency), status: Number(status) });
  }
  return out;
}

/** Counts per outcome and latency percentiles of the complete answers, for probes started in [from, to). */
export function probePhase(probes, from, to) {
  const inPhase = probes.filter((p) => p.at >= from && p.at < to);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0]));
  for (const p of inPhase) counts[p.outcome]++;
  const lat = inPhase
    .filter((p) => p.outcome === 'ok')
    .map((p) => p.latency)
    .sort((a, b) => a - b);
  const r = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
  return {
    probes: inPhase.length,
    ...counts,
    failed: inPhase.length - counts.ok - counts.timeout,
    p50Ms: r(percentile(lat, 50)),
    p90Ms: r(percentile(lat, 90)),
    p99Ms: r(percentile(lat, 99)),
    maxMs: r(lat.at(-1)),
  };
}

/** RSS samples [[epoch ms, KiB]] -> the values the report needs. */
export function rssSummary(samples, { idleFrom, attackFrom, attackTo, afterTo }) {
  const kib = (from, to) => samples.filter(([t]) => t >= from && t < to).map(([, k]) => k);
  const idle = kib(idleFrom, attackFrom);
  // Peak over the attack and the second after it: closing 1000 sockets at once can cost memory too.
  const during = kib(attackFrom, attackTo + 1000);
  const tailWindow = kib(afterTo - 1000, afterTo + 1);
  return {
    idleKiB: median(idle),
    peakKiB: during.length ? Math.max(...during) : NaN,
    afterKiB: median(tailWindow),
    samples: samples.length,
  };
}
