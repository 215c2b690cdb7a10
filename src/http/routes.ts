import { MAX_KEY_BYTES } from '../store/api.js';
import { Method } from '../parser/llhttp.js';
import type { RequestHead } from '../parser/request.js';
import { HttpError } from '../base/errors.js';
import { Route } from './metrics.js';
import { ascii } from '../base/bytes.js';

/**
 * Routing on bytes: the request target is never decoded to a string. `routeHead` runs when the
 * head completes and records the route, the key's place in the target and the TTL, or the
 * refusal to answer.
 */

const P_STORE = ascii('/store/');
const P_GET = ascii('/get/');
const P_PREFIX = ascii('/prefix/');
const P_HEALTHZ = ascii('/healthz');
const P_METRICS = ascii('/metrics');

function startsWith(src: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (src[start + i] !== prefix[i]) return false;
  return true;
}

/** Sets head.route (a Route) and returns 0 or a refusal code. */
export function routeHead(head: RequestHead): number {
  const src = head.src;
  let p = head.urlStart;
  const urlEnd = p + head.urlLen;
  // absolute-form (RFC 9112 §3.2.2): skip scheme and authority.
  if (src[p] !== 0x2f) {
    const sep = indexOf(src, p, urlEnd, 0x3a);
    if (sep < 0 || src[sep + 1] !== 0x2f || src[sep + 2] !== 0x2f) {
      head.route = Route.Other;
      return src[p] === 0x2a ? HttpError.NOT_FOUND : HttpError.NOT_FOUND;
    }
    const slash = indexOf(src, sep + 3, urlEnd, 0x2f);
    p = slash < 0 ? urlEnd : slash;
  }
  const q = indexOf(src, p, urlEnd, 0x3f);
  const pathEnd = q < 0 ? urlEnd : q;
  const m = head.method;
  const getOrHead = m === Method.GET || m === Method.HEAD;

  if (pathEnd - p <= 1) {
    head.route = Route.Root;
    return getOrHead ? 0 : HttpError.METHOD_GET_HEAD;
  }
  if (startsWith(src, p, pathEnd, P_GET)) {
    head.route = Route.Get;
    if (!getOrHead) return HttpError.METHOD_GET_HEAD;
    return keyAt(head, p + P_GET.length, pathEnd);
  }
  if (startsWith(src, p, pathEnd, P_STORE)) {
    head.route = Route.Store;
    if (m !== Method.POST && m !== Method.PUT && m !== Method.DELETE) return HttpError.METHOD_STORE;
    const code = keyAt(head, p + P_STORE.length, pathEnd);
    if (code !== 0 || m === Method.DELETE) return code;
    if (q >= 0) {
      const ttl = parseTtl(src, q + 1, urlEnd);
      if (ttl < 0) return HttpError.BAD_TTL;
      head.ttl = ttl;
    }
    if (head.ctLen > 255) return HttpError.CONTENT_TYPE_TOO_LONG;
    return 0;
  }
  if (startsWith(src, p, pathEnd, P_PREFIX)) {
    head.route = Route.Prefix;
    if (m !== Method.DELETE) return HttpError.METHOD_PREFIX;
    // decoded like a key; an empty prefix (which would purge everything) is refused
    const code = keyAt(head, p + P_PREFIX.length, pathEnd);
    return code === HttpError.BAD_KEY ? HttpError.BAD_PREFIX : code;
  }
  if (pathEnd - p === P_HEALTHZ.length && startsWith(src, p, pathEnd, P_HEALTHZ)) {
    head.route = Route.Healthz;
    return getOrHead ? 0 : HttpError.METHOD_GET_HEAD;
  }
  if (pathEnd - p === P_METRICS.length && startsWith(src, p, pathEnd, P_METRICS)) {
    head.route = Route.Metrics;
    return getOrHead ? 0 : HttpError.METHOD_GET_HEAD;
  }
  head.route = Route.Other;
  return HttpError.NOT_FOUND;
}

function indexOf(src: Uint8Array, from: number, to: number, byte: number): number {
  for (let i = from; i < to; i++) if (src[i] === byte) return i;
  return -1;
}

function keyAt(head: RequestHead, start: number, end: number): number {
  head.keyStart = start;
  head.keyLen = end - start;
  let escaped = false;
  let decoded = 0;
  const src = head.src;
  for (let i = start; i < end; i++) {
    if (src[i] === 0x25) {
      if (i + 2 >= end || HEXVAL[src[i + 1]!]! < 0 || HEXVAL[src[i + 2]!]! < 0) return HttpError.BAD_PERCENT;
      escaped = true;
      i += 2;
    }
    decoded++;
  }
  head.keyEscaped = escaped;
  if (decoded === 0 || decoded > MAX_KEY_BYTES) return HttpError.BAD_KEY;
  return 0;
}

const HEXVAL = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[0x41 + i] = 10 + i;
  HEXVAL[0x61 + i] = 10 + i;
}

/**
 * A thread's key buffer: the decoded key is copied here and handed to the store as a view of
 * exactly its length, one view per length made once, so no request allocates a key object.
 */
export class KeyScratch {
  readonly bytes = new Uint8Array(MAX_KEY_BYTES);
  private readonly views: (Uint8Array | undefined)[] = [];

  view(len: number): Uint8Array {
    let v = this.views[len];
    if (v === undefined) {
      v = this.bytes.subarray(0, len);
      this.views[len] = v;
    }
    return v;
  }
}

/** The key (or purge prefix) as bytes (percent-decoded). Call only after routeHead accepted it. */
export function keyOf(head: RequestHead, scratch: KeyScratch): Uint8Array {
  const src = head.src;
  const start = head.keyStart;
  const end = start + head.keyLen;
  const out = scratch.bytes;
  let n = 0;
  if (!head.keyEscaped) {
    for (let i = start; i < end; i++) out[n++] = src[i]!;
    return scratch.view(n);
  }
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b === 0x25) {
      out[n++] = (HEXVAL[src[i + 1]!]! << 4) | HEXVAL[src[i + 2]!]!;
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return scratch.view(n);
}

/** Longest TTL accepted: ten years (and well inside the store's 32-bit seconds). */
const MAX_TTL = 10 * 366 * 24 * 3600;

/** The `ttl` parameter of a query string: 0 when absent, -1 when not a positive integer. */
export function parseTtl(src: Uint8Array, start: number, end: number): number {
  let ttl = 0;
  let i = start;
  while (i < end) {
    let amp = indexOf(src, i, end, 0x26);
    if (amp < 0) amp = end;
    if (
      amp - i >= 4 &&
      src[i] === 0x74 &&
      src[i + 1] === 0x74 &&
      src[i + 2] === 0x6c &&
      src[i + 3] === 0x3d
    ) {
      let v = 0;
      if (amp - (i + 4) === 0 || amp - (i + 4) > 10) return -1;
      for (let j = i + 4; j < amp; j++) {
        const d = src[j]! - 0x30;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
      }
      if (v === 0 || v > MAX_TTL) return -1;
      ttl = v;
    } else if (amp - i === 3 && src[i] === 0x74 && src[i + 1] === 0x74 && src[i + 2] === 0x6c) {
      return -1;
    }
    i = amp + 1;
  }
  return ttl;
}
