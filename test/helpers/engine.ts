import net from 'node:net';
import { defaultConfig, type Config } from '../../dist/base/config.js';
import { Logger } from '../../dist/base/log.js';
import { httpSharedBytes, listenForTest } from '../../dist/http/worker-server.js';
import type { KvStore } from '../../dist/store/api.js';
import { FakeStore } from './fake-store.js';

/** The defaults, with what a test server needs instead: a free port, one thread, a small store, quiet logs. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(),
    port: 0,
    threads: 1,
    stripes: 16,
    memory: 64 * 1024 * 1024,
    maxKeys: 10000,
    maxValueSize: 1024 * 1024,
    backlog: 511,
    logLevel: 'error',
    ...overrides,
  };
}

export interface EngineUnderTest {
  port: number;
  store: KvStore;
  shared: SharedArrayBuffer;
  shutdown(): Promise<void>;
  close(): Promise<void>;
}

/** The HTTP engine in this process on a port of its own, with a FakeStore unless one is given. */
export async function startEngine(
  overrides: Partial<Config> = {},
  store: KvStore = new FakeStore(),
  threadIndex = 0,
  shared?: SharedArrayBuffer,
): Promise<EngineUnderTest> {
  const config = testConfig(overrides);
  shared ??= new SharedArrayBuffer(httpSharedBytes(config.threads));
  const server = await listenForTest(
    { config, store, threadIndex, shared, log: new Logger('error', threadIndex) },
    0,
    '127.0.0.1',
  );
  return {
    port: server.port,
    store,
    shared,
    shutdown: () => server.shutdown(),
    async close() {
      server.destroyAll();
      await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, 3000))]);
    },
  };
}

export interface RawResult {
  data: Buffer;
  /** The server closed (FIN or reset) before the wait ended. */
  closed: boolean;
}

/**
 * Sends `chunks` (written one by one, `gapMs` apart) and collects what comes back until the
 * server closes, `until(data)` holds, or `timeoutMs` passes.
 */
export function raw(
  port: number,
  chunks: (string | Buffer)[] | string | Buffer,
  opts: { until?: (data: Buffer) => boolean; timeoutMs?: number; gapMs?: number } = {},
): Promise<RawResult> {
  const list = Array.isArray(chunks) ? chunks : [chunks];
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(parts), closed });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 3000);
    sock.on('data', (d) => {
      parts.push(d);
      if (opts.until?.(Buffer.concat(parts))) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
    sock.on('connect', async () => {
      for (const c of list) {
        if (done) return;
        sock.write(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

export interface ParsedResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  raw: string;
}

/** Splits a byte stream into responses. `headMethods[i]` true: the i-th answer has no body. */
export function parseResponses(data: Buffer, headMethods: boolean[] = []): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let off = 0;
  while (off < data.length) {
    const end = data.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) break;
    const headText = data.subarray(off, end).toString('latin1');
    const [statusLine, ...lines] = headText.split('\r\n');
    const status = Number(statusLine!.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const l of lines) {
      const i = l.indexOf(':');
      headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
    }
    let bodyStart = end + 4;
    if (status === 100) {
      off = bodyStart;
      continue;
    }
    const isHead = headMethods[out.length] === true;
    const len = isHead || status === 204 || status === 304 ? 0 : Number(headers.get('content-length') ?? 0);
    const body = data.subarray(bodyStart, bodyStart + len);
    bodyStart += len;
    out.push({ status, headers, body, raw: data.subarray(off, bodyStart).toString('latin1') });
    off = bodyStart;
  }
  return out;
}

/** Whole responses in `data` so far (for `until`). */
export function countResponses(n: number): (data: Buffer) => boolean {
  return (data) => parseResponses(data).length >= n;
}

export function req(method: string, path: string, headers: Record<string, string> = {}, body = ''): string {
  const h = { Host: 'x', ...headers };
  if (body.length !== 0 && !('Content-Length' in h) && !('Transfer-Encoding' in h)) {
    (h as Record<string, string>)['Content-Length'] = String(Buffer.byteLength(body, 'latin1'));
  }
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) s += `${k}: ${v}\r\n`;
  return s + '\r\n' + body;
}
