// Slow bodies (R-U-Dead-Yet): uploads that declare a 1 MiB body and then send a few bytes every
// 10 s. Target: 500 connections at 200/s (`slowhttptest -B`), POST to /store/slowbody. They only
// tie up uploads: fresh GETs should still be answered, and the server may drop the uploads once
// they sit idle longer than --idle-timeout.
import { runSlowhttptest } from './slowhttptest.mjs';

export const name = 'slowbody';
export const title = 'slow bodies (1 MiB uploads, trickled)';
export const defaults = { connections: 500, intervalS: 10, rate: 200, contentLength: 1048576, chunkMax: 32 };

export function start({ host, port, durationS, clientCpu, params = defaults }) {
  const p = params;
  const args = ['-B', '-c', String(p.connections), '-i', String(p.intervalS), '-r', String(p.rate)];
  args.push('-s', String(p.contentLength), '-x', String(p.chunkMax), '-t', 'POST');
  args.push('-u', `http://${host}:${port}/store/slowbody`);
  return runSlowhttptest({ args, clientCpu, durationS });
}
