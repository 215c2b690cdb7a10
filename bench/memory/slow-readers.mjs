#!/usr/bin/env node
// Resident memory of a server while 200 slow readers GET one 10 MiB value, against --memory:
// big values leave as pinned views of the store, so readers should cost the process nothing
// per reader, and a version still being read after an overwrite, delete or eviction should
// stay inside the budget until its last reader is done. Every reader checks, by SHA-256, that
// it got exactly the version it started reading.
//
// Two phases per server, each with fresh readers of one value:
//   replace: 200 readers start; mid-body the value is overwritten, later deleted.
//   evict:   200 readers start; mid-body other values (2x the budget) are written to evict it.
// The node:http + Map peer runs the replace phase (overwrite only: it has no DELETE).
//
// Usage: node bench/memory/slow-readers.mjs [--memory 64MiB,256MiB] [--readers 200]
//          [--size 10MiB] [--rate 512KiB] [--no-peer] [--node PATH]
// --rate is what each reader takes per second (it pauses its socket in between); the server
// and peer run under --node (default: this Node), pinned to CPU 0 with taskset when present.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const PEER = fileURLToPath(new URL('../peers/node-http.mjs', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const KiB = 1024;
const MiB = 1024 * KiB;
function size(text) {
  const m = /^(\d+)(B|KiB|MiB|GiB)?$/.exec(text);
  if (m === null) throw new Error(`not a size: ${text}`);
  return Number(m[1]) * { B: 1, KiB, MiB, GiB: 1024 * MiB }[m[2] ?? 'B'];
}
const BUDGETS = opt('--memory', '64MiB,256MiB').split(',');
const READERS = Number(opt('--readers', '200'));
const SIZE = size(opt('--size', '10MiB'));
const RATE = size(opt('--rate', '512KiB'));
const NODE = opt('--node', process.execPath);
const PEER_TOO = !args.includes('--no-peer');
const TICK_MS = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

function mem(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)[1]) * KiB;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function start(script, extra) {
  const argv = [script, '--port', '0', ...extra];
  const proc = pinned
    ? spawn('taskset', ['-c', '0', NODE, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(NODE, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  await sleep(500);
  // taskset execs node, so the pid is the server's.
  return { proc, port };
}

async function stop(s) {
  s.proc.kill('SIGTERM');
  await once(s.proc, 'exit');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function request(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.setTimeout(60000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function version() {
  const value = randomFillSync(Buffer.allocUnsafe(SIZE));
  return { value, sha: createHash('sha256').update(value).digest('hex') };
}

/** One raw connection: GET, then take RATE bytes a second by pausing the socket between ticks. */
function slowReader(port, path) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const hash = createHash('sha256');
    let head = Buffer.alloc(0);
    let length = -1;
    let got = 0;
    let allowance = 0;
    let status = 0;
    let finished = false;
    const done = (error) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      sock.destroy();
      resolve({ status, got, length, sha: got === length ? hash.digest('hex') : '', error });
    };
    const timer = setInterval(() => {
      allowance = (RATE * TICK_MS) / 1000;
      sock.resume();
    }, TICK_MS);
    sock.on('error', (e) => done(e.message));
    sock.on('close', () => done(got === length ? undefined : 'closed before the end of the body'));
    sock.on('data', (chunk) => {
      if (length < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        status = Number(text.slice(9, 12));
        length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
        chunk = head.subarray(end + 4);
      }
      hash.update(chunk);
      got += chunk.length;
      allowance -= chunk.length;
      if (got >= length) return done(got === length ? undefined : 'more bytes than Content-Length');
      if (allowance <= 0) sock.pause();
    });
    sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    sock.pause();
  });
}

/** Samples VmRSS every 50 ms until stopped; the peak is the max of VmRSS seen and VmHWM. */
function sampler(pid) {
  let peak = 0;
  const t = setInterval(() => {
    try {
      peak = Math.max(peak, mem(pid).rss);
    } catch {
      // exited
    }
  }, 50);
  return {
    peak: () => peak,
    stop: () => clearInterval(t),
  };
}

function check(results, expected, label) {
  let ok = 0;
  const bad = [];
  for (const r of results) {
    if (r.status === 200 && r.sha === expected.sha) ok++;
    else bad.push(`${r.status} ${r.got}/${r.length} ${r.error ?? 'wrong bytes'}`);
  }
  if (bad.length > 0)
    console.error(`${label}: ${bad.length} readers failed, e.g. ${bad.slice(0, 3).join('; ')}`);
  return `${ok}/${results.length}`;
}

const bodySeconds = SIZE / RATE;
const at = (fraction) => sleep(bodySeconds * fraction * 1000);

async function waitSettled(pid) {
  // Give the allocator and GC a moment after the readers are gone, then read RSS.
  await sleep(2000);
  return mem(pid).rss;
}

async function replacePhase(s, key, withDelete) {
  const pid = s.proc.pid;
  const v1 = version();
  const stored = await request(s.port, 'POST', key, v1.value);
  if (stored.status >= 300) throw new Error(`store answered ${stored.status}`);
  await sleep(500);
  const withValue = mem(pid).rss;
  const samples = sampler(pid);
  const readers = Array.from({ length: READERS }, () => slowReader(s.port, key.replace('/store/', '/get/')));
  await at(0.3);
  const v2 = version();
  const over = await request(s.port, 'POST', key, v2.value);
  const after = await request(s.port, 'GET', key.replace('/store/', '/get/'));
  const overOk = over.status < 300 && createHash('sha256').update(after.body).digest('hex') === v2.sha;
  let del = 'n/a';
  if (withDelete) {
    await at(0.3);
    const d = await request(s.port, 'DELETE', key);
    const gone = await request(s.port, 'GET', key.replace('/store/', '/get/'));
    del = `${d.status}, then GET ${gone.status}`;
  }
  const results = await Promise.all(readers);
  samples.stop();
  const hwm = mem(pid).hwm;
  return {
    withValue,
    peak: Math.max(samples.peak(), mem(pid).rss),
    hwm,
    after: await waitSettled(pid),
    exact: check(results, v1, 'replace'),
    events: `overwrite ${over.status}${overOk ? ' (new value read back)' : ' (READ BACK WRONG)'}; delete ${del}`,
  };
}

async function evictPhase(s, budget) {
  const pid = s.proc.pid;
  const key = '/store/evicted';
  const v = version();
  const stored = await request(s.port, 'POST', key, v.value);
  if (stored.status >= 300) throw new Error(`store answered ${stored.status}`);
  await sleep(500);
  const withValue = mem(pid).rss;
  const samples = sampler(pid);
  const readers = Array.from({ length: READERS }, () => slowReader(s.port, '/get/evicted'));
  await at(0.3);
  // Fill with 1 MiB values worth twice the budget; the oldest value (the one being read) goes.
  const filler = randomFillSync(Buffer.allocUnsafe(MiB));
  const statuses = new Map();
  for (let i = 0; i < Math.ceil((2 * budget) / MiB); i++) {
    const r = await request(s.port, 'POST', `/store/fill${i}`, filler);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
  const gone = await request(s.port, 'GET', '/get/evicted');
  const results = await Promise.all(readers);
  samples.stop();
  return {
    withValue,
    peak: Math.max(samples.peak(), mem(pid).rss),
    hwm: mem(pid).hwm,
    after: await waitSettled(pid),
    exact: check(results, v, 'evict'),
    events: `fill: ${[...statuses].map(([k, n]) => `${n}x ${k}`).join(', ')}; then GET ${gone.status}`,
  };
}

const rows = [];
for (const budget of BUDGETS) {
  const s = await start(MAIN, [
    '--threads',
    '1',
    '--memory',
    budget,
    '--log-level',
    'error',
    '--idle-timeout',
    '5m',
  ]);
  const baseline = mem(s.proc.pid).rss;
  const r1 = await replacePhase(s, '/store/big', true);
  rows.push({ server: 'stripecache', budget, phase: 'overwrite + delete', baseline, ...r1 });
  const r2 = await evictPhase(s, size(budget));
  rows.push({ server: 'stripecache', budget, phase: 'evict', baseline, ...r2 });
  await stop(s);
}
if (PEER_TOO) {
  const s = await start(PEER, []);
  const baseline = mem(s.proc.pid).rss;
  const r1 = await replacePhase(s, '/store/big', false);
  rows.push({ server: 'node:http + Map', budget: 'none', phase: 'overwrite', baseline, ...r1 });
  await stop(s);
}
agent.destroy();

const f = (b) => (b / MiB).toFixed(0);
console.log(
  `${READERS} readers of one ${SIZE / MiB} MiB value at ${RATE / KiB} KiB/s each (about ${bodySeconds.toFixed(0)} s per body); ` +
    `Node ${spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()}; server --threads 1` +
    `${pinned ? ', pinned to CPU 0' : ''}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
console.log(
  '| server | --memory | phase | RSS empty | RSS with value | peak RSS with readers (VmHWM) | RSS after | exact bytes | what happened mid-body |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.server} | ${r.budget} | ${r.phase} | ${f(r.baseline)} | ${f(r.withValue)} | ${f(r.peak)} (${f(r.hwm)}) | ${f(r.after)} | ${r.exact} | ${r.events} |`,
  );
}
console.log('RSS in MiB.');
