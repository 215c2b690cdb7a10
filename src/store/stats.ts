/**
 * `stats()`: the per-stripe counters summed on demand (there is no hot shared counter), plus the
 * budget in use read from the allocator's pool count.
 */
import type { StoreStats } from './api.js';
import {
  H_RESV_BYTES,
  H_RESV_COUNT,
  PAGE,
  S_COUNT,
  SF_DELETES,
  SF_EVICTIONS,
  SF_EXPIRATIONS,
  SF_HITS,
  SF_MISSES,
  SF_PAYLOAD,
  SF_SETS,
} from './layout.js';
import type { Views } from './views.js';

export function sumStats(v: Views): StoreStats {
  const st: StoreStats = {
    entries: 0,
    bytesUsed: 0,
    payloadBytes: 0,
    memoryBudget: v.L.memory,
    hits: 0,
    misses: 0,
    sets: 0,
    deletes: 0,
    evictions: 0,
    expirations: 0,
    reservations: Atomics.load(v.u32, H_RESV_COUNT),
    reservedBytes: Atomics.load(v.u32, H_RESV_BYTES),
  };
  const f = v.f64;
  for (let s = 0; s < v.L.stripes; s++) {
    const sf = v.stripeF64(s);
    st.entries += Atomics.load(v.u32, v.stripeWord(s) + S_COUNT);
    st.payloadBytes += f[sf + SF_PAYLOAD]!;
    st.hits += f[sf + SF_HITS]!;
    st.misses += f[sf + SF_MISSES]!;
    st.sets += f[sf + SF_SETS]!;
    st.deletes += f[sf + SF_DELETES]!;
    st.evictions += f[sf + SF_EVICTIONS]!;
    st.expirations += f[sf + SF_EXPIRATIONS]!;
  }
  st.bytesUsed = v.L.fixedBytes + (v.numPages - v.alloc.poolCount()) * PAGE;
  return st;
}
