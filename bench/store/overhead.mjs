#!/usr/bin/env node
// Memory overhead per entry: 1,000,000 entries of 16 B keys and 64 B values in the Store with
// default flags (--memory 1GiB, --stripes 256, --max-keys 1000000), measured two ways:
//   stats: (bytesUsed - payloadBytes) / entries, where bytesUsed counts the whole index,
//          stripe table, page table and every data page handed out (slab slack included);
//   RSS:   (RSS after - RSS before - payload) / entries, each mode in a fresh process.
// Baseline in the same run: a Map<string, Buffer> holding the same data (RSS only).
// Target: at most 64 B per entry beyond key and value bytes. `node bench/store/overhead.mjs`
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store } from '../../dist/store/index.js';

const N = 1_000_000;
const KEY = 16;
const VALUE = 64;
const mode = process.argv[2];

function fillKey(buf, i) {
  // 16 bytes: "k" + 15 decimal digits
  buf[0] = 0x6b;
  for (let p = KEY - 1; p >= 1; p--) {
    buf[p] = 0x30 + (i % 10);
    i = Math.floor(i / 10);
  }
}

function settle() {
  if (global.gc) for (let i = 0; i < 3; i++) global.gc();
  return process.memoryUsage().rss;
}

if (mode === 'store' || mode === 'map') {
  const before = settle();
  const key = Buffer.alloc(KEY);
  const value = Buffer.alloc(VALUE, 0x61);
  const ct = Buffer.from('application/octet-stream');
  const out = {};
  if (mode === 'store') {
    const store = Store.create({ memory: 2 ** 30, maxKeys: 1_000_000, stripes: 256, maxValueSize: 16 << 20 });
    for (let i = 0; i < N; i++) {
      fillKey(key, i);
      value.writeUInt32LE(i, 0);
      store.set(key, value, ct, 0);
    }
    const st = store.stats();
    out.entries = st.entries;
    out.evictions = st.evictions;
    out.statsPerEntry = (st.bytesUsed - st.payloadBytes) / st.entries;
    out.bytesUsed = st.bytesUsed;
    out.rssPerEntry = (settle() - before - st.payloadBytes) / st.entries;
    if (st.entries === 0.5) console.log(store);
  } else {
    const map = new Map();
    for (let i = 0; i < N; i++) {
      fillKey(key, i);
      const v = Buffer.allocUnsafeSlow(VALUE);
      value.copy(v);
      map.set(key.toString('latin1'), v);
    }
    out.entries = map.size;
    out.rssPerEntry = (settle() - before - N * (KEY + VALUE)) / map.size;
  }
  console.log(JSON.stringify(out));
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (m) => {
    const r = spawnSync(process.execPath, ['--expose-gc', self, m], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  };
  const s = run('store');
  const m = run('map');
  console.log(
    `store: ${s.entries} entries, ${s.evictions} evictions, bytesUsed ${(s.bytesUsed / 2 ** 20).toFixed(1)} MiB`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: 'store overhead per entry, stats (B)', value: Number(s.statsPerEntry.toFixed(1)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: 'store overhead per entry, RSS (B)', value: Number(s.rssPerEntry.toFixed(1)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: 'Map<string, Buffer> overhead per entry, RSS (B)', value: Number(m.rssPerEntry.toFixed(1)) })}`,
  );
}
