import type { IncomingHttpHeaders } from 'node:http';
import { MAX_CONTENT_TYPE_BYTES } from '../store/api.js';

/**
 * What the read-through tier keeps with each value it stores from the origin, so that every thread
 * answers a hit with its `Age` and the origin's `ETag`: carried in the entry's content type, after
 * the real type and a NUL (a byte no HTTP field value may hold, so no client-written type has
 * one): `type NUL born [NUL etag]`. `born` is when the origin generated the answer, Unix seconds
 * (the time it arrived less the origin's own `Age`, RFC 9111 §4.2.3 without the clock-skew part);
 * `etag` is the origin's strong ETag without its quotes. The metadata lives and dies with the
 * entry (same thread-sharing, same eviction) and costs no lookup of its own.
 */

/** Longest origin ETag kept (between the quotes); a longer one is dropped (ours is served). */
export const MAX_ORIGIN_ETAG = 64;

/** A type with its metadata, decoded from an entry's content type bytes. */
export class StoredMeta {
  /** Bytes of the real content type at the start of the decoded bytes. */
  typeLength = 0;
  /** Unix seconds the origin generated the value; -1 when not from the origin (a client wrote it). */
  born = -1;
  /** The origin's ETag (between the quotes) as [etagStart, etagEnd) of the decoded bytes; empty when none. */
  etagStart = 0;
  etagEnd = 0;

  /** Decodes the first `length` bytes of `ct` (an entry's content type). */
  decode(ct: Uint8Array, length: number): this {
    this.born = -1;
    this.etagStart = this.etagEnd = 0;
    let i = 0;
    while (i < length && ct[i] !== 0) i++;
    this.typeLength = i;
    if (i === length) return this;
    let born = 0;
    let j = i + 1;
    for (; j < length && ct[j] !== 0; j++) born = born * 10 + (ct[j]! - 0x30);
    this.born = born;
    if (j < length) {
      this.etagStart = j + 1;
      this.etagEnd = length;
    }
    return this;
  }

  /** Seconds since the origin generated the value, at `nowMs` (0 when not from the origin). */
  age(nowMs: number): number {
    return this.born < 0 ? 0 : Math.max(0, Math.floor(nowMs / 1000) - this.born);
  }
}

/**
 * The content type bytes to store: `type`, then the metadata as far as it fits the store's 255
 * bytes less `taken` (bytes the caller puts in front).
 */
export function encodeMeta(type: Uint8Array, born: number, etag: Uint8Array | null, taken = 0): Uint8Array {
  const tail = `\0${born}`;
  const withTag = etag === null ? 0 : 1 + etag.length;
  const room = MAX_CONTENT_TYPE_BYTES - taken - type.length - tail.length;
  if (room < 0) return type;
  const out = Buffer.allocUnsafe(type.length + tail.length + (withTag <= room ? withTag : 0));
  out.set(type, 0);
  out.write(tail, type.length, 'latin1');
  if (etag !== null && withTag <= room) {
    out[type.length + tail.length] = 0;
    out.set(etag, type.length + tail.length + 1);
  }
  return out;
}

/** The origin's answer's `Age` header in seconds (0 when absent or malformed; capped at 10 years). */
export function originAge(headers: IncomingHttpHeaders): number {
  const v = headers['age'];
  return typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Math.min(Number(v.trim()), 315_360_000) : 0;
}

/**
 * The origin's ETag when it is a strong one of at most MAX_ORIGIN_ETAG characters (between the
 * quotes), else null: a weak ETag does not promise the same bytes, so Range answers could not
 * rely on it; stripecache's own ETag is then served.
 */
export function strongEtag(headers: IncomingHttpHeaders): Uint8Array | null {
  const v = headers['etag'];
  if (typeof v !== 'string') return null;
  const m = /^"([\x21\x23-\x7e]{1,64})"$/.exec(v.trim());
  return m === null ? null : Buffer.from(m[1]!, 'latin1');
}

/**
 * Whether an If-None-Match field value names `tag` (the ETag between its quotes; weak comparison,
 * RFC 9110 §13.1.2: a `W/` prefix is ignored), or is `*`.
 */
export function inmNames(src: Uint8Array, tag: Uint8Array): boolean {
  const n = src.length;
  const len = tag.length;
  let i = 0;
  while (i < n) {
    const b = src[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x2c) {
      i++;
      continue;
    }
    if (b === 0x2a) return true;
    if (b === 0x57 && src[i + 1] === 0x2f) i += 2;
    if (src[i] !== 0x22) return false;
    let close = i + 1;
    while (close < n && src[close] !== 0x22) close++;
    if (close >= n) return false;
    if (close - i - 1 === len) {
      let k = 0;
      while (k < len && src[i + 1 + k] === tag[k]) k++;
      if (k === len) return true;
    }
    i = close + 1;
  }
  return false;
}
