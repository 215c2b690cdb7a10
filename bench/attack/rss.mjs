// Resident memory of the server under test: VmRSS from /proc/PID/status, summed over the server's
// processes (stripecache is one process: supervisor and worker threads share it; nginx is a
// master and its workers), sampled on a fixed period.
import { readFileSync } from 'node:fs';
import { processTree } from '../lib/proc.mjs';

/** VmRSS (or another /proc status field) of one process in KiB, or NaN once it has exited. */
export function statusKiB(pid, field = 'VmRSS') {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Samples the summed VmRSS of root and its descendants every periodMs. The process tree is
 * looked up again every second (nginx workers are children of its master), not on every sample:
 * a full /proc scan per 100 ms sample would cost more than the reading itself.
 */
export function startSampler(root, periodMs, onSample) {
  const t0 = performance.now();
  const samples = [];
  let pids = processTree(root);
  let lastTree = t0;
  const take = () => {
    const now = performance.now();
    if (now - lastTree > 1000) {
      pids = processTree(root);
      lastTree = now;
    }
    let kib = 0;
    for (const pid of pids) {
      const v = statusKiB(pid);
      if (Number.isFinite(v)) kib += v;
    }
    const sample = [Math.round(now - t0), kib];
    samples.push(sample);
    onSample?.(sample);
  };
  take();
  const timer = setInterval(take, periodMs);
  return {
    t0,
    samples,
    /** Peak resident set (VmHWM) summed over the tree: a cross-check that no spike fell between samples. */
    hwmKiB: () => pids.reduce((sum, pid) => sum + (statusKiB(pid, 'VmHWM') || 0), 0),
    stop: () => clearInterval(timer),
  };
}
