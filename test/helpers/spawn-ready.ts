import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A child process that announced the address it listens on. */
export interface Announced {
  host: string;
  port: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves with [code, signal] once the process exited. */
  exited: Promise<unknown[]>;
}

/**
 * Waits, at most `timeoutMs`, for `proc` (spawned with piped stdout and stderr) to print a line
 * matching `pattern` (host and port as its two groups); kills it when it does not. `name` is who
 * it is in the errors. Only the process given here is ever signalled.
 */
export async function untilListening(
  proc: ChildProcess,
  pattern: RegExp,
  name: string,
  timeoutMs: number,
): Promise<Announced> {
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(proc, 'exit');
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not print its port within ${timeoutMs} ms:\n${err}`)),
      timeoutMs,
    );
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) });
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${String(code)} before listening:\n${err}`));
    });
  });
  try {
    const { host, port } = await ready;
    return { host, port, stderr: () => err, exited };
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
export async function stopProcess(
  proc: ChildProcess,
  exited: Promise<unknown[]>,
  graceMs: number,
): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code as number | null;
}
