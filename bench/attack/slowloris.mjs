// Slowloris: many connections each sending a request head one header at a time, never finishing
// it. Target: 1000 connections opened at 200/s, a new header every 10 s (the issue's
// `slowhttptest -c 1000 -H -i 10 -r 200`). The server should cut them at --header-timeout (408)
// while fresh requests keep being answered.
import { runSlowhttptest } from './slowhttptest.mjs';

export const name = 'slowloris';
export const title = 'slowloris (slow headers)';
export const defaults = { connections: 1000, intervalS: 10, rate: 200 };

export function start({ host, port, durationS, clientCpu, params = defaults }) {
  const args = [
    '-H',
    '-c',
    String(params.connections),
    '-i',
    String(params.intervalS),
    '-r',
    String(params.rate),
  ];
  args.push('-u', `http://${host}:${port}/`);
  return runSlowhttptest({ args, clientCpu, durationS });
}
