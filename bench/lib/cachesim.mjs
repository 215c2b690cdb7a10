// Exact LRU simulation of the Zipf cache workload (fill, then GET/POST mix), giving the hit
// ratio a textbook LRU of the same capacity (in entries) would reach on the same kind of trace.
import { zipfSampler, mulberry32 } from './zipf.mjs';

/**
 * capacity: entries the cache holds (Infinity for an unbounded Map). fill: POSTs first; warm:
 * unmeasured mixed requests; requests: measured requests, a `writes` share of which are POSTs.
 */
export function simulateLru({ keys, s, capacity, fill, warm = 0, requests, writes = 0.2, seed = 1 }) {
  const rand = mulberry32(seed);
  const next = zipfSampler(keys, s, rand);
  const lru = new Map();
  const touch = (k) => {
    lru.delete(k);
    lru.set(k, true);
    if (lru.size > capacity) lru.delete(lru.keys().next().value);
  };
  for (let i = 0; i < fill; i++) touch(next());
  let gets = 0;
  let hits = 0;
  for (let i = -warm; i < requests; i++) {
    if (i === 0) gets = hits = 0;
    const k = next();
    if (rand() < writes) {
      touch(k);
    } else {
      gets++;
      if (lru.has(k)) {
        hits++;
        touch(k);
      }
    }
  }
  return { gets, hits, hitRatio: gets === 0 ? 0 : hits / gets, entries: lru.size };
}
