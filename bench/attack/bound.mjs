// What the README allows stripecache to be resident during an attack, and the pass/fail lines
// of the issue: the probe is never refused or timed out, its p99 stays under 10 ms, resident
// memory stays within --memory plus the documented overhead and returns within 20% of idle.
//
// The README's overhead table (Memory section): about 80 MiB for the process with one thread,
// about 9 MiB per further thread, 1-8 KiB per connection (up to 32 KiB while a request head
// arrives in pieces), and each upload in flight its body. The bound takes the top of each range.

const MiB = 1024; // in KiB
export const PROBE_P99_LIMIT_MS = 10;
export const RECOVERY_FACTOR = 1.2;

export function documentedBound({ attack, params, memoryBytes, threads, durationS }) {
  const perConnectionKiB = attack === 'slowloris' ? 32 : 8;
  const terms = {
    memoryKiB: memoryBytes / 1024,
    processKiB: 80 * MiB + 9 * MiB * (threads - 1),
    connectionsKiB: params.connections * perConnectionKiB,
    uploadsKiB: 0,
  };
  if (attack === 'slowbody') {
    // Each trickled upload has sent at most one "&name=value" pair of 2 x chunkMax + 2 bytes per
    // interval: its body so far, which is all the README lets an upload cost.
    const ticks = Math.ceil(durationS / params.intervalS) + 1;
    terms.uploadsKiB = (params.connections * ticks * (2 * params.chunkMax + 2)) / 1024;
  }
  const totalKiB = terms.memoryKiB + terms.processKiB + terms.connectionsKiB + terms.uploadsKiB;
  return { ...terms, perConnectionKiB, totalKiB: Math.round(totalKiB) };
}

export function verdict(row) {
  const a = row.probe.attack;
  const reasons = [];
  if (a.timeout > 0) reasons.push(`${a.timeout} timed out`);
  if (a.failed > 0) reasons.push(`${a.failed} refused/reset/5xx`);
  if (!(a.p99Ms < PROBE_P99_LIMIT_MS)) reasons.push(`p99 ${a.p99Ms} ms`);
  if (row.aborted) reasons.push('aborted');
  if (row.serverExit) reasons.push('server exited');
  const probe = reasons.length === 0 ? 'pass' : `FAIL: ${reasons.join(', ')}`;
  const memory = row.bound ? (row.rss.peakKiB <= row.bound.totalKiB ? 'pass' : 'FAIL') : 'n/a';
  const recovery = row.rss.afterKiB <= RECOVERY_FACTOR * row.rss.idleKiB ? 'pass' : 'FAIL';
  return { probe, memory, recovery };
}
