// The workloads of issue 5, plus the big-value GETs of issue 9 (get1m, get10m). Each names its Lua script, wrk connections, what to preload,
// and any server flag it needs (only stripecache takes flags; peers are plain Maps).
import { httpRequest } from './client.mjs';
import { zipfSampler, mulberry32 } from './zipf.mjs';

const KiB = 1024;
const MiB = 1024 * 1024;

function valueBytes(size, i) {
  const unit = Buffer.from((i >>> 0).toString(16).padStart(8, '0'), 'latin1');
  const b = Buffer.alloc(size);
  for (let o = 0; o < size; o += 8) unit.copy(b, o);
  return b;
}

/** count keys <prefix><i>, i in 0..count-1, each `size` bytes. */
function keysPreload(prefix, count, size) {
  return { count, make: (i) => httpRequest('POST', `/store/${prefix}${i}`, { body: valueBytes(size, i) }) };
}

export const WORKLOADS = [
  {
    id: 'get64',
    title: 'GET 64 B, 10k keys',
    script: 'get.lua',
    connections: 64,
    args: { keys: 10000, prefix: 'k64-' },
    preload: () => keysPreload('k64-', 10000, 64),
  },
  {
    id: 'mixed',
    title: '80% GET / 20% POST 64 B, 10k keys',
    script: 'mixed.lua',
    connections: 64,
    args: { keys: 10000, prefix: 'k64-', value: 64, writes: 0.2 },
    preload: () => keysPreload('k64-', 10000, 64),
  },
  {
    id: 'pipelined',
    title: 'GET 64 B pipelined x16',
    script: 'get.lua',
    connections: 64,
    args: { keys: 10000, prefix: 'k64-', depth: 16 },
    preload: () => keysPreload('k64-', 10000, 64),
  },
  {
    id: 'get4k',
    title: 'GET 4 KiB, 10k keys',
    script: 'get.lua',
    connections: 64,
    args: { keys: 10000, prefix: 'k4k-' },
    preload: () => keysPreload('k4k-', 10000, 4 * KiB),
  },
  {
    id: 'range',
    title: '4 KiB Range slices of one 10 MiB value, 200 conns',
    script: 'range.lua',
    connections: 200,
    args: { key: 'big', size: 10 * MiB, slice: 4 * KiB },
    preload: () => ({
      count: 1,
      make: () => httpRequest('POST', '/store/big', { body: valueBytes(10 * MiB, 7) }),
    }),
    check: 'range',
  },
  {
    id: 'get1m',
    title: 'GET 1 MiB, 64 keys',
    script: 'get.lua',
    connections: 16,
    args: { keys: 64, prefix: 'k1m-' },
    preload: () => keysPreload('k1m-', 64, MiB),
  },
  {
    id: 'get10m',
    title: 'GET 10 MiB, 8 keys',
    script: 'get.lua',
    connections: 16,
    args: { keys: 8, prefix: 'k10m-' },
    preload: () => keysPreload('k10m-', 8, 10 * MiB),
  },
  {
    id: 'post1m',
    title: 'POST 1 MiB bodies',
    script: 'post.lua',
    connections: 16,
    args: { keys: 64, value: MiB },
    preload: null,
  },
  {
    id: 'zipf',
    title: 'Zipf 0.99 80/20 GET/POST 1 KiB, 1M keys, 32 MiB budget',
    script: 'zipf.lua',
    connections: 64,
    args: { keys: 1_000_000, s: 0.99, value: KiB, writes: 0.2 },
    // The fill writes about 39,000 distinct keys (40 MiB); the budget (1M-key index included) holds about half of
    // them, so eviction decides the hit ratio. Peers are unbounded Maps and keep everything.
    serverArgs: ['--memory', '32MiB'],
    fill: 100_000,
    preload: (w) => {
      const next = zipfSampler(w.args.keys, w.args.s, mulberry32(42));
      const body = valueBytes(w.args.value, 1);
      return { count: w.fill, make: () => httpRequest('POST', `/store/z${next()}`, { body }) };
    },
  },
];

export const WORKLOAD_IDS = WORKLOADS.map((w) => w.id);
