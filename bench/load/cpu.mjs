#!/usr/bin/env node
// Server CPU per request, for before/after comparisons of one change on a busy machine: one
// server start (pinned), one preload of `--keys` values of `--size` bytes, then `--runs` short wrk
// runs (pinned elsewhere), each read as utime+stime of the server from /proc per request; prints
// every run and the median. `--strace` attaches `strace -c -f` to the server for one extra run and
// prints syscalls per request. `--perf FILE` starts the server with --perf-basic-prof and records
// one extra run with `perf record -g` into FILE, then prints the top self-time entries (kernel and
// JIT symbols alike) and the split by object. `--tcp` adds each run's p50/p99 and the machine's TCP counters over
// it (retransmitted segments, DSACKs, out-of-order queueing, loss probes, RTOs): what showed the
// loopback reordering behind the big-value tails (bench/README.md "Noise"). Not a benchmark
// report: `npm run bench` is.
//
//   node bench/load/cpu.mjs --server stripecache --size 1MiB --keys 64 --connections 16
//   node bench/load/cpu.mjs --server uws --size 64 --depth 16 --strace
//   node bench/load/cpu.mjs --sc-node /path/to/node24 --size 4KiB   (stripecache on another Node)
//   node bench/load/cpu.mjs --size 10MiB --keys 8 --connections 16 --duration 4 --runs 3 --tcp
//   node bench/load/cpu.mjs --size 1MiB --keys 64 --connections 16 --perf /tmp/sc-1m.data
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, stripecacheNodeVersion, PROBE_NAMES } from '../lib/servers.mjs';
import { sendAll, httpRequest } from '../lib/client.mjs';
import { runWrk } from '../lib/wrk.mjs';
import { existsSync, readFileSync } from 'node:fs';
import { cpuSeconds, processTree } from '../lib/proc.mjs';
import { median } from '../lib/stats.mjs';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'stripecache' },
    size: { type: 'string', default: '64' },
    keys: { type: 'string', default: '0' },
    connections: { type: 'string', default: '0' },
    depth: { type: 'string', default: '1' },
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '2' },
    'sc-args': { type: 'string', default: '' },
    'sc-node': { type: 'string' },
    'server-cpu': { type: 'string', default: '0' },
    'wrk-cpu': { type: 'string', default: '1' },
    strace: { type: 'boolean', default: false },
    tcp: { type: 'boolean', default: false },
    perf: { type: 'string' },
    top: { type: 'string', default: '15' },
  },
});

function size(text) {
  const m = /^(\d+)(KiB|MiB)?$/.exec(text);
  if (!m) throw new Error(`--size ${text}: a byte count, optionally with KiB or MiB`);
  return Number(m[1]) * (m[2] === 'MiB' ? 1 << 20 : m[2] === 'KiB' ? 1024 : 1);
}

const TCP_COUNTERS = [
  ['Tcp', 'RetransSegs', 'retrans segs'],
  ['TcpExt', 'TCPDSACKRecv', 'DSACKs'],
  ['TcpExt', 'TCPOFOQueue', 'out-of-order'],
  ['TcpExt', 'TCPLossProbes', 'loss probes'],
  ['TcpExt', 'TCPTimeouts', 'RTOs'],
];

/** The machine's TCP counters (/proc/net/snmp and netstat: a header line, then a value line). */
function tcpCounters() {
  const all = new Map();
  for (const file of ['/proc/net/snmp', '/proc/net/netstat']) {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i].split(/\s+/);
      const nums = lines[i + 1].split(/\s+/);
      const group = names[0].replace(':', '');
      for (let j = 1; j < names.length; j++) all.set(`${group}.${names[j]}`, Number(nums[j]));
    }
  }
  return TCP_COUNTERS.map(([g, n]) => all.get(`${g}.${n}`) ?? 0);
}

/** [user, system] CPU seconds of the server tree (100 Hz ticks). */
function userSys(pid) {
  let u = 0;
  let k = 0;
  for (const p of processTree(pid)) {
    try {
      const t = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
      u += Number(f[11]);
      k += Number(f[12]);
    } catch {
      // exited
    }
  }
  return [u / 100, k / 100];
}

if (values['sc-node']) process.env.STRIPECACHE_BENCH_NODE = values['sc-node'];
const bytes = size(values.size);
const keys = Number(values.keys) || (bytes >= 1 << 20 ? Math.max(4, Math.floor((64 << 20) / bytes)) : 1000);
const connections = Number(values.connections) || (bytes >= 1 << 20 ? 16 : 64);
const prefix = `c${bytes}-`;
const srv = await startServer(values.server, {
  cpus: [Number(values['server-cpu'])],
  threads: 1,
  args: {
    server: values['sc-args'].split(/\s+/).filter(Boolean),
    // JIT frames get names in perf's report
    nodeFlags: values.perf ? ['--perf-basic-prof'] : [],
  },
});
console.log(`server pid ${srv.pid}`);
try {
  const body = Buffer.alloc(bytes, 0x61);
  const st = await sendAll(
    srv.host,
    srv.port,
    keys,
    (i) => httpRequest('POST', `/store/${prefix}${i}`, { body }),
    {
      connections: 8,
      depth: 8,
    },
  );
  if (Object.keys(st).some((s) => s !== '200' && s !== '201'))
    throw new Error(`preload: ${JSON.stringify(st)}`);
  const load = {
    url: `http://${srv.host}:${srv.port}`,
    script: 'get.lua',
    threads: 1,
    connections,
    cpus: [Number(values['wrk-cpu'])],
    args: { keys, prefix, ...(Number(values.depth) > 1 ? { depth: Number(values.depth) } : {}) },
  };
  await runWrk({ ...load, durationS: 1 });
  const per = [];
  const rps = [];
  const usr = [];
  const sys = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const t0 = values.tcp ? tcpCounters() : null;
    const c0 = cpuSeconds(srv.pid);
    const [u0, k0] = userSys(srv.pid);
    const w = await runWrk({
      ...load,
      durationS: Number(values.duration),
      args: { ...load.args, seed: r + 1 },
    });
    const c1 = cpuSeconds(srv.pid);
    const [u1, k1] = userSys(srv.pid);
    usr.push(((u1 - u0) / w.requests) * 1e6);
    sys.push(((k1 - k0) / w.requests) * 1e6);
    const us = ((c1 - c0) / w.requests) * 1e6;
    per.push(us);
    rps.push(w.requests / (w.duration_us / 1e6));
    const errs = w.errors.connect + w.errors.read + w.errors.write + w.errors.timeout + w.errors.status;
    const tcp =
      t0 === null
        ? ''
        : `, p50 ${(w.latency_us.p50 / 1000).toFixed(1)} ms, p99 ${(w.latency_us.p99 / 1000).toFixed(1)} ms; TCP: ${tcpCounters()
            .map((v, i) => `${v - t0[i]} ${TCP_COUNTERS[i][2]}`)
            .join(', ')}`;
    console.log(
      `run ${r + 1}: ${us.toFixed(2)} us CPU/req (user ${usr[r].toFixed(2)}), ${Math.round(rps[r])} req/s, CPU ${(((c1 - c0) / w.duration_us) * 1e6 * 100).toFixed(0)}%${errs ? `, ${errs} errors` : ''}${tcp}`,
    );
  }
  console.log(
    `${values.server} size ${bytes} conns ${connections} depth ${values.depth}: median ${median(per).toFixed(2)} us CPU/req (user ${median(usr).toFixed(2)}, sys ${median(sys).toFixed(2)}), ${Math.round(median(rps))} req/s (Node ${values.server === 'stripecache' || PROBE_NAMES.includes(values.server) ? stripecacheNodeVersion() : process.version})`,
  );
  if (values.strace) {
    const tr = spawn('strace', ['-c', '-f', '-q', '-p', String(srv.pid)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    tr.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    tr.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, 500));
    const w = await runWrk({ ...load, durationS: Number(values.duration) });
    tr.kill('SIGINT');
    await new Promise((r) => tr.once('exit', r));
    console.log(`strace -c -f over ${w.requests} requests (calls per request):`);
    for (const line of out.split('\n')) {
      const f = line.trim().split(/\s+/);
      // % time, seconds, usecs/call, calls, [errors], syscall
      if (f.length >= 5 && /^\d/.test(f[0]) && /^\d+$/.test(f[3])) {
        const calls = Number(f[3]);
        const name = f[f.length - 1];
        if (calls / w.requests >= 0.01)
          console.log(`  ${name.padEnd(16)} ${(calls / w.requests).toFixed(3)}`);
      }
    }
  }
  if (values.perf) await perfRun(srv.pid, load);
} finally {
  await srv.stop();
}

/** One more wrk run under `perf record`; prints the top self-time entries and the split by object. */
async function perfRun(pid, load) {
  const out = values.perf;
  const rec = spawn('perf', ['record', '-F', '1999', '-g', '-p', String(pid), '-o', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  rec.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const spawned = await new Promise((r) => {
    rec.once('spawn', () => r(true));
    rec.once('error', () => r(false));
  });
  if (!spawned) {
    console.log('perf is not installed (Debian: apt-get install -y linux-perf); no profile');
    return;
  }
  await new Promise((r) => setTimeout(r, 300));
  const w = await runWrk({ ...load, durationS: Number(values.duration) });
  rec.kill('SIGINT');
  const code = await new Promise((r) => rec.once('exit', (c) => r(c)));
  if (code !== 0 && !existsSync(out)) {
    console.log(`perf record failed (exit ${code}): ${err.trim().split('\n').slice(-2).join(' | ')}`);
    return;
  }
  console.log(`perf record over ${w.requests} requests: ${out}`);
  const report = (sort) =>
    spawnSync('perf', ['report', '-i', out, '--no-children', '--sort', sort, '--stdio', '-g', 'none'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }).stdout ?? '';
  const rows = (text) => text.split('\n').filter((l) => /^\s+[\d.]+%/.test(l));
  console.log('by object:');
  for (const l of rows(report('dso')).slice(0, 6)) console.log(`  ${l.trim()}`);
  console.log(`top ${values.top} by self time:`);
  for (const l of rows(report('dso,sym')).slice(0, Number(values.top)))
    console.log(`  ${l.trim().replace(/\s+/g, ' ')}`);
}
