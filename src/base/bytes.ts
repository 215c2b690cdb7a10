/** Byte helpers shared by the parser and the HTTP layer; each was once copied into several files. */

/** The zero-length view that stands for "no bytes", one for the whole program. */
export const EMPTY = new Uint8Array(0);

/** An ASCII string as bytes, for the constants built once at start. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** How many decimal digits a non-negative integer has (sizes a header before it is written). */
export function decimalDigits(n: number): number {
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  return digits;
}
