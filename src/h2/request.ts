import type { IncomingHttpHeaders } from 'node:http2';
import { Method } from '../parser/llhttp.js';
import { MAX_HEAD_BYTES, MAX_TARGET_BYTES } from '../parser/parser.js';
import { RequestHead } from '../parser/request.js';
import { HttpError } from '../base/errors.js';

/** A method number the router answers 405 to (llhttp has no method 255). */
const OTHER_METHOD = 255;

/** llhttp's number for the methods the router knows. */
function methodOf(m: string | undefined): number {
  switch (m) {
    case 'GET':
      return Method.GET;
    case 'HEAD':
      return Method.HEAD;
    case 'PUT':
      return Method.PUT;
    case 'POST':
      return Method.POST;
    case 'DELETE':
      return Method.DELETE;
    default:
      return OTHER_METHOD;
  }
}

/**
 * Per-thread buffer the fields of a body-less request are packed into: such a request is
 * answered before the event that brought it returns, so one buffer serves them all.
 */
const SCRATCH = Buffer.allocUnsafeSlow(2 * MAX_HEAD_BYTES);

/**
 * Fills `head` from an HTTP/2 request's header block the way the HTTP/1.1 parser fills it from
 * a request head: the target, Content-Type, If-None-Match and Range are packed into one buffer
 * (`head.src`) and referred to by offset, so the router and the responder read them exactly as
 * they read HTTP/1.1 requests. `keep`: the request has a body to wait for, so it gets a buffer
 * of its own instead of the shared scratch buffer.
 *
 * Returns 0, or an HttpError code the request is refused with before the router sees it (the
 * HTTP/1.1 parser's limits on the target and on the header section).
 *
 * This one reads node:http2's header object (STRIPECACHE_H2=node); fields.ts reads ours.
 */
export function fillHead(head: RequestHead, headers: IncomingHttpHeaders, keep: boolean): number {
  let method: string | undefined;
  let path = '';
  let ct = '';
  let inm = '';
  let range = '';
  let cl: string | undefined;
  // One pass over the fields: the ones read, and the size of all of them as HTTP/1.1 counts it
  // (name, ": ", value, CRLF each).
  let bytes = 0;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    const one = typeof v === 'string' ? v : (v[0] ?? '');
    bytes += typeof v === 'string' ? name.length + v.length + 4 : listBytes(name, v);
    switch (name) {
      case ':method':
        method = one;
        break;
      case ':path':
        path = one;
        break;
      case 'content-type':
        ct = one;
        break;
      case 'if-none-match':
        inm = one;
        break;
      case 'range':
        range = one;
        break;
      case 'content-length':
        cl = one;
        break;
    }
  }
  return packHead(head, method, path, ct, inm, range, cl, bytes, keep);
}

/**
 * The part of filling `head` both HTTP/2 layers share, from the fields already picked out:
 * `bytes` is the size of the whole field section as HTTP/1.1 counts it.
 */
export function packHead(
  head: RequestHead,
  method: string | undefined,
  path: string,
  ct: string,
  inm: string,
  range: string,
  cl: string | undefined,
  bytes: number,
  keep: boolean,
): number {
  head.begin();
  head.inHead = false;
  head.major = 2;
  head.minor = 0;
  head.hostCount = 1;
  head.method = methodOf(method);
  if (path.length > MAX_TARGET_BYTES) return HttpError.URI_TOO_LONG;
  if (bytes > MAX_HEAD_BYTES) return HttpError.HEADERS_TOO_LARGE;
  const total = path.length + ct.length + inm.length + range.length;
  const src = keep ? Buffer.allocUnsafe(total) : SCRATCH;
  let p = 0;
  head.urlStart = p;
  head.urlLen = latin1(src, path, p);
  p += head.urlLen;
  if (ct.length !== 0) {
    head.ctCount = 1;
    head.ctStart = p;
    head.ctLen = latin1(src, ct, p);
    p += head.ctLen;
  }
  if (inm.length !== 0) {
    head.inmCount = 1;
    head.inmStart = p;
    head.inmLen = latin1(src, inm, p);
    p += head.inmLen;
  }
  if (range.length !== 0) {
    head.rangeCount = 1;
    head.rangeStart = p;
    head.rangeLen = latin1(src, range, p);
  }
  head.src = src;
  // The framing layer has checked that a declared length is a number and that the DATA frames match it.
  head.contentLength = cl === undefined ? -1 : Number(cl);
  head.chunked = keep && head.contentLength < 0;
  return 0;
}

/** Writes `s` (one byte per char) at `at`; a short string costs no call into the runtime. */
function latin1(dst: Buffer, s: string, at: number): number {
  const n = s.length;
  if (n > 64) return dst.write(s, at, 'latin1');
  for (let i = 0; i < n; i++) dst[at + i] = s.charCodeAt(i);
  return n;
}

function listBytes(name: string, v: string[]): number {
  let n = 0;
  for (const x of v) n += name.length + x.length + 4;
  return n;
}
