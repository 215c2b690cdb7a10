/**
 * Key hashing: 32-bit MurmurHash3 (x86_32) over raw bytes with a per-store random seed, so a
 * client cannot aim many keys at one stripe or one probe run without knowing the seed.
 * Written from the published algorithm; the high bits pick the stripe, the rest the bucket.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Scratch for `hashBytes`: room for the words of the longest key (1024 B) or content type. */
const SCRATCH_WORDS = new Int32Array(256);

/** For keys and content types up to 1024 bytes; the words are not needed, so a scratch takes them. */
export function hashBytes(key: Uint8Array, seed: number): number {
  return hashBytesInto(
    key,
    seed,
    key.length <= 1024 ? SCRATCH_WORDS : new Int32Array((key.length + 3) >>> 2),
  );
}

/**
 * `hashBytes`, also leaving the key's little-endian words in `words` (the last one zero-padded):
 * the index probe then compares stored keys a word at a time without reading the caller's view
 * byte by byte a second time. `words` must hold `ceil(key.length / 4)` words.
 */
export function hashBytesInto(key: Uint8Array, seed: number, words: Int32Array): number {
  const len = key.length;
  let h = seed | 0;
  const blocks = len & ~3;
  let i = 0;
  while (i < blocks) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    words[i >>> 2] = k;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    i += 4;
  }
  const rest = len & 3;
  if (rest !== 0) {
    let k = key[i]!;
    if (rest > 1) k |= key[i + 1]! << 8;
    if (rest > 2) k |= key[i + 2]! << 16;
    words[i >>> 2] = k;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
