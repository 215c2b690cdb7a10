#!/usr/bin/env node
// Miss ratio of the real Store (one eviction order: sampled per-stripe SIEVE candidates compared
// by a global insertion sequence, src/store/eviction.ts) against exact LRU and exact global SIEVE
// simulations on the same Zipf(0.99) trace, with the cache at 1% and 10% of the key space. The
// Store's budget is sized so it holds that many entries; the simulations get exactly the number of
// entries the Store held at the end of the run, so all have the same capacity in entries.
// Target: Store below LRU at both, and close to exact SIEVE (the gap is the sampling's error).
//   node bench/store/sieve.mjs [--keys 1000000] [--requests 4000000] [--stripes 256] [--sample 8]
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';
import { computeLayout, slabClasses, E_HEADER_BYTES, PAGE } from '../../dist/store/layout.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const KEYS = arg('--keys', 1_000_000);
const REQUESTS = arg('--requests', 4_000_000);
const STRIPES = arg('--stripes', 256);
const SAMPLE = arg('--sample', 0);
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
  const slot = E_HEADER_BYTES + KEY_BYTES + 0 * ctLen + VALUE;
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
  if (SAMPLE > 0) store.eviction.sample = SAMPLE;
  if (arg('--peek', -1) >= 0) store.eviction.peek = arg('--peek', -1);
  const t0 = process.hrtime.bigint();
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
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
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

/** Exact SIEVE over the whole cache: one FIFO queue, one hand, a visited bit per key. */
function runSieve(trace, capacity) {
  const NIL = -1;
  const newer = new Int32Array(KEYS).fill(NIL);
  const older = new Int32Array(KEYS).fill(NIL);
  const present = new Uint8Array(KEYS);
  const visited = new Uint8Array(KEYS);
  let head = NIL; // newest
  let tail = NIL; // oldest
  let hand = NIL;
  let size = 0;
  let misses = 0;
  const warm = trace.length >>> 2;
  for (let n = 0; n < trace.length; n++) {
    const k = trace[n];
    if (present[k] === 1) {
      visited[k] = 1;
      continue;
    }
    if (n >= warm) misses++;
    if (size >= capacity) {
      let h = hand === NIL ? tail : hand;
      while (visited[h] === 1) {
        visited[h] = 0;
        h = newer[h] === NIL ? tail : newer[h];
      }
      hand = newer[h];
      if (newer[h] !== NIL) older[newer[h]] = older[h];
      else head = older[h];
      if (older[h] !== NIL) newer[older[h]] = newer[h];
      else tail = newer[h];
      present[h] = 0;
      size--;
    }
    present[k] = 1;
    visited[k] = 0;
    newer[k] = NIL;
    older[k] = head;
    if (head !== NIL) newer[head] = k;
    else tail = k;
    head = k;
    size++;
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
  const g = runSieve(trace, s.entries);
  console.log(
    `cache ${pct}%: store holds ${s.entries} entries (--memory ${(s.memory / 2 ** 20).toFixed(2)} MiB), ` +
      `miss ratio store ${(s.missRatio * 100).toFixed(2)}% vs LRU ${(l.missRatio * 100).toFixed(2)}% ` +
      `vs exact SIEVE ${(g.missRatio * 100).toFixed(2)}% (both at the same ${s.entries} entries); ` +
      `store run ${s.seconds.toFixed(1)} s`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `miss ratio ${pct}% cache, store SIEVE`, value: Number(s.missRatio.toFixed(4)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `miss ratio ${pct}% cache, exact LRU`, value: Number(l.missRatio.toFixed(4)) })}`,
  );
  console.log(
    `BENCH ${JSON.stringify({ name: `miss ratio ${pct}% cache, exact SIEVE`, value: Number(g.missRatio.toFixed(4)) })}`,
  );
}
