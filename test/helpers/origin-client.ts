import { request, type IncomingHttpHeaders } from 'node:http';

/** One answer from stripecache, read whole. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() when the answer was complete. */
  doneAt: number;
}

/**
 * GET (or HEAD) `path` on a fresh connection; bounded by `timeoutMs`. `onSent` runs once the
 * request was written (to abort it from the outside, `abortAfterMs` destroys the socket).
 */
export function fetchAnswer(
  port: number,
  path: string,
  opts: { headers?: Record<string, string>; method?: string; timeoutMs?: number; abortAfterMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(parts),
            doneAt: performance.now(),
          });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`${path}: no answer within ${opts.timeoutMs ?? 20_000} ms`)),
      opts.timeoutMs ?? 20_000,
    );
    if (opts.abortAfterMs !== undefined) {
      setTimeout(() => req.destroy(new Error('aborted by the test')), opts.abortAfterMs).unref();
    }
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** A value in the store through the write path (write-around). */
export function put(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('PUT timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
