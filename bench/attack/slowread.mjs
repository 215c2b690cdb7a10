// Slow read: connections that request the 1 MiB value and then read the response through a tiny
// TCP window (advertised 512-1024 bytes, 32 bytes read per second), so the server's send side
// backs up for the whole attack. Target: 500 connections at 200/s (`slowhttptest -X`).
import { runSlowhttptest } from './slowhttptest.mjs';
import { BIG_PATH } from './servers.mjs';

export const name = 'slowread';
export const title = 'slow read of a 1 MiB value';
export const defaults = {
  connections: 500,
  rate: 200,
  windowMin: 512,
  windowMax: 1024,
  readIntervalS: 1,
  readBytes: 32,
};

export function start({ host, port, durationS, clientCpu, params = defaults }) {
  const p = params;
  const args = ['-X', '-c', String(p.connections), '-r', String(p.rate)];
  args.push('-w', String(p.windowMin), '-y', String(p.windowMax), '-n', String(p.readIntervalS));
  args.push('-z', String(p.readBytes), '-k', '1', '-u', `http://${host}:${port}${BIG_PATH}`);
  return runSlowhttptest({ args, clientCpu, durationS });
}
