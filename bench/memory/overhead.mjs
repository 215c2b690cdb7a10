#!/usr/bin/env node
// Resident memory of the whole server process against --memory: idle, per thread, per idle
// connection, with the store filled past its budget, and with uploads in flight.
// Usage: node bench/memory/overhead.mjs [--memory 64MiB] [--conns 2000]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const MEMORY = opt('--memory', '64MiB');
const CONNS = Number(opt('--conns', '2000'));
const MiB = 1024 * 1024;

function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

async function start(extra) {
  const proc = spawn(
    process.execPath,
    [MAIN, '--port', '0', '--memory', MEMORY, '--log-level', 'error', ...extra],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  proc.stdout.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  return { proc, port };
}

async function stop(s) {
  s.proc.kill('SIGTERM');
  await once(s.proc, 'exit');
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
function request(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rows = [];
const fmt = (b) => `${(b / MiB).toFixed(1)} MiB`;

for (const threads of [1, 2, 4]) {
  const s = await start(['--threads', String(threads)]);
  rows.push([`idle, --threads ${threads}`, rss(s.proc.pid)]);
  await stop(s);
}

{
  const s = await start(['--threads', '2', '--idle-timeout', '5m', '--max-connections', String(CONNS + 100)]);
  const before = rss(s.proc.pid);
  const socks = [];
  for (let i = 0; i < CONNS; i++) {
    const c = net.connect(s.port, '127.0.0.1');
    c.on('error', () => {});
    socks.push(c);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1000));
  // Each connection makes one request so its parser and buffers exist.
  for (const c of socks) c.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 1500));
  const after = rss(s.proc.pid);
  rows.push([
    `${CONNS} keep-alive connections (2 threads)`,
    after,
    `${((after - before) / CONNS / 1024).toFixed(1)} KiB per connection`,
  ]);
  for (const c of socks) c.destroy();
  await stop(s);
}

{
  const s = await start(['--threads', '2']);
  const value = Buffer.alloc(4096, 7);
  const budget = Number(/(\d+)/.exec(MEMORY)[1]) * MiB;
  const n = Math.ceil((budget * 2) / value.length);
  const jobs = [];
  for (let i = 0; i < n; i++) {
    jobs.push(request(s.port, 'POST', `/store/k${i}`, value));
    if (jobs.length === 64) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
  rows.push([`store written with 2x --memory of 4 KiB values (2 threads)`, rss(s.proc.pid)]);
  // Uploads in flight: 50 connections each half-way through a 4 MiB body.
  const socks = [];
  const half = Buffer.alloc(2 * MiB, 1);
  for (let i = 0; i < 50; i++) {
    const c = net.connect(s.port, '127.0.0.1');
    c.on('error', () => {});
    c.write(`POST /store/up${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * MiB}\r\n\r\n`);
    c.write(half);
    socks.push(c);
  }
  await new Promise((r) => setTimeout(r, 2000));
  rows.push([`+ 50 uploads half-way through 4 MiB bodies`, rss(s.proc.pid)]);
  for (const c of socks) c.destroy();
  await stop(s);
}
agent.destroy();

console.log(`--memory ${MEMORY}; Node ${process.version}`);
console.log('| state | RSS | note |\n| --- | --- | --- |');
for (const [state, bytes, note = ''] of rows) console.log(`| ${state} | ${fmt(bytes)} | ${note} |`);
