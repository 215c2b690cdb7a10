// What the figures were measured on, and how the cores are split between server and client.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    }).trim();
  } catch (e) {
    return ((e.stdout ?? '') + (e.stderr ?? '')).trim() || null;
  }
}

export function cpuModel() {
  try {
    const m = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineInfo() {
  const wrk = tryRun('wrk', ['-v']);
  return {
    cores: os.availableParallelism(),
    cpu: cpuModel(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    arch: process.arch,
    wrk: wrk ? (/wrk\s+(\S+)/.exec(wrk)?.[1] ?? wrk.split('\n')[0]) : null,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** "0-2,5" -> [0, 1, 2, 5] */
export function parseCpuList(text) {
  const out = [];
  for (const part of String(text).split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`bad CPU list "${text}" (expected e.g. 0-3,6)`);
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/**
 * Default pinning: the client gets the upper half of the cores (at least one), the server the
 * rest; on 2 cores that is server on core 0 and wrk on core 1. Returns null when pinning is off
 * or impossible (one core, or no taskset).
 */
export function cpuSplit({ pin, serverCpus, wrkCpus }) {
  if (!pin) return null;
  if (tryRun('taskset', ['-V']) === null)
    return { error: 'taskset not found (util-linux); run with --no-pin' };
  const n = os.availableParallelism();
  if (serverCpus && wrkCpus) return { server: parseCpuList(serverCpus), wrk: parseCpuList(wrkCpus) };
  if (n < 2) return { error: 'one core only: cannot pin server and client apart; run with --no-pin' };
  const wrkCount = Math.max(1, Math.floor(n / 2));
  const all = Array.from({ length: n }, (_, i) => i);
  return {
    server: serverCpus ? parseCpuList(serverCpus) : all.slice(0, n - wrkCount),
    wrk: wrkCpus ? parseCpuList(wrkCpus) : all.slice(n - wrkCount),
  };
}

export function versionOf(cmd, args = ['--version']) {
  return tryRun(cmd, args);
}

/** Arguments as a shell would need them typed, for the "Command" line of reports. */
export function shellJoin(args) {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
