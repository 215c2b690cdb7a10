import http2, {
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';

/** One answer over HTTP/2. */
export interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Opens an h2c (prior knowledge) session; waits until its SETTINGS exchange is done. */
export async function h2connect(
  port: number,
  options: http2.ClientSessionOptions = {},
  timeoutMs = 5000,
): Promise<ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`, options);
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('h2 connect timed out')), timeoutMs);
    session.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    session.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return session;
}

/** One request on `session`; rejects on a reset or after `timeoutMs`. */
export function h2request(
  session: ClientHttp2Session,
  method: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: Buffer | string,
  timeoutMs = 10000,
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const endStream = body === undefined;
    const stream = session.request({ ':method': method, ':path': path, ...headers }, { endStream });
    const parts: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      reject(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('response', (h) => (head = h));
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(parts) });
    });
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (!endStream) stream.end(body);
  });
}

/** Closes a session, destroying it if it does not close within `ms`. */
export async function h2close(session: ClientHttp2Session, ms = 2000): Promise<void> {
  if (session.destroyed) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      session.destroy();
      resolve();
    }, ms);
    session.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
