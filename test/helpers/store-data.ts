/** Keys, content types and values the store's unit tests build their entries from. */

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The default content type, as the store keeps it. */
export const CT = enc('application/octet-stream');

/** `n` bytes of xorshift32 noise from `seed` (the same seed, the same bytes). */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}
