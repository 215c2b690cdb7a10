import type { StoreStats } from '../store/api.js';

/**
 * Layout of the HTTP layer's SharedArrayBuffer (allocated by the supervisor with
 * `httpSharedBytes(threads)`):
 *
 * - a 64-byte global header: connections open across all threads (--max-connections) and
 *   requests holding a serving slot (--concurrency-limit), both changed with Atomics;
 * - one 4 KiB slot per thread, written only by that thread without locks: gauges (open,
 *   serving, waiting) and 64-bit counters stored as (low, high) Uint32 pairs. Whoever serves
 *   /metrics reads every slot with Atomics.load and sums.
 */
const GLOBAL_U32 = 16;
const SLOT_U32 = 1024;

export const G_OPEN = 0;
export const G_SERVING = 1;
export const G_UPLOADING = 2;

export const S_OPEN = 0;
export const S_SERVING = 1;
export const S_WAITING = 2;
export const S_UPLOADING = 3;

/** Counter indices (each a lo/hi pair). */
export const C_ACCEPTED = 16;
export const C_REJECTED = 18;
export const C_BYTES_IN = 20;
export const C_BYTES_OUT = 22;
export const C_WRITES = 24;
export const C_PARSE_ERRORS = 26;
export const C_HEADER_TIMEOUTS = 28;
export const C_IDLE_CLOSED = 30;
/** Requests answered over HTTP/2 (also counted by route and status). */
export const C_H2_REQUESTS = 32;
/** Entries removed by DELETE /prefix/ (counted by the thread that ran the purge). */
export const C_PURGED = 34;
const C_REQUESTS = 64;

const ROUTES = ['root', 'store', 'get', 'healthz', 'metrics', 'other', 'prefix'] as const;
export const Route = { Root: 0, Store: 1, Get: 2, Healthz: 3, Metrics: 4, Other: 5, Prefix: 6 } as const;

const STATUSES = [
  200, 201, 204, 206, 304, 400, 404, 405, 408, 412, 413, 414, 416, 431, 500, 501, 503, 505, 507, 0,
] as const;
const STATUS_INDEX = new Int8Array(600).fill(STATUSES.length - 1);
STATUSES.forEach((s, i) => {
  if (s !== 0) STATUS_INDEX[s] = i;
});

export function httpSharedBytes(threads: number): number {
  return (GLOBAL_U32 + Math.max(1, threads) * SLOT_U32) * 4;
}

const TWO32 = 4294967296;

/** This thread's view: its own slot plus the global header. */
export class Metrics {
  readonly global: Int32Array;
  readonly slot: Uint32Array;
  private readonly slotI32: Int32Array;

  constructor(
    readonly shared: SharedArrayBuffer,
    readonly threadIndex: number,
  ) {
    this.global = new Int32Array(shared, 0, GLOBAL_U32);
    const offset = (GLOBAL_U32 + threadIndex * SLOT_U32) * 4;
    if (offset + SLOT_U32 * 4 > shared.byteLength)
      throw new RangeError('thread index beyond the shared metrics area');
    this.slot = new Uint32Array(shared, offset, SLOT_U32);
    this.slotI32 = new Int32Array(shared, offset, SLOT_U32);
  }

  /**
   * A restarted worker takes over its predecessor's slot: the connections the dead thread had
   * open and serving died with it, so take them off the global counts.
   */
  adoptSlot(): void {
    const open = Atomics.exchange(this.slotI32, S_OPEN, 0);
    const serving = Atomics.exchange(this.slotI32, S_SERVING, 0);
    const uploading = Atomics.exchange(this.slotI32, S_UPLOADING, 0);
    Atomics.store(this.slotI32, S_WAITING, 0);
    if (open !== 0) Atomics.sub(this.global, G_OPEN, open);
    if (serving !== 0) Atomics.sub(this.global, G_SERVING, serving);
    if (uploading !== 0) Atomics.sub(this.global, G_UPLOADING, uploading);
  }

  add(i: number, n: number): void {
    const c = this.slot;
    const v = c[i]! + n;
    if (v >= TWO32) {
      c[i] = v % TWO32;
      c[i + 1] = c[i + 1]! + Math.floor(v / TWO32);
    } else {
      c[i] = v;
    }
  }

  request(route: number, status: number): void {
    this.add(C_REQUESTS + (route * STATUSES.length + STATUS_INDEX[status]!) * 2, 1);
  }

  /**
   * A plain add: a slot has one writer (its thread, or the thread restarted in its place), and an
   * aligned 32-bit store is never torn for the readers summing slots; an Atomics call is a
   * builtin call V8 does not inline, twice per request on the serving gauge.
   */
  gauge(i: number, delta: number): void {
    this.slotI32[i] = this.slotI32[i]! + delta;
  }

  /** Opens a connection unless that would pass `max` across all threads. */
  tryOpen(max: number): boolean {
    if (Atomics.add(this.global, G_OPEN, 1) >= max) {
      Atomics.sub(this.global, G_OPEN, 1);
      return false;
    }
    this.gauge(S_OPEN, 1);
    return true;
  }

  closed(): void {
    Atomics.sub(this.global, G_OPEN, 1);
    this.gauge(S_OPEN, -1);
  }

  /** Takes a serving slot unless `limit` connections are served across all threads. */
  tryServe(limit: number): boolean {
    const g = this.global;
    for (;;) {
      // a plain read: the exchange below is what decides, a stale value only costs a retry
      const cur = g[G_SERVING]!;
      if (cur >= limit) return false;
      if (Atomics.compareExchange(g, G_SERVING, cur, cur + 1) === cur) {
        this.gauge(S_SERVING, 1);
        return true;
      }
    }
  }

  unserve(): void {
    Atomics.sub(this.global, G_SERVING, 1);
    this.gauge(S_SERVING, -1);
  }

  /** Marks a served request as an upload unless `limit` uploads are in progress across all threads. */
  tryUpload(limit: number): boolean {
    const g = this.global;
    for (;;) {
      // a plain read: the exchange below is what decides, a stale value only costs a retry
      const cur = g[G_UPLOADING]!;
      if (cur >= limit) return false;
      if (Atomics.compareExchange(g, G_UPLOADING, cur, cur + 1) === cur) {
        this.gauge(S_UPLOADING, 1);
        return true;
      }
    }
  }

  uploadDone(): void {
    Atomics.sub(this.global, G_UPLOADING, 1);
    this.gauge(S_UPLOADING, -1);
  }
}

function read64(slot: Uint32Array, i: number): number {
  return Atomics.load(slot, i) + Atomics.load(slot, i + 1) * TWO32;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  index: number;
  gauge?: boolean;
}

const FAMILIES: readonly Family[] = [
  { name: 'connections_open', help: 'Connections open.', type: 'gauge', index: S_OPEN, gauge: true },
  {
    name: 'connections_serving',
    help: 'Connections with a request in progress (holding a --concurrency-limit slot).',
    type: 'gauge',
    index: S_SERVING,
    gauge: true,
  },
  {
    name: 'connections_uploading',
    help: 'Connections whose request body is arriving (at most half the --concurrency-limit slots).',
    type: 'gauge',
    index: S_UPLOADING,
    gauge: true,
  },
  {
    name: 'connections_waiting',
    help: 'Connections with a request waiting, unread, for a --concurrency-limit slot.',
    type: 'gauge',
    index: S_WAITING,
    gauge: true,
  },
  { name: 'connections_accepted_total', help: 'Connections accepted.', type: 'counter', index: C_ACCEPTED },
  {
    name: 'connections_rejected_total',
    help: 'Connections refused with 503 over --max-connections.',
    type: 'counter',
    index: C_REJECTED,
  },
  { name: 'bytes_received_total', help: 'Bytes read from clients.', type: 'counter', index: C_BYTES_IN },
  { name: 'bytes_sent_total', help: 'Bytes handed to sockets.', type: 'counter', index: C_BYTES_OUT },
  {
    name: 'socket_writes_total',
    help: 'Socket write calls (one per batch of responses).',
    type: 'counter',
    index: C_WRITES,
  },
  {
    name: 'parse_errors_total',
    help: 'Requests refused as malformed or over a limit.',
    type: 'counter',
    index: C_PARSE_ERRORS,
  },
  {
    name: 'header_timeouts_total',
    help: 'Connections closed with 408.',
    type: 'counter',
    index: C_HEADER_TIMEOUTS,
  },
  {
    name: 'idle_closed_total',
    help: 'Keep-alive connections closed after --idle-timeout.',
    type: 'counter',
    index: C_IDLE_CLOSED,
  },
  { name: 'purged_total', help: 'Entries removed by DELETE /prefix/.', type: 'counter', index: C_PURGED },
];

/** Prometheus text exposition (version 0.0.4) of every thread's slot plus the store's stats. */
export function renderMetrics(shared: SharedArrayBuffer, threads: number, stats: StoreStats): string {
  const slots: Uint32Array[] = [];
  const n = Math.min(threads, Math.floor((shared.byteLength / 4 - GLOBAL_U32) / SLOT_U32));
  for (let t = 0; t < n; t++) slots.push(new Uint32Array(shared, (GLOBAL_U32 + t * SLOT_U32) * 4, SLOT_U32));
  const lines: string[] = [];
  const p = 'stripecache_';

  lines.push(`# HELP ${p}http_requests_total Requests answered, by route and status, summed over threads.`);
  lines.push(`# TYPE ${p}http_requests_total counter`);
  const perThread: string[] = [];
  let all = 0;
  for (let r = 0; r < ROUTES.length; r++) {
    for (let s = 0; s < STATUSES.length; s++) {
      const i = C_REQUESTS + (r * STATUSES.length + s) * 2;
      let sum = 0;
      for (let t = 0; t < slots.length; t++) {
        const v = read64(slots[t]!, i);
        sum += v;
        if (v !== 0) {
          perThread.push(
            `${p}thread_http_requests_total{thread="${t}",route="${ROUTES[r]}",status="${statusLabel(s)}"} ${v}`,
          );
        }
      }
      all += sum;
      if (sum !== 0)
        lines.push(`${p}http_requests_total{route="${ROUTES[r]}",status="${statusLabel(s)}"} ${sum}`);
    }
  }
  lines.push(`# HELP ${p}thread_http_requests_total Requests answered, by thread, route and status.`);
  lines.push(`# TYPE ${p}thread_http_requests_total counter`);
  lines.push(...perThread);
  let h2 = 0;
  for (let t = 0; t < slots.length; t++) h2 += read64(slots[t]!, C_H2_REQUESTS);
  lines.push(`# HELP ${p}requests_by_protocol_total Requests answered, by protocol, summed over threads.`);
  lines.push(`# TYPE ${p}requests_by_protocol_total counter`);
  lines.push(`${p}requests_by_protocol_total{protocol="http/1.1"} ${all - h2}`);
  lines.push(`${p}requests_by_protocol_total{protocol="h2"} ${h2}`);

  for (const f of FAMILIES) {
    lines.push(`# HELP ${p}${f.name} ${f.help}`);
    lines.push(`# TYPE ${p}${f.name} ${f.type}`);
    let sum = 0;
    const rows: string[] = [];
    for (let t = 0; t < slots.length; t++) {
      const v = f.gauge
        ? Atomics.load(new Int32Array(slots[t]!.buffer, slots[t]!.byteOffset, 4), f.index)
        : read64(slots[t]!, f.index);
      sum += v;
      rows.push(`${p}${f.name}{thread="${t}"} ${v}`);
    }
    lines.push(`${p}${f.name} ${sum}`, ...rows);
  }

  const store: [string, string, 'counter' | 'gauge', number][] = [
    ['cache_hits_total', 'Reads that found the key.', 'counter', stats.hits],
    ['cache_misses_total', 'Reads that did not find the key.', 'counter', stats.misses],
    ['cache_sets_total', 'Values stored.', 'counter', stats.sets],
    ['cache_deletes_total', 'Keys deleted.', 'counter', stats.deletes],
    ['cache_evictions_total', 'Entries evicted to make room.', 'counter', stats.evictions],
    ['cache_expirations_total', 'Entries removed because their TTL passed.', 'counter', stats.expirations],
    ['cache_entries', 'Entries stored.', 'gauge', stats.entries],
    ['cache_bytes_used', 'Bytes of the memory budget in use.', 'gauge', stats.bytesUsed],
    ['cache_payload_bytes', 'Bytes of keys and values stored.', 'gauge', stats.payloadBytes],
    ['cache_memory_budget_bytes', 'The --memory budget.', 'gauge', stats.memoryBudget],
  ];
  for (const [name, help, type, v] of store) {
    lines.push(`# HELP ${p}${name} ${help}`, `# TYPE ${p}${name} ${type}`, `${p}${name} ${v}`);
  }
  return lines.join('\n') + '\n';
}

function statusLabel(s: number): string {
  const v = STATUSES[s]!;
  return v === 0 ? 'other' : String(v);
}
