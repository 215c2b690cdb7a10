import type { RequestHead } from '../parser/request.js';
import type { FieldList } from './hpack.js';
import { packHead } from './request.js';

/** A request's header section that RFC 9113 §8.1.1 calls malformed: a stream error, PROTOCOL_ERROR. */
export const MALFORMED = -1;

/** Which bytes may appear in a field name (lowercase token characters, RFC 9110 §5.6.2). */
const NAME_OK = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_OK[c.charCodeAt(0)] = 1;

/** Connection-specific fields HTTP/2 forbids (§8.2.2). */
const CONNECTION_FIELDS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

function nameOk(s: string, from: number): boolean {
  if (s.length === from) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || NAME_OK[c] === 0) return false;
  }
  return true;
}

/** No NUL, CR or LF, and no whitespace at either end (§8.2.1). */
function valueOk(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

function digits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Checks a request's decoded header section and fills `head` from it as fillHead does from
 * node:http2's header object. Returns 0, an HttpError code to answer instead (the HTTP/1.1
 * limits on target and section size), or MALFORMED. `keep`: the request has a body to wait for
 * (its fields get a buffer of their own).
 */
export function fillFromFields(head: RequestHead, list: FieldList, keep: boolean): number {
  let method: string | undefined;
  let path: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let ct = '';
  let inm = '';
  let range = '';
  let cl: string | undefined;
  let bytes = 0;
  let regular = false;
  const { names, values } = list;
  for (let i = 0; i < list.n; i++) {
    const name = names[i]!;
    const v = values[i]!;
    bytes += name.length + v.length + 4;
    if (!valueOk(v)) return MALFORMED;
    if (name.charCodeAt(0) === 0x3a) {
      // Pseudo-fields: before every regular one, each once, only the request ones.
      if (regular) return MALFORMED;
      switch (name) {
        case ':method':
          if (method !== undefined || v.length === 0) return MALFORMED;
          method = v;
          break;
        case ':path':
          if (path !== undefined || v.length === 0) return MALFORMED;
          path = v;
          break;
        case ':scheme':
          if (scheme !== undefined) return MALFORMED;
          scheme = v;
          break;
        case ':authority':
          if (authority !== undefined) return MALFORMED;
          authority = v;
          break;
        default:
          return MALFORMED;
      }
      continue;
    }
    regular = true;
    if (!nameOk(name, 0)) return MALFORMED;
    switch (name) {
      case 'content-type':
        if (ct.length === 0) ct = v;
        break;
      case 'if-none-match':
        if (inm.length === 0) inm = v;
        break;
      case 'range':
        if (range.length === 0) range = v;
        break;
      case 'content-length':
        if (!digits(v) || (cl !== undefined && cl !== v)) return MALFORMED;
        cl = v;
        break;
      case 'te':
        if (v !== 'trailers') return MALFORMED;
        break;
      default:
        if (CONNECTION_FIELDS.has(name)) return MALFORMED;
    }
  }
  if (method === undefined) return MALFORMED;
  if (method === 'CONNECT') {
    // No extended CONNECT here: :authority only, which the router then answers (405).
    if (scheme !== undefined || path !== undefined || authority === undefined) return MALFORMED;
  } else if (scheme === undefined || path === undefined) {
    return MALFORMED;
  }
  return packHead(head, method, path ?? '', ct, inm, range, cl, bytes, keep);
}

/** A trailer section: no pseudo-fields, well-formed names and values; its contents are not used. */
export function trailersOk(list: FieldList): boolean {
  for (let i = 0; i < list.n; i++) {
    const name = list.names[i]!;
    if (name.charCodeAt(0) === 0x3a || !nameOk(name, 0) || !valueOk(list.values[i]!)) return false;
  }
  return true;
}
