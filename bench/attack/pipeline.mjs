// Non-reading pipeliners: 200 connections, each with 50 pipelined GETs of the 1 MiB value sent at
// once and never read (50 MiB of answers owed per connection, 10 GB in all). The server must stop
// reading such a connection instead of buffering what it owes; see pipeline-client.mjs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIG_PATH } from './servers.mjs';

export const name = 'pipeline';
export const title = 'non-reading pipeliners (1 MiB values)';
export const defaults = { connections: 200, depth: 50 };

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pipeline-client.mjs');

export function start({ host, port, durationS, clientCpu, params = defaults }) {
  const args = [
    '-c',
    String(clientCpu),
    process.execPath,
    CLIENT,
    '--host',
    host,
    '--port',
    String(port),
    '--connections',
    String(params.connections),
    '--depth',
    String(params.depth),
    '--path',
    BIG_PATH,
    '--seconds',
    String(durationS),
  ];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out = (out + c).slice(-65536)));
  child.stderr.on('data', (c) => (out = (out + c).slice(-65536)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const started = performance.now();
  return {
    pid: child.pid,
    command: `node bench/attack/pipeline-client.mjs --connections ${params.connections} --depth ${params.depth} --path ${BIG_PATH} --seconds ${durationS}`,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = new Promise((r) => setTimeout(r, 5000, 'timeout'));
        if ((await Promise.race([exited, t])) === 'timeout') child.kill('SIGKILL');
      }
      const { code, signal } = await exited;
      let summary = null;
      try {
        summary = JSON.parse(out.trim().split('\n').at(-1));
      } catch {
        summary = { unparsed: out.slice(-500) };
      }
      return {
        tool: 'pipeline-client',
        command: this.command,
        exitCode: code,
        signal,
        ranSeconds: Math.round(performance.now() - started) / 1000,
        maxConnected: summary.maxOpen ?? NaN,
        final: summary,
      };
    },
  };
}
