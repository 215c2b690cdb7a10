#!/usr/bin/env node
// Runs the HTTP engine on this thread (no worker threads, the real shared store), preloads
// 10,000 keys of 64 B, drives it with wrk and writes a CPU profile of the server thread.
//   node --cpu-prof --cpu-prof-dir=bench/results/profiles bench/engine/engine-profile.mjs [get|mixed|pipelined] [seconds]
// The server runs on CPU 0 (taskset -c 0 for the whole process), wrk on CPU 1.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startEngineInProcess } from './engine-inprocess.mjs';

const workload = process.argv[2] ?? 'get';
const seconds = Number(process.argv[3] ?? 8);
const server = await startEngineInProcess();

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
