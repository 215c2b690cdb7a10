/**
 * `Range` (RFC 9110 §14): parsing one `bytes=` spec and resolving it against a value's length.
 * Pure functions over bytes and numbers; the store only copies the span resolved here.
 *
 * Resolution: FromTo past the end clamps its last byte; a first byte at or past the end, a zero
 * suffix, or any range of an empty value is unsatisfiable (416); a suffix longer than the value
 * is the whole value (still 206); an invalid spec (A > B) is ignored (§14.1.1: 200, whole value).
 */

export const RangeKind = {
  None: 0,
  /** bytes=A-B */
  FromTo: 1,
  /** bytes=A- */
  From: 2,
  /** bytes=-N */
  Suffix: 3,
} as const;
export type RangeKind = (typeof RangeKind)[keyof typeof RangeKind];

/** One parsed `Range` spec: A in `a`; B (or N for a suffix) in `b`. */
export class RangeSpec {
  kind: RangeKind = RangeKind.None;
  a = 0;
  b = 0;

  clear(): void {
    this.kind = RangeKind.None;
    this.a = 0;
    this.b = 0;
  }
}

/** "bytes=" in lower case; the unit is compared case-insensitively. */
const BYTES_EQ = Uint8Array.from('bytes=', (c) => c.charCodeAt(0));

/**
 * One `Range: bytes=...` spec into `out`. Anything else (another unit, several ranges, malformed
 * numbers, A > B) leaves RangeKind.None: the full value is sent.
 */
export function parseRange(src: Uint8Array, start: number, len: number, out: RangeSpec): void {
  const end = start + len;
  if (len <= BYTES_EQ.length) return;
  for (let i = 0; i < BYTES_EQ.length; i++) if ((src[start + i]! | 0x20) !== BYTES_EQ[i]) return;
  let i = start + BYTES_EQ.length;
  let a = -1;
  let b = -1;
  let digits = 0;
  let v = 0;
  for (; i < end && src[i] !== 0x2d; i++) {
    const d = src[i]! - 0x30;
    if (d < 0 || d > 9 || ++digits > 15) return;
    v = v * 10 + d;
  }
  if (i >= end) return;
  if (digits > 0) a = v;
  i++;
  digits = 0;
  v = 0;
  for (; i < end; i++) {
    const d = src[i]! - 0x30;
    if (d < 0 || d > 9 || ++digits > 15) return;
    v = v * 10 + d;
  }
  if (digits > 0) b = v;
  if (a >= 0 && b >= 0) {
    if (a > b) return;
    out.kind = RangeKind.FromTo;
    out.a = a;
    out.b = b;
  } else if (a >= 0) {
    out.kind = RangeKind.From;
    out.a = a;
  } else if (b >= 0) {
    out.kind = RangeKind.Suffix;
    out.a = b;
    out.b = b;
  }
}

export const RangeFit = {
  /** No (valid) range: send the whole value. */
  Whole: 0,
  /** 206 with `out.bodyStart`, `out.bodyLength`. */
  Partial: 1,
  /** 416. */
  Unsatisfiable: 2,
} as const;
export type RangeFit = (typeof RangeFit)[keyof typeof RangeFit];

/** Where a resolved range lands (a ReadResult is one). */
export interface ByteSpan {
  bodyStart: number;
  bodyLength: number;
}

/** Resolves `spec` against a value of `total` bytes; on Partial the span is written to `out`. */
export function resolveRange(spec: RangeSpec, total: number, out: ByteSpan): RangeFit {
  const a = spec.a;
  switch (spec.kind) {
    case RangeKind.FromTo:
      if (a > spec.b) return RangeFit.Whole;
      if (total === 0 || a >= total) return RangeFit.Unsatisfiable;
      out.bodyStart = a;
      out.bodyLength = Math.min(spec.b, total - 1) - a + 1;
      return RangeFit.Partial;
    case RangeKind.From:
      if (total === 0 || a >= total) return RangeFit.Unsatisfiable;
      out.bodyStart = a;
      out.bodyLength = total - a;
      return RangeFit.Partial;
    case RangeKind.Suffix: {
      if (total === 0 || a <= 0) return RangeFit.Unsatisfiable;
      const len = Math.min(a, total);
      out.bodyStart = total - len;
      out.bodyLength = len;
      return RangeFit.Partial;
    }
    default:
      return RangeFit.Whole;
  }
}
