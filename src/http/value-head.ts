import {
  BODY_416,
  CRLF,
  H_ACCEPT_RANGES,
  H_CONTENT_LENGTH,
  H_CONTENT_RANGE,
  H_CONTENT_RANGE_ANY,
  H_CONTENT_TYPE,
  H_TEXT_PLAIN,
  STATUS_200,
  STATUS_206,
  STATUS_416,
  type DateLine,
} from './canned.js';
import { MOVE_LIMIT, type Output } from './output.js';

/*
 * The lines of a value answer (200, 206 or 416 to a GET), written the same way whether the value
 * came from the store (get.ts) or from bytes the read-through tier holds (src/origin). Room for
 * the head must have been ensured.
 */

/** Status and Date, then Content-Type (ct[0, ctLen)) and Content-Length `length`. */
export function putValueStart(
  out: Output,
  date: DateLine,
  partial: boolean,
  ct: Uint8Array,
  ctLen: number,
  length: number,
): void {
  out.put(partial ? STATUS_206 : STATUS_200);
  out.put(date.line);
  out.put(H_CONTENT_TYPE);
  out.putRange(ct, 0, ctLen);
  out.put(CRLF);
  out.put(H_CONTENT_LENGTH);
  out.decimal(length);
  out.put(CRLF);
}

/** Accept-Ranges, and for a 206 the Content-Range of bytes [start, start + length) of `total`. */
export function putRangeLines(
  out: Output,
  partial: boolean,
  start: number,
  length: number,
  total: number,
): void {
  out.put(H_ACCEPT_RANGES);
  if (!partial) return;
  out.put(H_CONTENT_RANGE);
  out.decimal(start);
  out.slab[out.pos++] = 0x2d;
  out.decimal(start + length - 1);
  out.slab[out.pos++] = 0x2f;
  out.decimal(total);
  out.put(CRLF);
}

/** The head lines of a 416 to a value of `total` bytes (its body is BODY_416). */
export function put416Start(out: Output, date: DateLine, total: number): void {
  out.put(STATUS_416);
  out.put(date.line);
  out.put(H_CONTENT_RANGE_ANY);
  out.decimal(total);
  out.put(CRLF);
  out.put(H_TEXT_PLAIN);
  out.put(H_CONTENT_LENGTH);
  out.decimal(BODY_416.length);
  out.put(CRLF);
}

/**
 * A body that is neither in the slab nor pinned: small ones are copied behind the head (one
 * write), larger ones go out as their own segment, uncopied (they must not change meanwhile).
 */
export function putBody(out: Output, body: Uint8Array): void {
  if (body.length <= MOVE_LIMIT) out.put(body);
  else out.external(body);
}
