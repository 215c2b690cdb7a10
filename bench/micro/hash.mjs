// Hash functions over key bytes (16 B, 64 B, 1 KiB): FNV-1a vs murmur3 vs xxHash32, all 32-bit,
// plus how evenly each spreads real-looking keys over 256 stripes (max stripe load / mean).
// Run alone with `node bench/micro/hash.mjs`, or with the others by `npm run bench:micro`.
import Benchmark from 'benchmark';
import { fnv1a32, murmur3_32, xxhash32 } from '../lib/hashes.mjs';

const HASHES = { 'FNV-1a': fnv1a32, murmur3: murmur3_32, xxHash32: xxhash32 };
const SIZES = [16, 64, 1024];
const KEYS = 1024;

function keysOf(size) {
  // Hierarchical keys like the ones the README quick start uses, padded to the size.
  const out = [];
  for (let i = 0; i < KEYS; i++) {
    const k = Buffer.alloc(size, 0x2d);
    k.write(`videos/${i % 97}/chunk-${String(i).padStart(6, '0')}`.slice(0, size), 'latin1');
    out.push(k);
  }
  return out;
}

let sink = 0;
const suite = new Benchmark.Suite();
for (const size of SIZES) {
  const keys = keysOf(size);
  for (const [name, fn] of Object.entries(HASHES)) {
    let i = 0;
    suite.add(`${name} ${size} B`, () => {
      const k = keys[i++ & (KEYS - 1)];
      sink ^= fn(k, 0, k.length);
    });
  }
}

function spread(fn) {
  const stripes = new Uint32Array(256);
  const n = 100_000;
  for (let i = 0; i < n; i++) stripes[fn(Buffer.from(`videos/${i % 977}/chunk-${i}`)) >>> 24]++;
  return Math.max(...stripes) / (n / 256);
}

suite
  .on('cycle', (e) => console.log(String(e.target)))
  .on('complete', () => {
    for (const [name, fn] of Object.entries(HASHES)) {
      console.log(
        `BENCH ${JSON.stringify({ name: `${name} stripe balance (max/mean, 256 stripes, top bits)`, value: Number(spread(fn).toFixed(3)) })}`,
      );
    }
    if (sink === 0.5) console.log(sink);
  })
  .run();
