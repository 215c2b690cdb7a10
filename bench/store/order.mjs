#!/usr/bin/env node
// How far the store's one eviction order (sampled SIEVE candidates compared by a global insertion
// sequence, src/store/eviction.ts) is from an exact global order, on write-only streams: the
// exact answer for a write-only stream is FIFO (the newest C keys survive, C = the entries the
// store holds at the end). For each case it reports, over R runs:
//   - missing-newest: keys of the newest 1/8 of the budget (by bytes) that are gone (must be 0)
//   - FIFO error: the share of exact FIFO's survivors (the newest C) the store does not hold
//   - oldest survivor: how far back (in keys written) the oldest surviving key is, against C
// Run it for several sample sizes to see the error the sampling costs:
//   node bench/store/order.mjs [--runs 3] [--samples 1,2,4,8,16]
// (reads the built dist/: `npm run build` first).
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : d;
};
const RUNS = Number(arg('--runs', '3'));
const SAMPLES = arg('--samples', '1,2,4,8,16').split(',').map(Number);
const CT = Buffer.from('application/octet-stream');

const CASES = [
  {
    name: '64 KiB values, 32 MiB, 256 stripes',
    memory: 32 << 20,
    stripes: 256,
    size: () => 64 << 10,
    writes: 2000,
  },
  {
    name: '64 KiB values, 32 MiB, 16 stripes',
    memory: 32 << 20,
    stripes: 16,
    size: () => 64 << 10,
    writes: 2000,
  },
  {
    name: '100 B values, 16 MiB, 256 stripes',
    memory: 16 << 20,
    stripes: 256,
    size: () => 100,
    writes: 400_000,
  },
  {
    name: 'mixed 100 B .. 200 KiB, 64 MiB, 256 stripes',
    memory: 64 << 20,
    stripes: 256,
    // 90% small, 10% 64-200 KiB (deterministic per key)
    size: (i) => (((i * 2654435761) >>> 0) % 10 === 0 ? 65_536 + ((i * 40503) % 140_000) : 100 + (i % 900)),
    writes: 40_000,
  },
];

function runCase(c, sample) {
  const store = Store.create({
    memory: c.memory,
    maxKeys: 1_000_000,
    stripes: c.stripes,
    maxValueSize: 1 << 20,
  });
  store.eviction.sample = sample;
  const key = (i) => Buffer.from(`order/${i}`);
  const big = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < c.writes; i++) store.set(key(i), big.subarray(0, c.size(i)), CT, 0);
  const r = new ReadResult();
  r.wantBody = false;
  const present = new Uint8Array(c.writes);
  let held = 0;
  for (let i = 0; i < c.writes; i++) {
    if (store.get(key(i), r) !== ReadStatus.Miss) {
      present[i] = 1;
      held++;
    }
  }
  // the newest keys worth 1/8 of the budget
  let bytes = 0;
  let missingNewest = 0;
  let newestCount = 0;
  for (let i = c.writes - 1; i >= 0 && bytes < c.memory / 8; i--) {
    bytes += c.size(i);
    newestCount++;
    if (present[i] === 0) missingNewest++;
  }
  let fifoMissing = 0;
  for (let i = c.writes - held; i < c.writes; i++) if (present[i] === 0) fifoMissing++;
  let oldest = c.writes;
  for (let i = 0; i < c.writes; i++)
    if (present[i] === 1) {
      oldest = i;
      break;
    }
  return {
    held,
    newestCount,
    missingNewest,
    fifoError: fifoMissing / held,
    reach: (c.writes - oldest) / held,
  };
}

console.log(`write-only streams, ${RUNS} runs each; exact global FIFO keeps exactly the newest C keys`);
for (const c of CASES) {
  for (const sample of SAMPLES) {
    let worstMissing = 0;
    let err = 0;
    let reach = 0;
    let held = 0;
    let newest = 0;
    for (let run = 0; run < RUNS; run++) {
      const m = runCase(c, sample);
      worstMissing = Math.max(worstMissing, m.missingNewest);
      err += m.fifoError / RUNS;
      reach = Math.max(reach, m.reach);
      held = m.held;
      newest = m.newestCount;
    }
    console.log(
      `${c.name}, sample ${sample}: holds ${held}; missing of the newest ${newest} (1/8): ` +
        `${worstMissing} (worst run); FIFO error ${(err * 100).toFixed(2)}%; ` +
        `oldest survivor ${reach.toFixed(2)} x C back`,
    );
    console.log(
      `BENCH ${JSON.stringify({ name: `order ${c.name} sample ${sample}: FIFO error`, value: Number(err.toFixed(4)) })}`,
    );
  }
}
