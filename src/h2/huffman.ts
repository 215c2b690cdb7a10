/**
 * HPACK's Huffman code (RFC 7541 Appendix B), decoding only: the encoder never compresses (our
 * answers' values are short, and a literal costs the client less to read).
 *
 * The code is canonical (codes of one length are consecutive, in symbol order, and each length's
 * first code follows the last code of the length before), so the bit length of each of the 257
 * symbols (256 octets and EOS) is all the table that is needed; the codes follow from it.
 */
// prettier-ignore
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

export const EOS = 256;
const MAX_LEN = 30;

/** Symbols ordered by (length, symbol): the canonical order codes are handed out in. */
const SORTED = new Uint16Array(257);
/** Per length: its first code, and where its symbols start in SORTED; count of codes of it. */
const FIRST = new Int32Array(MAX_LEN + 2);
const OFFSET = new Int32Array(MAX_LEN + 2);
const COUNT = new Int32Array(MAX_LEN + 2);
/** Each symbol's code (right-aligned), for tests and for an encoder should one be wanted. */
export const CODES = new Uint32Array(257);

{
  for (let s = 0; s < 257; s++) COUNT[LENGTHS[s]!]!++;
  let code = 0;
  let at = 0;
  for (let len = 1; len <= MAX_LEN; len++) {
    FIRST[len] = code;
    OFFSET[len] = at;
    for (let s = 0; s < 257; s++) {
      if (LENGTHS[s] !== len) continue;
      SORTED[at++] = s;
      CODES[s] = code++;
    }
    code <<= 1;
  }
}

export function codeLength(sym: number): number {
  return LENGTHS[sym]!;
}

/** Bytes decoded into, reused (a string is at most the header list limit long). */
let scratch = Buffer.allocUnsafe(4096);

/**
 * Decodes `src[start, end)`; returns the string (latin1: one char per octet), or null when the
 * input is not a valid encoding (EOS inside it, or padding longer than 7 bits or not all ones).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | null {
  // Every code is at least 5 bits, so the output has at most 8/5 octets per input octet.
  const most = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < most) scratch = Buffer.allocUnsafe(most);
  const out = scratch;
  let n = 0;
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      code = (code << 1) | ((byte >> b) & 1);
      len++;
      const k = code - FIRST[len]!;
      if (k >= 0 && k < COUNT[len]!) {
        const sym = SORTED[OFFSET[len]! + k]!;
        if (sym === EOS) return null;
        out[n++] = sym;
        code = 0;
        len = 0;
      } else if (len >= MAX_LEN) {
        return null;
      }
    }
  }
  // What is left must be a prefix of EOS (all ones) no longer than 7 bits.
  if (len > 7 || code !== (1 << len) - 1) return null;
  return out.toString('latin1', 0, n);
}
