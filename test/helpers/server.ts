import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { stopProcess, untilListening } from './spawn-ready.js';

export const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

export interface RunningServer {
  port: number;
  host: string;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `node dist/main.js --port 0 ...args` and resolves once it printed the port it chose.
 * Every wait is bounded; only the process started here is ever signalled.
 */
export async function startServer(
  args: string[] = [],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; execPath?: string } = {},
): Promise<RunningServer> {
  const proc = spawn(opts.execPath ?? process.execPath, [MAIN, '--port', '0', ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { host, port, stderr, exited } = await untilListening(
    proc,
    /listening on (\S+):(\d+)/,
    'server',
    opts.timeoutMs ?? 15000,
  );
  return {
    host,
    port,
    proc,
    stderr,
    stop: (graceMs = 15000) => stopProcess(proc, exited, graceMs),
  };
}

/** The server the property tests drive: 2 threads, 64 MiB, 10,000 keys, only errors logged. */
export function startPropertyServer(): Promise<RunningServer> {
  return startServer(['--threads', '2', '--memory', '64MiB', '--max-keys', '10000', '--log-level', 'error']);
}

/**
 * One thread over a 4 MiB store that admits values up to 16 MiB: a value of several MiB passes
 * every limit and can still never be stored (507).
 */
export function startTinyServer(): Promise<RunningServer> {
  return startServer([
    ...['--threads', '1', '--memory', '4MiB', '--max-keys', '1000'],
    ...['--stripes', '4', '--max-value-size', '16MiB'],
  ]);
}
