import { ERRORS } from '../base/errors.js';
import {
  BODY_416,
  CONNECTION_LINES,
  CRLF,
  ERROR_RESPONSES,
  H_ETAG,
  H_ETAG_END,
  STATUS_304,
  bytes,
  type Conn,
  type DateLine,
} from '../http/canned.js';
import type { Output } from '../http/output.js';
import { RangeFit, resolveRange, type ByteSpan, type RangeSpec } from '../http/range.js';
import { put416Start, putBody, putRangeLines, putValueStart } from '../http/value-head.js';
import { ReadStatus, type ReadResult } from '../store/api.js';
import { inmNames, type StoredMeta } from './meta.js';

/**
 * The answers the read-through tier writes itself (the HTTP layer answers hits): a value, or
 * the span a Range asks for, from bytes the tier holds, and the origin refusals; each with its
 * `Cache-Status` (RFC 9211) and, for values, `Age`.
 */

/** Cache-Status lines, one per outcome (docs/read-through.md lists what each means). */
export const CacheStatus = {
  hit: bytes('Cache-Status: stripecache; hit\r\n'),
  stored: bytes('Cache-Status: stripecache; fwd=miss; stored\r\n'),
  notStored: bytes('Cache-Status: stripecache; fwd=miss; detail=no-store\r\n'),
  collapsed: bytes('Cache-Status: stripecache; fwd=miss; collapsed\r\n'),
  negative: bytes('Cache-Status: stripecache; hit; detail=negative\r\n'),
  notFound: bytes('Cache-Status: stripecache; fwd=miss; fwd-status=404\r\n'),
  failed: bytes('Cache-Status: stripecache; fwd=miss; detail=origin-failed\r\n'),
  timeout: bytes('Cache-Status: stripecache; fwd=miss; detail=origin-timeout\r\n'),
  tooLarge: bytes('Cache-Status: stripecache; fwd=miss; detail=too-large\r\n'),
  waiters: bytes('Cache-Status: stripecache; fwd=miss; detail=too-many-waiters\r\n'),
  noMemory: bytes('Cache-Status: stripecache; fwd=miss; detail=no-memory\r\n'),
} as const;

const AGE = bytes('Age: ');

/** What a value answer is built from. */
export interface ValueSource {
  /** Bytes of the value from offset `offset` on (the rest may still be arriving). */
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly total: number;
  readonly contentType: Uint8Array;
  /** The ETag between its quotes (ours: 16 hex digits; or the origin's), or null when none (yet). */
  readonly etag: Uint8Array | null;
  /** Seconds since the origin generated the value. */
  readonly age: number;
}

/** Where the bytes a request needs from a value of `total` bytes end (0 for a 416). */
export function spanEnd(range: RangeSpec, total: number): number {
  const span: ByteSpan = { bodyStart: 0, bodyLength: 0 };
  switch (resolveRange(range, total, span)) {
    case RangeFit.Unsatisfiable:
      return 0;
    case RangeFit.Partial:
      return span.bodyStart + span.bodyLength;
    default:
      return total;
  }
}

const HEX = bytes('0123456789abcdef');

/** The 16 hex digits of a store ETag. */
export function etagHex(hi: number, lo: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i] = HEX[(hi >>> (28 - 4 * i)) & 15]!;
    out[8 + i] = HEX[(lo >>> (28 - 4 * i)) & 15]!;
  }
  return out;
}

/** Writes 200/206/416 for `range` of `v`; returns the status. Bytes of the span must have arrived. */
export function writeValue(
  out: Output,
  date: DateLine,
  conn: Conn,
  withBody: boolean,
  range: RangeSpec,
  v: ValueSource,
  status: Uint8Array,
): number {
  const span: ByteSpan = { bodyStart: 0, bodyLength: 0 };
  const fit = resolveRange(range, v.total, span);
  out.ensure(1024 + v.contentType.length);
  if (fit === RangeFit.Unsatisfiable) {
    put416Start(out, date, v.total);
    tail(out, conn, status, v.age);
    if (withBody) out.put(BODY_416);
    return 416;
  }
  const partial = fit === RangeFit.Partial;
  const start = partial ? span.bodyStart : 0;
  const length = partial ? span.bodyLength : v.total;
  putValueStart(out, date, partial, v.contentType, v.contentType.length, length);
  if (v.etag !== null) {
    out.put(H_ETAG);
    out.put(v.etag);
    out.put(H_ETAG_END);
  }
  putRangeLines(out, partial, start, length, v.total);
  tail(out, conn, status, v.age);
  if (withBody && length !== 0) {
    const b = v.bytes;
    // A Buffer view (the fill's memory may be a SharedArrayBuffer); never rewritten once arrived,
    // so a big span goes out as is.
    putBody(out, Buffer.from(b.buffer, b.byteOffset + start - v.offset, length));
  }
  return partial ? 206 : 200;
}

/**
 * The head of a GET/HEAD answered from the store (the HTTP layer writes the body): what the HTTP
 * layer would write, plus `Age` and, for a value from the origin, the origin's ETag in place of
 * ours, with If-None-Match matched against it. `status` is what `store.get` returned for `read`.
 * Returns 200, 206, 304 or 416; at most 640 bytes (a 255-byte content type holds the type and
 * the metadata together).
 */
export function writeStoredHead(
  out: Output,
  date: DateLine,
  conn: Conn,
  read: ReadResult,
  status: number,
  inm: Uint8Array | null,
  meta: StoredMeta,
): number {
  const ct = read.contentType;
  meta.decode(ct, read.contentTypeLength);
  const originTag = meta.etagEnd > meta.etagStart;
  const age = meta.age(Date.now());
  out.ensure(1024);
  if (
    originTag &&
    inm !== null &&
    (status === ReadStatus.Hit || status === ReadStatus.Partial) &&
    inmNames(inm, ct.subarray(meta.etagStart, meta.etagEnd))
  ) {
    status = ReadStatus.NotModified;
  }
  if (status === ReadStatus.RangeNotSatisfiable) {
    put416Start(out, date, read.totalLength);
    tail(out, conn, CacheStatus.hit, age);
    return 416;
  }
  const partial = status === ReadStatus.Partial;
  if (status === ReadStatus.NotModified) {
    out.put(STATUS_304);
    out.put(date.line);
  } else {
    const length = partial ? read.bodyLength : read.totalLength;
    putValueStart(out, date, partial, ct, meta.typeLength, length);
  }
  out.put(H_ETAG);
  if (originTag) out.putRange(ct, meta.etagStart, meta.etagEnd - meta.etagStart);
  else out.hex64(read.etagHi, read.etagLo);
  out.put(H_ETAG_END);
  if (status === ReadStatus.NotModified) {
    tail(out, conn, CacheStatus.hit, age);
    return 304;
  }
  putRangeLines(out, partial, read.bodyStart, read.bodyLength, read.totalLength);
  tail(out, conn, CacheStatus.hit, age);
  return partial ? 206 : 200;
}

/** Cache-Status, Age, the Connection line and the end of the head. */
function tail(out: Output, conn: Conn, status: Uint8Array, age: number): void {
  out.put(status);
  out.put(AGE);
  out.decimal(age);
  out.put(CRLF);
  out.put(CONNECTION_LINES[conn]!);
  out.put(CRLF);
}

/** Writes the canned answer of HttpError `code` with a Cache-Status line; returns the status. */
export function writeError(
  out: Output,
  date: DateLine,
  conn: Conn,
  withBody: boolean,
  code: number,
  status: Uint8Array,
): number {
  const c = ERROR_RESPONSES[code]!;
  const post = c.post[ERRORS[code]!.close ? 1 : conn]!;
  out.ensure(c.pre.length + 37 + status.length + post.length + c.body.length);
  out.put(c.pre);
  out.put(date.line);
  out.put(status);
  out.put(post);
  if (withBody) out.put(c.body);
  return c.status;
}
