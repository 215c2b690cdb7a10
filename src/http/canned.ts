import { ERRORS, REASONS } from '../base/errors.js';
import type { Output } from './output.js';

export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export function statusLine(status: number): Buffer {
  return bytes(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\n`);
}

export const STATUS_200 = statusLine(200);
export const H_CONTENT_TYPE = bytes('Content-Type: ');

/**
 * `Date: <IMF-fixdate>\r\n` (always 37 bytes), rebuilt once a second by the server's timer,
 * together with the start of the hot answers that embed it.
 */
export class DateLine {
  readonly line: Buffer = Buffer.alloc(37);
  /** `HTTP/1.1 200 OK\r\n` + Date + `Content-Type: ` (a GET hit continues with the type). */
  readonly ok200: Buffer = Buffer.alloc(STATUS_200.length + 37 + H_CONTENT_TYPE.length);
  private second = -1;

  constructor() {
    STATUS_200.copy(this.ok200, 0);
    H_CONTENT_TYPE.copy(this.ok200, STATUS_200.length + 37);
    this.refresh(Date.now());
  }

  refresh(nowMs: number): void {
    const s = Math.floor(nowMs / 1000);
    if (s === this.second) return;
    this.second = s;
    this.line.write(`Date: ${new Date(s * 1000).toUTCString()}\r\n`, 0, 'latin1');
    this.line.copy(this.ok200, STATUS_200.length);
  }
}

/** What the connection does after a response, and the header that says so. */
export const Conn = { Keep: 0, Close: 1, KeepAlive10: 2 } as const;
export type Conn = (typeof Conn)[keyof typeof Conn];

/** Connection header lines by Conn value (HTTP/1.1 keep-alive needs none). */
export const CONNECTION_LINES: readonly Buffer[] = [
  bytes(''),
  bytes('Connection: close\r\n'),
  bytes('Connection: keep-alive\r\n'),
];

/**
 * A whole response built once: `pre` (status line and headers before Date), the Date line,
 * then `post[conn]` (the rest of the head and its blank line), then `body` unless HEAD.
 */
export class Canned {
  readonly pre: Buffer;
  readonly post: readonly Buffer[];
  readonly body: Buffer;
  readonly status: number;

  constructor(status: number, headers: string, contentType: string | null, body: string) {
    this.status = status;
    this.pre = Buffer.concat([statusLine(status), bytes(headers)]);
    this.body = bytes(body);
    const type = contentType === null ? '' : `Content-Type: ${contentType}\r\n`;
    const length = status === 204 || status === 304 ? '' : `Content-Length: ${this.body.length}\r\n`;
    this.post = CONNECTION_LINES.map((c) => Buffer.concat([bytes(type + length), c, bytes('\r\n')]));
  }

  write(out: Output, date: DateLine, conn: Conn, withBody: boolean): void {
    const post = this.post[conn]!;
    out.ensure(this.pre.length + 37 + post.length + this.body.length);
    out.put(this.pre);
    out.put(date.line);
    out.put(post);
    if (withBody && this.body.length !== 0) out.put(this.body);
  }
}

/** Canned error responses, indexed by HttpError code. */
export const ERROR_RESPONSES: readonly Canned[] = ERRORS.map(
  (e) => new Canned(e.status, e.extra, 'text/plain', `${e.message}\n`),
);

export const HELLO = new Canned(200, '', 'text/plain', 'Hello, World!');
export const HEALTH_OK = new Canned(200, '', 'text/plain', 'ok\n');
export const CREATED = new Canned(201, '', null, '');
export const REPLACED = new Canned(200, '', null, '');
export const DELETED = new Canned(204, '', null, '');
export const CONTINUE_100 = bytes('HTTP/1.1 100 Continue\r\n\r\n');

// Pieces of a GET /get/{key} answer, assembled around the stored metadata.
export const STATUS_206 = statusLine(206);
export const STATUS_304 = statusLine(304);
export const STATUS_416 = statusLine(416);
export const H_CONTENT_LENGTH = bytes('Content-Length: ');
export const H_ETAG = bytes('ETag: "');
export const H_ETAG_END = bytes('"\r\n');
export const H_CONTENT_RANGE = bytes('Content-Range: bytes ');
export const H_CONTENT_RANGE_ANY = bytes('Content-Range: bytes */');
export const H_ACCEPT_RANGES = bytes('Accept-Ranges: bytes\r\n');
export const H_TEXT_PLAIN = bytes('Content-Type: text/plain\r\n');
export const H_METRICS_TYPE = bytes('Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n');
export const CRLF = bytes('\r\n');
/** After the Content-Type value of a GET answer. */
export const CT_END_CONTENT_LENGTH = bytes('\r\nContent-Length: ');
/** After the Content-Length digits. */
export const CL_END_ETAG = bytes('\r\nETag: "');
/** After the ETag digits of a 200, by Conn value: the rest of the head. */
export const ETAG_END_200: readonly Buffer[] = CONNECTION_LINES.map((c) =>
  Buffer.concat([bytes('"\r\nAccept-Ranges: bytes\r\n'), c, bytes('\r\n')]),
);
export const BODY_416 = bytes('range not satisfiable\n');
export const DEFAULT_CONTENT_TYPE = bytes('application/octet-stream');

/**
 * The head of a 200 whose body is made per request: the Content-Type line `type`, then
 * Content-Length `length` (room must have been ensured).
 */
export function put200Head(out: Output, date: DateLine, type: Uint8Array, length: number, conn: Conn): void {
  out.put(STATUS_200);
  out.put(date.line);
  out.put(type);
  out.put(H_CONTENT_LENGTH);
  out.decimal(length);
  out.put(CRLF);
  out.put(CONNECTION_LINES[conn]!);
  out.put(CRLF);
}
