/**
 * Write preconditions (RFC 9110 §13.1.1, §13.1.2) on POST/PUT/DELETE /store/{key}: If-Match and
 * If-None-Match parsed from the request's bytes into the store's `Precondition`, which the store
 * checks under the stripe lock in the same step as the write or delete (so two compare-and-set
 * writers racing on one ETag cannot both win).
 *
 * - `If-Match: *` needs the key to exist; `If-Match: "tag", ...` needs its current ETag to be one
 *   of the tags. If-Match compares strongly: a weak tag (`W/"..."`) never matches, nor does a
 *   tag that cannot be one of ours (not 16 hex digits); a list of only such tags always fails.
 *   Several If-Match lines are one list (RFC 9110 §5.3), up to MAX_IF_MATCH_FIELDS lines and
 *   MAX_PRECONDITION_TAGS tags that could be ours.
 * - `If-None-Match: *` on a write or delete needs the key to be absent (create only). A list of
 *   tags there would mean "unless it is one of these", which the store's check does not express:
 *   refused with 400 rather than silently ignored.
 * - Both headers together can never hold (If-Match needs an entry, `*` needs none): 412.
 */
import { HttpError } from '../base/errors.js';
import { MAX_IF_MATCH_FIELDS, type RequestHead } from '../parser/request.js';
import { PreconditionKind, type Precondition } from '../store/api.js';
import { hex32 } from './conditional.js';

/**
 * Fills `out` from the head's If-Match / If-None-Match. Returns 0 (then `out.kind` says whether
 * there is a condition at all), PRECONDITION_FAILED when it can never hold, or BAD_PRECONDITION.
 */
export function parseWritePrecondition(head: RequestHead, out: Precondition): number {
  out.reset();
  const im = head.imCount;
  const inm = head.inmCount;
  if (im === 0 && inm === 0) return 0;
  if (inm !== 0) {
    if (inm > 1 || !isStar(head.src, head.inmStart, head.inmLen)) return HttpError.BAD_PRECONDITION;
    if (im !== 0) return HttpError.PRECONDITION_FAILED;
    out.kind = PreconditionKind.IfNoneMatchAny;
    return 0;
  }
  if (im > MAX_IF_MATCH_FIELDS) return HttpError.BAD_PRECONDITION;
  out.kind = PreconditionKind.IfMatchTags;
  const spans = head.imSpans;
  for (let k = 0; k < im; k++) {
    const r = addIfMatch(head.src, spans[k * 2]!, spans[k * 2 + 1]!, out);
    if (r < 0) return HttpError.BAD_PRECONDITION;
    if (r === ANY) {
      out.kind = PreconditionKind.IfMatchAny;
      out.count = 0;
      return 0;
    }
  }
  return 0;
}

const ANY = 1;

/** `*` alone (OWS around it already trimmed by the parser). */
function isStar(src: Uint8Array, start: number, len: number): boolean {
  return len === 1 && src[start] === 0x2a;
}

/**
 * Adds the strong tags of one If-Match line that could be ours to `out`. Returns ANY for `*`,
 * -1 when more than MAX_PRECONDITION_TAGS such tags are listed, else 0. Elements that are not
 * entity-tags are skipped: they match nothing, which is the safe reading for a condition.
 */
function addIfMatch(src: Uint8Array, start: number, len: number, out: Precondition): number {
  const end = start + len;
  let i = start;
  while (i < end) {
    const b = src[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x2c) {
      i++;
      continue;
    }
    if (b === 0x2a) return ANY;
    let weak = false;
    if (b === 0x57 && src[i + 1] === 0x2f) {
      weak = true;
      i += 2;
    }
    if (src[i] !== 0x22) {
      // not an entity-tag: skip the element
      while (i < end && src[i] !== 0x2c) i++;
      continue;
    }
    let close = i + 1;
    while (close < end && src[close] !== 0x22) close++;
    if (close >= end) return 0;
    if (!weak && close - i - 1 === 16) {
      const hi = hex32(src, i + 1);
      const lo = hex32(src, i + 9);
      if (hi >= 0 && lo >= 0 && !out.addTag(hi, lo)) return -1;
    }
    i = close + 1;
  }
  return 0;
}
