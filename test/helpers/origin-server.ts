import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { stopProcess, untilListening } from './spawn-ready.js';
// The test origin is bench/origin/origin.mjs: its content function is the one the checks use.
import { fillOriginBytes, nameSeed, originByte } from '../../bench/origin/origin.mjs';

/** The origin itself: a plain .mjs script (shared with bench/origin), run as a child process. */
export const ORIGIN_SCRIPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../bench/origin/origin.mjs',
);

/** What one path does when requested; unset fields keep the origin's defaults. */
export interface OriginBehaviour {
  /** Object size in bytes. */
  size?: number;
  /** Wait this long before sending the status line. */
  delayMs?: number;
  /** Answer with this status (e.g. 404, 410, 500) and a short text body instead of the object. */
  status?: number;
  /** Send the body `bytes` at a time, `intervalMs` apart. */
  trickle?: { bytes: number; intervalMs: number };
  /** Send this many body bytes, then reset the connection (TCP RST). */
  resetAfter?: number;
  /** Content-Length says the full length, but this many bytes are never sent; then the connection closes. */
  shortBy?: number;
  /** Transfer-Encoding: chunked instead of Content-Length. */
  chunked?: boolean;
  /** Cache-Control header value, e.g. 'max-age=60', 's-maxage=5', 'no-store', 'private'. */
  cacheControl?: string;
  /** ETag header value (quoted, as sent); If-None-Match with it gets a 304. */
  etag?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

export interface OriginStats {
  total: number;
  paths: Record<
    string,
    {
      requests: number;
      /** Range headers received, in order (the first 1,000). */
      ranges: string[];
      /** Requests of this path being answered now, and the most there ever were at once. */
      inFlight: number;
      maxInFlight: number;
      /** Headers of the latest request (lower-case names), e.g. to check If-None-Match. */
      lastHeaders: Record<string, string | string[] | undefined>;
    }
  >;
}

export interface RunningOrigin {
  host: string;
  port: number;
  /** http://host:port, to hand to a server's --origin. */
  url: string;
  proc: ChildProcess;
  /** Requests seen so far, per path (control requests are not counted). */
  stats(): Promise<OriginStats>;
  /** Requests seen for one path (0 when never requested). */
  requests(objectPath: string): Promise<number>;
  /** Zero the counters. */
  reset(): Promise<void>;
  /** Set the behaviour of one path, or of every path with '*'. */
  script(objectPath: string, behaviour: OriginBehaviour): Promise<void>;
  /** Forget every scripted behaviour. */
  clearScripts(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Byte `i` of the object served at `name` (its path, without query string). */
export { originByte };

/** Bytes [start, end) of the object served at `name`: what a correct cache must return. */
export function originBytes(name: string, start: number, end: number): Buffer {
  return fillOriginBytes(nameSeed(name), start, Buffer.allocUnsafe(end - start));
}

/**
 * Checks a body as it streams in against bytes [start, ...) of the object at `name`, one received
 * chunk at a time (nothing of the body is kept), so hundreds of clients can each check megabytes.
 */
export class OriginBodyCheck {
  private readonly seed: number;
  /** Bytes checked so far. */
  length = 0;
  /** Offset (from `start`) of the first wrong byte, or -1 while every byte was right. */
  firstBad = -1;

  constructor(
    name: string,
    private readonly start: number,
  ) {
    this.seed = nameSeed(name);
  }

  update(chunk: Buffer): void {
    if (this.firstBad < 0) {
      const want = fillOriginBytes(this.seed, this.start + this.length, Buffer.allocUnsafe(chunk.length));
      if (!want.equals(chunk)) {
        let k = 0;
        while (want[k] === chunk[k]) k++;
        this.firstBad = this.length + k;
      }
    }
    this.length += chunk.length;
  }

  /** True when exactly `length` bytes arrived and all were right. */
  exact(length: number): boolean {
    return this.firstBad < 0 && this.length === length;
  }
}

function call(host: string, port: number, method: string, p: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path: p, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(text)
          : reject(new Error(`origin ${method} ${p}: ${res.statusCode} ${text}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`origin ${method} ${p}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts the origin on a free port. `size`, `delayMs` and `cacheControl` are the defaults of
 * every path (scripts override them). Every wait is bounded; only this child is ever signalled.
 */
export async function startOrigin(
  opts: {
    size?: number;
    delayMs?: number;
    cacheControl?: string;
    timeoutMs?: number;
    execPath?: string;
  } = {},
): Promise<RunningOrigin> {
  const args = [ORIGIN_SCRIPT, '--port', '0', '--size', String(opts.size ?? 1024)];
  if (opts.delayMs !== undefined) args.push('--delay', String(opts.delayMs));
  if (opts.cacheControl !== undefined) args.push('--cache-control', opts.cacheControl);
  const proc = spawn(opts.execPath ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const { host, port, exited } = await untilListening(
    proc,
    /origin listening on (\S+):(\d+)/,
    'origin',
    opts.timeoutMs ?? 10_000,
  );
  const stats = async (): Promise<OriginStats> =>
    JSON.parse(await call(host, port, 'GET', '/__stats')) as OriginStats;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    proc,
    stats,
    async requests(objectPath) {
      return (await stats()).paths[objectPath]?.requests ?? 0;
    },
    async reset() {
      await call(host, port, 'POST', '/__reset');
    },
    async script(objectPath, behaviour) {
      await call(host, port, 'POST', '/__script', JSON.stringify({ ...behaviour, path: objectPath }));
    },
    async clearScripts() {
      await call(host, port, 'DELETE', '/__script');
    },
    async stop(graceMs = 5000) {
      await stopProcess(proc, exited, graceMs);
    },
  };
}
