/**
 * Conditional GET (RFC 9110 §13): If-None-Match parsed into the 64-bit tags that could equal one
 * of ours, matched against the entry's ETag, and `GetSelector`, which applies If-None-Match and
 * then Range (§13.2.2's order) to a found entry. The store calls the selector under the stripe
 * lock, after filling the entry's ETag and length, and copies only the span it chooses.
 */
import { ReadStatus, type ReadResult, type ReadSelector } from '../store/api.js';
import { RangeFit, RangeSpec, resolveRange } from './range.js';

/** Most If-None-Match candidates parsed into InmTags; a longer list is scanned in place. */
const MAX_INM_TAGS = 8;

export class InmTags {
  /** If-None-Match: `*` */
  any = false;
  /** Number of tags in `tags` (hi, lo pairs). */
  count = 0;
  readonly tags = new Uint32Array(MAX_INM_TAGS * 2);

  clear(): void {
    this.any = false;
    this.count = 0;
  }

  /** `*`, or one of the tags is hi:lo. */
  has(hi: number, lo: number): boolean {
    if (this.any) return true;
    const tags = this.tags;
    for (let i = 0; i < this.count; i++) if (tags[i * 2] === hi && tags[i * 2 + 1] === lo) return true;
    return false;
  }
}

/**
 * If-None-Match into `out`: `*`, or the 16-hex-digit tags (weak or strong: RFC 9110 §13.1.2 uses
 * weak comparison) that could equal one of ours. Returns false when the list has more candidate
 * tags than InmTags carries; the caller then scans the header itself (`inmMatches`).
 */
export function parseInm(src: Uint8Array, start: number, len: number, out: InmTags): boolean {
  const end = start + len;
  let i = start;
  let count = 0;
  while (i < end) {
    const b = src[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x2c) {
      i++;
      continue;
    }
    if (b === 0x2a) {
      out.any = true;
      return true;
    }
    if (b === 0x57 && src[i + 1] === 0x2f) i += 2;
    if (src[i] !== 0x22) return true;
    let close = i + 1;
    while (close < end && src[close] !== 0x22) close++;
    if (close >= end) return true;
    if (close - i - 1 === 16) {
      const hi = hex32(src, i + 1);
      const lo = hex32(src, i + 9);
      if (hi >= 0 && lo >= 0) {
        if (count === MAX_INM_TAGS) return false;
        out.tags[count * 2] = hi;
        out.tags[count * 2 + 1] = lo;
        out.count = ++count;
      }
    }
    i = close + 1;
  }
  return true;
}

/** Whether a long If-None-Match list holds the tag hi:lo. */
export function inmMatches(src: Uint8Array, start: number, len: number, hi: number, lo: number): boolean {
  const end = start + len;
  for (let i = start; i + 17 < end + 1; i++) {
    if (src[i] === 0x22 && src[i + 17] === 0x22 && hex32(src, i + 1) === hi && hex32(src, i + 9) === lo)
      return true;
  }
  return false;
}

/** Eight hex digits at `at` as a u32, or -1 (also read by preconditions.ts: our ETags are 16 of them). */
export function hex32(src: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const c = src[at + i]!;
    let d = c - 0x30;
    if (!(d >= 0 && d <= 9)) {
      d = (c | 0x20) - 0x57; // a-f, A-F -> 10-15
      if (!(d >= 10 && d <= 15)) return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

/** One per connection: the GET's If-None-Match and Range, applied by `select`. */
export class GetSelector implements ReadSelector {
  readonly inm = new InmTags();
  readonly range = new RangeSpec();
  /** An If-None-Match list too long for `inm`: scanned in place (the request's bytes). */
  private longInm: Uint8Array | null = null;
  private longStart = 0;
  private longLen = 0;

  clear(): void {
    this.inm.clear();
    this.range.clear();
    this.longInm = null;
  }

  /** Parses If-None-Match from the request's bytes. */
  setInm(src: Uint8Array, start: number, len: number): void {
    if (parseInm(src, start, len, this.inm)) return;
    this.longInm = src;
    this.longStart = start;
    this.longLen = len;
  }

  select(out: ReadResult): ReadStatus {
    const hi = out.etagHi;
    const lo = out.etagLo;
    if (this.inm.has(hi, lo)) return ReadStatus.NotModified;
    const long = this.longInm;
    if (long !== null && inmMatches(long, this.longStart, this.longLen, hi, lo))
      return ReadStatus.NotModified;
    switch (resolveRange(this.range, out.totalLength, out)) {
      case RangeFit.Partial:
        return ReadStatus.Partial;
      case RangeFit.Unsatisfiable:
        return ReadStatus.RangeNotSatisfiable;
      default:
        return ReadStatus.Hit;
    }
  }
}
