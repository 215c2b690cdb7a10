/** Self-checking values for the store stress tests: any torn or mixed read fails `verify`. */

export const HEADER = 20;

export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function fill(out: Uint8Array, from: number, keyId: number, writer: number, seq: number): number {
  let x =
    (Math.imul(keyId + 1, 0x9e3779b1) ^ Math.imul(writer + 7, 0x85ebca6b) ^ Math.imul(seq, 0xc2b2ae35)) >>> 0;
  if (x === 0) x = 1;
  let sum = 0;
  for (let i = from; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
    sum = (Math.imul(sum, 31) + out[i]!) >>> 0;
  }
  return sum;
}

export function makeValue(len: number, keyId: number, writer: number, seq: number): Uint8Array {
  const v = new Uint8Array(Math.max(HEADER, len));
  const dv = new DataView(v.buffer);
  dv.setUint32(0, keyId, true);
  dv.setUint32(4, writer, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(12, v.length, true);
  dv.setUint32(16, fill(v, HEADER, keyId, writer, seq), true);
  return v;
}

/** null when the bytes are exactly a value written for keyId; else what is wrong. */
export function verify(body: Uint8Array, keyId: number): string | null {
  if (body.length < HEADER) return `short value ${body.length}`;
  const dv = new DataView(body.buffer, body.byteOffset, body.length);
  if (dv.getUint32(0, true) !== keyId) return `value of key ${dv.getUint32(0, true)} under key ${keyId}`;
  if (dv.getUint32(12, true) !== body.length) return `length ${dv.getUint32(12, true)} != ${body.length}`;
  const expect = makeValue(body.length, keyId, dv.getUint32(4, true), dv.getUint32(8, true));
  for (let i = 0; i < body.length; i++) if (expect[i] !== body[i]) return `byte ${i} differs`;
  return null;
}

export function seqOf(body: Uint8Array): number {
  return new DataView(body.buffer, body.byteOffset, body.length).getUint32(8, true);
}
