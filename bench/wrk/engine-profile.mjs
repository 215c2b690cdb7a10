#!/usr/bin/env node
// Runs the HTTP engine on this thread (no worker threads, the real shared store), preloads
// 10,000 keys of 64 B, drives it with wrk and writes a CPU profile of the server thread.
//   node --cpu-prof --cpu-prof-dir=bench/results/profiles bench/wrk/engine-profile.mjs [get|mixed|pipelined] [seconds]
// The server runs on CPU 0 (taskset -c 0 for the whole process), wrk on CPU 1.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Store } from '../../dist/store/store.js';
import { Logger } from '../../dist/runtime/log.js';
import { httpSharedBytes, listenForTest } from '../../dist/http/worker-server.js';

const workload = process.argv[2] ?? 'get';
const seconds = Number(process.argv[3] ?? 8);
const config = {
  port: 0,
  host: '127.0.0.1',
  threads: 1,
  stripes: 256,
  memory: 256 * 1024 * 1024,
  maxKeys: 100000,
  maxValueSize: 16 * 1024 * 1024,
  concurrencyLimit: 250,
  maxConnections: 10000,
  headerTimeoutMs: 10000,
  idleTimeoutMs: 60000,
  shutdownTimeoutMs: 10000,
  socketBuffer: 4 * 1024 * 1024,
  backlog: 511,
  logLevel: 'error',
};
const store = Store.create({
  memory: config.memory,
  maxKeys: config.maxKeys,
  stripes: 256,
  maxValueSize: config.maxValueSize,
});
const value = Buffer.alloc(64, 0x61);
const type = Buffer.from('application/octet-stream');
for (let i = 0; i < 10000; i++) store.set(Buffer.from(`k64-${i}`), value, type, 0);
const shared = new SharedArrayBuffer(httpSharedBytes(1));
const server = await listenForTest({ config, store, threadIndex: 0, shared, log: new Logger('error', 0) });

const scripts = {
  get: ['bench/lua/get.lua', 'depth=1'],
  mixed: ['bench/lua/mixed.lua', 'depth=1'],
  pipelined: ['bench/lua/get.lua', 'depth=16'],
};
const [script, depth] = scripts[workload];
const wrk = spawn(
  'taskset',
  [
    '-c',
    '1',
    'wrk',
    '-t1',
    '-c50',
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    `http://127.0.0.1:${server.port}`,
    '--',
    'keys=10000',
    'prefix=k64-',
    depth,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
wrk.stdout.on('data', (d) => (out += d));
const cpu0 = process.cpuUsage();
wrk.on('close', async () => {
  const cpu = process.cpuUsage(cpu0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const total = rps * seconds;
  console.log(
    out
      .split('\n')
      .filter((l) => /Latency|50%|99%|Requests\/sec/.test(l))
      .join('\n'),
  );
  console.log(
    `server CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ${((cpu.user + cpu.system) / total).toFixed(2)} µs/request`,
  );
  server.destroyAll();
  process.exit(0);
});
void net;
