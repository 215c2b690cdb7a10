#!/usr/bin/env node
// CPU a server burns with nothing to do (timers, sweeps, heartbeats), per thread, read from
// /proc/PID/task/*/stat (utime + stime) over a window after a warm-up. Optionally under a light
// load: `rate` GETs per second of one stored value of `size` bytes, from this process over a few
// keep-alive connections (this process's own CPU is not counted).
//   node bench/engine/idle.mjs [seconds=20] [rate=0] [size=1048576] [-- server flags...]
// Linux only. Prints one line per thread (tid, name, ms) and the total, in ms per window. The
// supervisor is the process's own tid; with --pin-threads the workers are named from the tids
// their 'thread pinned' log lines give (Node names its threads all "node"); the rest are Node's
// and V8's helper threads (GC, compiler, libuv pool).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const own = dash < 0 ? argv : argv.slice(0, dash);
const extra = dash < 0 ? ['--threads', '1'] : argv.slice(dash + 1);
const seconds = Number(own[0] ?? 20);
const rate = Number(own[1] ?? 0);
const size = Number(own[2] ?? 1 << 20);
const WARMUP_MS = 3000;
const TICKS = 100; // USER_HZ on Linux

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** tid -> { name, ticks } for every thread of `pid`. */
function threads(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    // Fields after the name: state is f[0], utime is field 14 (f[11]), stime field 15 (f[12]).
    out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const srv = spawn(
  process.execPath,
  ['dist/main.js', '--port', String(port), '--log-level', 'info', ...extra],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
const workerTids = new Map();
let pending = '';
const ready = new Promise((resolve, reject) => {
  const onData = (d, echo) => {
    pending += String(d);
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line.includes('listening on')) resolve();
      if (!line.startsWith('{')) {
        if (echo) process.stderr.write(line + '\n');
        continue;
      }
      const e = JSON.parse(line);
      if (e.msg === 'thread pinned') workerTids.set(String(e.tid), `worker ${e.thread}`);
      else if (e.level === 'error' || e.level === 'warn') process.stderr.write(line + '\n');
    }
  };
  srv.stdout.on('data', (d) => onData(d, false));
  srv.stderr.on('data', (d) => onData(d, true));
  srv.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const timeout = setTimeout(() => {
  srv.kill('SIGKILL');
  console.error('server did not start within 20 s');
  process.exit(1);
}, 20_000);
await ready;
clearTimeout(timeout);

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let running = rate > 0;
let done = 0;
let failed = 0;
if (rate > 0) {
  await new Promise((resolve, reject) => {
    const req = http.request(
      { port, host: '127.0.0.1', method: 'PUT', path: '/store/idle', agent },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(Buffer.alloc(size, 0x61));
  });
  const get = () =>
    new Promise((resolve) => {
      const req = http.get({ port, host: '127.0.0.1', path: '/get/idle', agent }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode === 200) done++;
          else failed++;
          resolve();
        });
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
    });
  // Paced in 10 ms slices so the rate holds without a timer per request.
  void (async () => {
    const start = Date.now();
    let sent = 0;
    while (running) {
      const due = Math.floor(((Date.now() - start) * rate) / 1000);
      const batch = [];
      while (sent < due) {
        batch.push(get());
        sent++;
      }
      await Promise.all([sleep(10), ...batch]);
    }
  })();
}

await sleep(WARMUP_MS);
const before = threads(srv.pid);
const doneBefore = done;
const t0 = process.hrtime.bigint();
await sleep(seconds * 1000);
const after = threads(srv.pid);
const windowS = Number(process.hrtime.bigint() - t0) / 1e9;
const served = done - doneBefore;
running = false;

let total = 0;
const rows = [];
for (const [tid, a] of after) {
  const b = before.get(tid);
  const ms = ((a.ticks - (b?.ticks ?? 0)) * 1000) / TICKS;
  total += ms;
  const name = tid === String(srv.pid) ? 'supervisor' : (workerTids.get(tid) ?? a.name);
  if (ms > 0) rows.push({ tid, name, ms });
}
for (const [tid, b] of before) if (!after.has(tid)) rows.push({ tid, name: `${b.name} (ended)`, ms: NaN });
rows.sort((x, y) => y.ms - x.ms);
console.log(`node ${process.version}, server flags: ${extra.join(' ')}; window ${windowS.toFixed(1)} s`);
if (rate > 0) console.log(`load: ${(served / windowS).toFixed(0)} GET/s of ${size} B (${failed} failed)`);
for (const r of rows)
  console.log(`  ${String(r.tid).padStart(8)}  ${r.name.padEnd(16)} ${r.ms.toFixed(0).padStart(6)} ms`);
console.log(`  total ${total.toFixed(0)} ms per ${windowS.toFixed(0)} s`);
if (rate > 0 && served > 0) console.log(`  ${((total * 1000) / served).toFixed(1)} µs of server CPU per GET`);
agent.destroy();
srv.kill('SIGTERM');
