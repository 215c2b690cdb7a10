import { Pool } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The thread's connections to the origin: one undici Pool (keep-alive, at most
 * --origin-connections sockets), and the URL of a key: the origin URL's path with the key
 * appended, each `/`-separated segment of the key percent-encoded.
 */

/** Why a fetch ended without a whole answer. */
export const FetchFailure = {
  /** Refused, reset, bad framing, short body, a status we do not store. */
  Failed: 0,
  /** Nothing complete within --origin-timeout. */
  Timeout: 1,
} as const;
export type FetchFailure = (typeof FetchFailure)[keyof typeof FetchFailure];

/** Receives one origin answer as it arrives. */
export interface FetchSink {
  /** The status and headers; false to stop reading (the body is dropped). */
  onHead(status: number, headers: IncomingHttpHeaders): boolean;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onFail(why: FetchFailure, detail: string): void;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class OriginClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(
    origin: string,
    connections: number,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(origin);
    this.basePath = url.pathname.endsWith('/') ? url.pathname : url.pathname + '/';
    this.pool = new Pool(url.origin, {
      connections,
      pipelining: 1,
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** The origin path of a key. */
  pathOf(key: Uint8Array): string {
    const text = Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
    return this.basePath + text.split('/').map(encodeSegment).join('/');
  }

  /**
   * GETs `path` (with `Range: bytes=first-last` when `first` >= 0). The whole exchange, head and
   * body, must end within --origin-timeout. Exactly one of onEnd / onFail is called.
   */
  fetch(path: string, first: number, last: number, sink: FetchSink): void {
    const ac = new AbortController();
    let done = false;
    const fail = (why: FetchFailure, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ac.abort();
      sink.onFail(why, detail);
    };
    const timer = setTimeout(() => fail(FetchFailure.Timeout, 'timeout'), this.timeoutMs);
    const headers: Record<string, string> = first >= 0 ? { range: `bytes=${first}-${last}` } : {};
    this.pool
      .request({ path, method: 'GET', headers, signal: ac.signal })
      .then((res) => {
        if (done) {
          res.body.destroy();
          return;
        }
        if (!sink.onHead(res.statusCode, res.headers)) {
          // Drain small error bodies so the connection is reused; a big one is dropped with it.
          res.body.on('error', () => {});
          res.body.resume();
          done = true;
          clearTimeout(timer);
          return;
        }
        res.body.on('data', (chunk: Buffer) => {
          if (!done) sink.onData(chunk);
        });
        res.body.on('end', () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          sink.onEnd();
        });
        res.body.on('error', (e: Error) => fail(classify(e), describe(e)));
      })
      .catch((e: unknown) => fail(classify(e), describe(e)));
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function classify(e: unknown): FetchFailure {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code) ? FetchFailure.Timeout : FetchFailure.Failed;
}

function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return e instanceof Error ? e.message : String(e);
}

/** RFC 3986 pchar: unreserved and sub-delims stay, everything else is %XX of its byte. */
function encodeSegment(segment: string): string {
  // `.` and `..` would be resolved away by the origin (RFC 3986 §5.2.4): spelled as %2E.
  if (segment === '.' || segment === '..') return segment.replace(/\./g, '%2E');
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f ||
      c === 0x7e
    ) {
      out += segment[i];
    } else {
      out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
    }
  }
  return out;
}
