#!/usr/bin/env node
// How to copy 4 KiB (or --bytes N) between the store's SharedArrayBuffer and a normal Buffer,
// the store's bulk-copy choice: TypedArray#set from a subarray, Buffer#copy, word loops
// (Uint32Array, Float64Array), Float64Array#set, and a bounce through a non-shared buffer.
// Each with SAB offsets that agree with the destination modulo 8 ("same") and that do not
// ("skew 4"), cache-hot (one 4 KiB block) and cold (blocks spread over 64 MiB).
//   node bench/micro/store-copy.mjs [--bytes 4096]
const argi = process.argv.indexOf('--bytes');
const N = argi > 0 ? Number(process.argv[argi + 1]) : 4096;
const SPAN = 64 << 20;
const sab = new SharedArrayBuffer(SPAN + 65536);
const u8 = new Uint8Array(sab);
const u32 = new Uint32Array(sab);
const f64 = new Float64Array(sab);
for (let i = 0; i < u8.length; i += 61) u8[i] = i;
const dst = new Uint8Array(65536 + 8);
const d32 = new Uint32Array(dst.buffer);
const d64 = new Float64Array(dst.buffer);
const src = new Uint8Array(65536 + 8).fill(0x61);
const s32 = new Uint32Array(src.buffer);
const s64 = new Float64Array(src.buffer);
const bounce = new Uint8Array(65536 + 8);

const out = {
  'set(subarray)': (at) => dst.set(u8.subarray(at, at + N), 0),
  'Buffer#copy': (at) => Buffer.prototype.copy.call(u8, dst, 0, at, at + N),
  'Uint32 loop': (at) => {
    const s = at >>> 2;
    for (let i = 0; i < N >>> 2; i++) d32[i] = u32[s + i];
  },
  'Float64 loop': (at) => {
    if ((at & 7) !== 0) return NaN;
    const s = at >>> 3;
    for (let i = 0; i < N >>> 3; i++) d64[i] = f64[s + i];
  },
  'Float64#set': (at) => ((at & 7) !== 0 ? NaN : d64.set(f64.subarray(at >>> 3, (at + N) >>> 3), 0)),
  bounce: (at) => {
    const k = at & 7;
    bounce.set(u8.subarray(at, at + N), k);
    dst.set(bounce.subarray(k, k + N), 0);
  },
};
const into = {
  'set(view)': (at) => u8.set(src.subarray(0, N), at),
  'Buffer#copy': (at) => Buffer.prototype.copy.call(src, u8, at, 0, N),
  'Uint32 loop': (at) => {
    const t = at >>> 2;
    for (let i = 0; i < N >>> 2; i++) u32[t + i] = s32[i];
  },
  'Float64 loop': (at) => {
    if ((at & 7) !== 0) return NaN;
    const t = at >>> 3;
    for (let i = 0; i < N >>> 3; i++) f64[t + i] = s64[i];
  },
  bounce: (at) => {
    const k = at & 7;
    bounce.set(src.subarray(0, N), k);
    u8.set(bounce.subarray(k, k + N), at);
  },
};

function time(fn, skew, cold) {
  const reps = 20_000;
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) {
      const at = (cold ? ((i * 4160 * 7) % (SPAN - N)) & ~7 : 4096) + skew;
      if (Number.isNaN(fn(at))) return NaN;
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t) / reps);
  }
  return best;
}

for (const [dir, fns] of [
  ['SAB -> Buffer', out],
  ['Buffer -> SAB', into],
]) {
  console.log(`${dir}, ${N} B, ns per copy (best of 7 x 20k)`);
  console.log('method'.padEnd(16), 'hot same', 'hot skew4', 'cold same', 'cold skew4');
  for (const [name, fn] of Object.entries(fns)) {
    const cells = [
      [0, false],
      [4, false],
      [0, true],
      [4, true],
    ].map(([skew, cold]) => time(fn, skew, cold));
    console.log(name.padEnd(16), ...cells.map((v) => (Number.isNaN(v) ? '-' : v.toFixed(0)).padStart(9)));
  }
}
