/**
 * Key encoding for request paths. The server percent-decodes everything after `/store/`, `/get/`
 * or `/prefix/` into key bytes and treats `/` as an ordinary byte, so a key is sent one `/`-separated
 * segment at a time: `/` stays a path separator (hierarchical keys read naturally in logs and
 * route through proxies unchanged), and every byte outside RFC 3986 "unreserved" is `%XX`, which
 * makes binary keys, `%`, `?` and `#` round-trip exactly.
 */

const SLASH = 0x2f;

/** `%XX` (upper-case hex) or the byte itself for unreserved bytes, indexed by byte value. */
const ENCODED: readonly string[] = Array.from({ length: 256 }, (_, b) => {
  const unreserved =
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x2d || // -
    b === 0x2e || // .
    b === 0x5f || // _
    b === 0x7e; // ~
  return unreserved ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
});

/** A key or prefix as the client accepts it: a string is its UTF-8 bytes. */
export type Key = string | Uint8Array;

export function keyBytes(key: Key): Uint8Array {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
}

/** The path form of a key: each byte but `/` in `ENCODED` form. */
export function encodeKey(key: Key): string {
  const bytes = keyBytes(key);
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    out += b === SLASH ? '/' : ENCODED[b]!;
  }
  return out;
}
