#!/usr/bin/env node
// Miss ratio of the real Store (per-stripe SIEVE) against an exact LRU simulation on the same
// Zipf(0.99) trace, with the cache at 1% and 10% of the key space. The Store's budget is sized so
// it holds that many entries; the LRU gets exactly the number of entries the Store held at the
// end of the run, so both have the same capacity in entries. Target: Store below LRU at both.
//   node bench/store/sieve.mjs [--keys 1000000] [--requests 4000000] [--stripes 256]
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';
import { computeLayout, slabClasses, PAGE } from '../../dist/store/layout.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const KEYS = arg('--keys', 1_000_000);
const REQUESTS = arg('--requests', 4_000_000);
const STRIPES = arg('--stripes', 256);
const ALPHA = 0.99;
const VALUE = 100;
const KEY_BYTES = 12; // "k" + 11 digits

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function zipfTrace() {
  const cdf = new Float64Array(KEYS);
  let sum = 0;
  for (let i = 0; i < KEYS; i++) cdf[i] = sum += 1 / Math.pow(i + 1, ALPHA);
  for (let i = 0; i < KEYS; i++) cdf[i] /= sum;
  // popularity rank -> key id, shuffled so rank and key bytes are unrelated
  const perm = new Uint32Array(KEYS);
  for (let i = 0; i < KEYS; i++) perm[i] = i;
  const r = rng(12345);
  for (let i = KEYS - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const trace = new Uint32Array(REQUESTS);
  for (let n = 0; n < REQUESTS; n++) {
    const u = r();
    let lo = 0;
    let hi = KEYS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    trace[n] = perm[lo];
  }
  return trace;
}

function fillKey(buf, id) {
  buf[0] = 0x6b;
  for (let p = KEY_BYTES - 1; p >= 1; p--) {
    buf[p] = 0x30 + (id % 10);
    id = Math.floor(id / 10);
  }
}

/** Smallest --memory whose data pages hold `entries` entries of this size. */
function memoryFor(entries, ctLen) {
  const slot = 36 + KEY_BYTES + 0 * ctLen + VALUE;
  const cls = slabClasses().find((c) => c >= slot);
  const perPage = Math.floor(PAGE / cls);
  const pages = Math.ceil(entries / perPage) + 1; // +1: the content-type-free remainder page
  const base = { maxKeys: entries * 2, stripes: STRIPES, maxValueSize: 1 << 20 };
  let memory = 1 << 20;
  for (;;) {
    try {
      if (computeLayout({ ...base, memory }).numPages >= pages) return { ...base, memory };
    } catch {
      // too small for the index yet
    }
    memory += 64 * 1024;
  }
}

function runStore(trace, entries) {
  const opts = memoryFor(entries, 0);
  const store = Store.create(opts);
  const key = Buffer.alloc(KEY_BYTES);
  const value = Buffer.alloc(VALUE, 0x61);
  const ct = Buffer.from('application/octet-stream');
  const out = new ReadResult();
  out.wantBody = false;
  let misses = 0;
  const warm = trace.length >>> 2;
  for (let n = 0; n < trace.length; n++) {
    fillKey(key, trace[n]);
    if (store.get(key, out) === ReadStatus.Miss) {
      if (n >= warm) misses++;
      store.set(key, value, ct, 0);
    }
  }
  const st = store.stats();
  return {
    missRatio: misses / (trace.length - warm),
    entries: st.entries,
    evictions: st.evictions,
    memory: opts.memory,
  };
}

/** Exact LRU: a doubly linked list over key ids (typed arrays), most recent at the head. */
function runLru(trace, capacity) {
  const NIL = -1;
  const prev = new Int32Array(KEYS).fill(NIL);
  const next = new Int32Array(KEYS).fill(NIL);
  const present = new Uint8Array(KEYS);
  let head = NIL;
  let tail = NIL;
  let size = 0;
  let misses = 0;
  const warm = trace.length >>> 2;
  const unlink = (k) => {
    if (prev[k] !== NIL) next[prev[k]] = next[k];
    else head = next[k];
    if (next[k] !== NIL) prev[next[k]] = prev[k];
    else tail = prev[k];
  };
  const pushHead = (k) => {
    prev[k] = NIL;
    next[k] = head;
    if (head !== NIL) prev[head] = k;
    else tail = k;
    head = k;
  };
  for (let n = 0; n < trace.length; n++) {
    const k = trace[n];
    if (present[k] === 1) {
      unlink(k);
      pushHead(k);
    } else {
      if (n >= warm) misses++;
      present[k] = 1;
      pushHead(k);
      if (++size > capacity) {
        const victim = tail;
        unlink(victim);
        present[victim] = 0;
        size--;
      }
    }
  }
  return { missRatio: misses / (trace.length - warm) };
}

const trace = zipfTrace();
console.log(
  `Zipf(${ALPHA}) over ${KEYS} keys, ${REQUESTS} requests (first quarter warms up), stripes ${STRIPES}`,
);
for (const pct of [1, 10]) {
  const target = Math.round((KEYS * pct) / 100);
  const s = runStore(trace, target);
  const l = runLru(trace, s.entries);
  console.log(
    `cache ${pct}%: store holds ${s.entries} entries (--memory ${(s.memory / 2 ** 20).toFixed(2)} MiB), ` +
      `miss ratio store ${(s.missRatio * 100).toFixed(2)}% vs LRU ${(l.missRatio * 100).toFixed(2)}% ` +
      `(LRU at the same ${s.entries} entries)`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `miss ratio ${pct}% cache, store SIEVE`, value: Number(s.missRatio.toFixed(4)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `miss ratio ${pct}% cache, exact LRU`, value: Number(l.missRatio.toFixed(4)) })}`,
  );
}
