// Reading V8 .cpuprofile files (as written by node --cpu-prof): self time per function and the
// call tree for a flame graph.
import path from 'node:path';
import { ROOT } from './servers.mjs';

function frameName(cf) {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  let url = cf.url.replace(/^file:\/\//, '');
  if (url.startsWith(ROOT)) url = path.relative(ROOT, url);
  return `${fn} ${url}:${cf.lineNumber + 1}`;
}

/** Milliseconds of self time per node id, from samples and timeDeltas. */
function selfTimes(profile) {
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the gap before sample i; attribute the gap after it (the time until the
    // next sample) to sample i, as DevTools does.
    const dt = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  return self;
}

/**
 * Top functions by self time: [{ name, selfMs, share }] where share is of the busy (non-idle)
 * time, plus the sampled total and idle time in ms.
 */
export function topSelf(profile, n = 15) {
  const self = selfTimes(profile);
  const byName = new Map();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    total += ms;
    if (node.callFrame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const name = frameName(node.callFrame);
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  const busy = total - idle;
  const rows = [...byName].map(([name, selfMs]) => ({ name, selfMs, share: busy ? selfMs / busy : 0 }));
  rows.sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: total, idleMs: idle, rows: rows.slice(0, n) };
}

/** The call tree as { name, self, children } (ms), (idle) dropped so busy time fills the graph. */
export function callTree(profile) {
  const self = selfTimes(profile);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const build = (node) => ({
    name: frameName(node.callFrame),
    self: self.get(node.id) ?? 0,
    children: (node.children ?? [])
      .map((id) => byId.get(id))
      .filter((c) => c && c.callFrame.functionName !== '(idle)')
      .map(build),
  });
  const root = build(profile.nodes[0]);
  root.name = 'all';
  return root;
}
