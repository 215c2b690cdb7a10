// Runs wrk with one of the Lua scripts and returns the figures its done() printed, plus the CPU
// time wrk itself used (a client at 100% of its core means the server was not the limit).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './servers.mjs';

export const LUA_DIR = path.join(ROOT, 'bench/lua');

/** null when wrk runs, else the message telling the user how to install it. */
export function wrkMissing() {
  const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (r.error === undefined) return null;
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `wrk is not installed. Install it with:\n\n  ${sudo}apt-get install -y wrk\n\n(Debian/Ubuntu; on macOS: brew install wrk)`;
}

function parseTimes(text) {
  // `times` prints the shell's own times, then its children's: "0m1.230000s 0m0.450000s".
  const lines = text.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
}

/**
 * opts: url, script (file in bench/lua), threads, connections, durationS, args (object passed as
 * key=value after --), cpus (array or null), timeoutS (per request).
 */
export function runWrk({
  url,
  script,
  threads = 1,
  connections = 64,
  durationS = 5,
  args = {},
  cpus = null,
  timeoutS = 10,
}) {
  const wrkArgv = [
    'wrk',
    '-t',
    String(threads),
    '-c',
    String(Math.max(connections, threads)),
    '-d',
    // wrk takes whole seconds only.
    `${Math.max(1, Math.round(durationS))}s`,
    '--timeout',
    `${timeoutS}s`,
    '-s',
    path.join(LUA_DIR, script),
    url,
    '--',
    ...Object.entries(args).map(([k, v]) => `${k}=${v}`),
  ];
  const argv = cpus ? ['taskset', '-c', cpus.join(','), ...wrkArgv] : wrkArgv;
  const shell = '"$@"; rc=$?; echo WRKTIMES; times; exit $rc';
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', shell, 'sh', ...argv], {
      cwd: ROOT,
      env: { ...process.env, BENCH_LUA_DIR: LUA_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const killer = setTimeout(() => p.kill('SIGKILL'), (durationS + 60) * 1000);
    p.on('close', (code) => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
      if (code !== 0 || line === undefined) {
        return reject(
          new Error(`wrk failed (exit ${code}): ${(err + out).trim().split('\n').slice(-4).join(' | ')}`),
        );
      }
      const data = JSON.parse(line.slice('BENCHJSON '.length));
      data.wrkCpuS = parseTimes(out.slice(out.indexOf('WRKTIMES')));
      data.command = wrkArgv.join(' ');
      resolve(data);
    });
  });
}
