import type { MissedRequest } from '../http/api.js';
import { RangeFit, RangeKind, resolveRange, type ByteSpan } from '../http/range.js';
import { putBody } from '../http/value-head.js';
import { CacheStatus, writeError, writeValue } from './answer.js';
import { errorOf, statusOf } from './fill.js';
import type { SliceOutcome, SlicePart, SliceReader } from './slices.js';

/**
 * A GET/HEAD with --origin-slice: learn the object's length from the slice holding the first
 * byte asked for, then read (or fetch, once each) only the slices the span covers, and answer
 * from their bytes in order. A 4 KiB read of a huge object costs one slice.
 */
export async function answerSliced(reader: SliceReader, req: MissedRequest): Promise<void> {
  const size = reader.size;
  const r = req.range;
  const firstByte = r.kind === RangeKind.FromTo || r.kind === RangeKind.From ? r.a : 0;
  const n0 = Math.floor(firstByte / size);
  const head = await reader.part(req.key, n0, firstByte, firstByte + 1);
  if (typeof head === 'number') {
    req.answer((out, date) => writeError(out, date, req.conn, req.withBody, errorOf(head), statusOf(head)));
    return;
  }
  const total = head.total;
  const span: ByteSpan = { bodyStart: 0, bodyLength: 0 };
  const fit = resolveRange(r, total, span);
  const empty = {
    bytes: new Uint8Array(0),
    offset: 0,
    total,
    contentType: head.contentType,
    etag: head.etag,
    age: Math.max(0, Math.floor(Date.now() / 1000) - head.born),
  };
  if (fit === RangeFit.Unsatisfiable) {
    req.answer((out, date) => writeValue(out, date, req.conn, req.withBody, r, empty, CacheStatus.hit));
    return;
  }
  const start = fit === RangeFit.Partial ? span.bodyStart : 0;
  const end = fit === RangeFit.Partial ? start + span.bodyLength : total;
  const parts: SlicePart[] = [];
  if (req.withBody && end > start) {
    const wanted: Promise<SliceOutcome>[] = [];
    for (let n = Math.floor(start / size); n <= Math.floor((end - 1) / size); n++) {
      wanted.push(reader.part(req.key, n, Math.max(start, n * size), Math.min(end, (n + 1) * size)));
    }
    for (const p of await Promise.all(wanted)) {
      if (typeof p === 'number') {
        req.answer((out, date) => writeError(out, date, req.conn, req.withBody, errorOf(p), statusOf(p)));
        return;
      }
      parts.push(p);
    }
  }
  const hit = head.hit && parts.every((p) => p.hit);
  const status = hit ? CacheStatus.hit : CacheStatus.stored;
  // Age: of the oldest slice used. The origin's ETag only when every slice was fetched under the
  // same one (slices fetched at different times may come from different versions of the object).
  let born = head.born;
  let sameTag = head.etag !== null;
  for (const p of parts) {
    born = Math.min(born, p.born);
    sameTag &&= p.etag !== null && Buffer.compare(p.etag, head.etag!) === 0;
  }
  const whole = {
    ...empty,
    etag: sameTag ? head.etag : null,
    age: Math.max(0, Math.floor(Date.now() / 1000) - born),
  };
  req.answer((out, date) => {
    const code = writeValue(out, date, req.conn, false, r, whole, status);
    let at = start;
    for (const p of parts) {
      const to = Math.min(end, p.offset + p.bytes.length);
      const b = p.bytes;
      putBody(out, Buffer.from(b.buffer, b.byteOffset + (at - p.offset), to - at));
      at = to;
    }
    if (at !== end && parts.length !== 0) throw new Error(`sliced answer: ${at} of ${end} bytes`);
    return code;
  });
}
