import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit');
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not print its port within ${opts.timeoutMs ?? 15000} ms:\n${err}`)),
      opts.timeoutMs ?? 15000,
    );
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (\S+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${String(code)} before listening:\n${err}`));
    });
  });
  let addr: { host: string; port: number };
  try {
    addr = await ready;
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return {
    ...addr,
    proc,
    stderr: () => err,
    async stop(graceMs = 15000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const [code] = await exited;
      clearTimeout(timer);
      return code as number | null;
    },
  };
}
