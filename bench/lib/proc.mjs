// Server cost from /proc: CPU time (utime + stime) and peak RSS (VmHWM) of a process and its
// descendants. Linux only; elsewhere both read as NaN and the report says so.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: 100 Hz is what Linux reports on every common architecture.
}

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** pid and every live descendant of it. */
export function processTree(root) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      parent.set(Number(name), Number(statFields(name)[1]));
    } catch {
      // exited while listing
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

/** CPU seconds (user + system, all threads) used so far by pid and its descendants. */
export function cpuSeconds(root) {
  let ticks = 0;
  try {
    for (const pid of processTree(root)) {
      try {
        const f = statFields(pid);
        ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // exited
      }
    }
  } catch {
    return NaN;
  }
  return ticks / ticksPerSecond;
}

/** Peak resident set (VmHWM) in bytes, summed over pid and its descendants. */
export function peakRssBytes(root) {
  let kb = 0;
  try {
    for (const pid of processTree(root)) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) kb += Number(m[1]);
      } catch {
        // exited
      }
    }
  } catch {
    return NaN;
  }
  return kb * 1024;
}
