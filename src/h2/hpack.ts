import { huffmanDecode } from './huffman.js';

/** HPACK (RFC 7541): the request decoder with its dynamic table, and a plain response encoder. */

/** RFC 7541 Appendix A, index 1 to 61 (slot 0 unused). */
// prettier-ignore
const STATIC: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''],
  ['cache-control', ''], ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''],
  ['content-length', ''], ['content-location', ''], ['content-range', ''], ['content-type', ''],
  ['cookie', ''], ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
  ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''],
  ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
  ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
  ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC.length - 1;

/** Per entry overhead a table size counts (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;
/** Largest integer accepted: far above any length or index that can be valid here. */
const MAX_INT = 1 << 24;

/** The decoded fields of one header block, reused block after block. */
export class FieldList {
  names: string[] = [];
  values: string[] = [];
  n = 0;
  /** Size of the whole list as RFC 9113 counts it (name + value + 32 per field). */
  size = 0;
  /** Fields past `cap` bytes are counted but not kept (the request is refused on size anyway). */
  cap = 1 << 20;

  reset(): void {
    this.n = 0;
    this.size = 0;
  }

  private add(name: string, value: string): void {
    this.size += name.length + value.length + ENTRY_OVERHEAD;
    if (this.size > this.cap) return;
    this.names[this.n] = name;
    this.values[this.n] = value;
    this.n++;
  }

  /** @internal the decoder's way in. */
  static push(list: FieldList, name: string, value: string): void {
    list.add(name, value);
  }
}

/**
 * Decodes header blocks of one connection. An error (anything that is not valid HPACK, or an
 * integer or string past what this side accepts) is a COMPRESSION_ERROR: the connection's
 * table can no longer be trusted, so the caller ends the connection.
 */
export class HpackDecoder {
  /** Dynamic table, oldest first (the newest entry is index 62). */
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private size = 0;
  /** Current limit (set by the encoder's size updates), at most `maxSize`. */
  private limit: number;
  private pos = 0;
  private str = '';

  /** `maxSize`: our SETTINGS_HEADER_TABLE_SIZE (4096, the default we never change). */
  constructor(private readonly maxSize = 4096) {
    this.limit = maxSize;
  }

  /** Entries in the dynamic table (for tests). */
  get tableLength(): number {
    return this.names.length;
  }

  /** Bytes the dynamic table counts (for tests). */
  get tableSize(): number {
    return this.size;
  }

  /** Dynamic table entry `i` (0: newest), for tests. */
  entry(i: number): [string, string] {
    const at = this.names.length - 1 - i;
    return [this.names[at]!, this.values[at]!];
  }

  /** Decodes `src[start, end)` into `out`; false on a COMPRESSION_ERROR. */
  decode(src: Uint8Array, start: number, end: number, out: FieldList): boolean {
    this.pos = start;
    let fields = 0;
    while (this.pos < end) {
      const b = src[this.pos]!;
      if (b & 0x80) {
        const idx = this.int(src, end, 7);
        if (idx <= 0) return false;
        if (idx <= STATIC_COUNT) {
          const e = STATIC[idx]!;
          FieldList.push(out, e[0], e[1]);
        } else {
          const at = this.names.length - 1 - (idx - STATIC_COUNT - 1);
          if (at < 0) return false;
          FieldList.push(out, this.names[at]!, this.values[at]!);
        }
        fields++;
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // A size update comes before the block's first field only (RFC 7541 §4.2).
        if (fields !== 0) return false;
        const size = this.int(src, end, 5);
        if (size < 0 || size > this.maxSize) return false;
        this.limit = size;
        this.evict(0);
        continue;
      }
      const indexing = (b & 0xc0) === 0x40;
      const idx = this.int(src, end, indexing ? 6 : 4);
      if (idx < 0) return false;
      let name: string;
      if (idx === 0) {
        if (!this.string(src, end)) return false;
        name = this.str;
      } else if (idx <= STATIC_COUNT) {
        name = STATIC[idx]![0];
      } else {
        const at = this.names.length - 1 - (idx - STATIC_COUNT - 1);
        if (at < 0) return false;
        name = this.names[at]!;
      }
      if (!this.string(src, end)) return false;
      const value = this.str;
      if (indexing) this.insert(name, value);
      FieldList.push(out, name, value);
      fields++;
    }
    return true;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.limit) {
      // Larger than the whole table: it empties the table and is not kept (§4.4).
      this.names.length = 0;
      this.values.length = 0;
      this.size = 0;
      return;
    }
    this.evict(size);
    this.names.push(name);
    this.values.push(value);
    this.size += size;
  }

  /** Evicts oldest entries until `room` more bytes fit under the limit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.limit && drop < this.names.length) {
      this.size -= this.names[drop]!.length + this.values[drop]!.length + ENTRY_OVERHEAD;
      drop++;
    }
    if (drop > 0) {
      this.names.splice(0, drop);
      this.values.splice(0, drop);
    }
  }

  /** An integer with an `n`-bit prefix at `pos` (§5.1); -1 when cut short or too large. */
  private int(src: Uint8Array, end: number, n: number): number {
    const mask = (1 << n) - 1;
    let v = src[this.pos++]! & mask;
    if (v < mask) return v;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) return -1;
      const b = src[this.pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (v > MAX_INT) return -1;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  }

  /** A string literal at `pos` (§5.2) into `str`; false when malformed. */
  private string(src: Uint8Array, end: number): boolean {
    if (this.pos >= end) return false;
    const huffman = (src[this.pos]! & 0x80) !== 0;
    const len = this.int(src, end, 7);
    if (len < 0 || this.pos + len > end) return false;
    const at = this.pos;
    this.pos += len;
    if (huffman) {
      const s = huffmanDecode(src, at, at + len);
      if (s === null) return false;
      this.str = s;
    } else {
      this.str = latin1(src, at, at + len);
    }
    return true;
  }
}

function latin1(src: Uint8Array, start: number, end: number): string {
  if (end - start > 32)
    return Buffer.from(src.buffer, src.byteOffset + start, end - start).toString('latin1');
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(src[i]!);
  return s;
}

/** First static index of each name, and of each `:status` value the table has. */
const NAME_INDEX = new Map<string, number>();
const STATUS_INDEX: number[] = [];
for (let i = STATIC_COUNT; i >= 1; i--) NAME_INDEX.set(STATIC[i]![0], i);
for (let i = 8; i <= 14; i++) STATUS_INDEX[Number(STATIC[i]![1])] = i;

/** Upper bound of the bytes `encodeField` writes for one field. */
export function fieldBound(name: string, value: string): number {
  return name.length + value.length + 12;
}

/** Writes an integer with an `n`-bit prefix (the prefix's other bits: `high`); returns the new offset. */
export function writeInt(dst: Uint8Array, at: number, n: number, high: number, v: number): number {
  const mask = (1 << n) - 1;
  if (v < mask) {
    dst[at++] = high | v;
    return at;
  }
  dst[at++] = high | mask;
  v -= mask;
  while (v >= 0x80) {
    dst[at++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  dst[at++] = v;
  return at;
}

function writeString(dst: Uint8Array, at: number, s: string): number {
  at = writeInt(dst, at, 7, 0, s.length);
  for (let i = 0; i < s.length; i++) dst[at++] = s.charCodeAt(i);
  return at;
}

/**
 * Encodes `:status` (indexed when the static table has it) at `at`; returns the new offset.
 * Nothing is ever added to the client's dynamic table, so the encoder needs no state.
 */
export function encodeStatus(dst: Uint8Array, at: number, status: number): number {
  const idx = STATUS_INDEX[status];
  if (idx !== undefined) {
    dst[at] = 0x80 | idx;
    return at + 1;
  }
  at = writeInt(dst, at, 4, 0, 8);
  return writeString(dst, at, String(status));
}

/** A field as a literal without indexing (§6.2.2), the name indexed where the static table has it. */
export function encodeField(dst: Uint8Array, at: number, name: string, value: string): number {
  const idx = NAME_INDEX.get(name);
  if (idx === undefined) {
    dst[at++] = 0;
    at = writeString(dst, at, name);
  } else {
    at = writeInt(dst, at, 4, 0, idx);
  }
  return writeString(dst, at, value);
}
