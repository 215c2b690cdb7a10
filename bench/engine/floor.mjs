#!/usr/bin/env node
// Same-run yardstick for the engine's CPU per request: the HTTP engine (this thread, real store,
// 10,000 keys of 64 B) against a bare node:net server that answers every data event with one
// constant 64 B response (no parsing, no store): the floor that Node's stream layer sets.
// Alternates the two, `rounds` times; server on CPU 0, wrk on CPU 1.
//   node bench/engine/floor.mjs [rounds] [seconds] [depth]
// STRIPECACHE_READ_BUFFER=0 (passed on to the engine) measures it on plain 'data' events instead
// of reads into the thread's buffer.
import { spawn } from 'node:child_process';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const depth = Number(process.argv[4] ?? 1);

const BARE = `
import net from 'node:net';
const body = Buffer.alloc(64, 0x61);
const res = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\\r\\nDate: Sat, 21 Nov 2026 06:00:00 GMT\\r\\nContent-Type: application/octet-stream\\r\\nContent-Length: 64\\r\\nETag: "0123456789abcdef"\\r\\n\\r\\n'), body]);
const s = net.createServer({ noDelay: true }, (c) => {
  c.on('data', (d) => {
    let n = 0;
    for (let i = d.indexOf(13); i !== -1; i = d.indexOf('\\r\\n\\r\\n', i + 1)) { if (d[i+1] === 10 && d[i+2] === 13) n++; }
    c.write(n <= 1 ? res : Buffer.concat(Array(n).fill(res)));
  });
  c.on('error', () => {});
});
s.listen(0, '127.0.0.1', () => console.log('PORT ' + s.address().port));
setInterval(() => { const u = process.cpuUsage(); console.log('CPU ' + (u.user + u.system)); }, 250);
`;

function run(cmd, args, opts = {}) {
  return spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });
}

async function measure(kind) {
  const args =
    kind === 'bare'
      ? ['-c', '0', process.execPath, '--input-type=module', '-e', BARE]
      : ['-c', '0', process.execPath, 'bench/engine/engine-serve.mjs'];
  const srv = run('taskset', args);
  let out = '';
  srv.stdout.on('data', (d) => (out += d));
  const port = await new Promise((resolve) => {
    const t = setInterval(() => {
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve(Number(m[1]));
      }
    }, 20);
  });
  const lastCpu = () => Number([...out.matchAll(/CPU (\d+)/g)].pop()?.[1] ?? 0);
  const wrk = (secs) =>
    new Promise((resolve) => {
      const w = run('taskset', [
        '-c',
        '1',
        'wrk',
        '-t1',
        '-c50',
        `-d${secs}s`,
        '--latency',
        '-s',
        'bench/lua/get.lua',
        `http://127.0.0.1:${port}`,
        '--',
        'keys=10000',
        'prefix=k64-',
        `depth=${depth}`,
      ]);
      let o = '';
      w.stdout.on('data', (d) => (o += d));
      w.on('close', () => resolve(o));
    });
  await wrk(1);
  await new Promise((r) => setTimeout(r, 300));
  const c0 = lastCpu();
  const text = await wrk(seconds);
  await new Promise((r) => setTimeout(r, 300));
  const c1 = lastCpu();
  srv.kill('SIGKILL');
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(text)?.[1];
  return { kind, rps, p50, p99, usPerReq: (c1 - c0) / (rps * seconds) };
}

const rows = [];
for (let r = 0; r < rounds; r++) {
  for (const kind of r % 2 ? ['engine', 'bare'] : ['bare', 'engine']) {
    const m = await measure(kind);
    rows.push(m);
    console.log(
      `${kind.padEnd(7)} ${(m.rps / 1000).toFixed(1)}k req/s  p50 ${m.p50}  p99 ${m.p99}  ${m.usPerReq.toFixed(2)} µs CPU/request`,
    );
  }
}
const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const kind of ['bare', 'engine']) {
  const k = rows.filter((x) => x.kind === kind);
  console.log(
    `median ${kind}: ${(med(k.map((x) => x.rps)) / 1000).toFixed(1)}k req/s, ${med(k.map((x) => x.usPerReq)).toFixed(2)} µs CPU/request`,
  );
}
