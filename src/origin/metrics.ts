import { FillResult, FillTable, fillSlotBytes } from './fill-table.js';
import { NEGATIVE_BYTES } from './negative.js';

/**
 * Read-through counters, one block per thread (single writer each) in the fill table's
 * SharedArrayBuffer after the slots, so whichever thread serves /metrics sums them all.
 * Float64 words: byte counts pass 2^32 quickly.
 */
const WORDS = 32;
/** Origin requests by FillResult (index = result). */
const M_RESULTS = 0;
const M_COALESCED = 8;
const M_WAITER_TIMEOUTS = 9;
const M_BYTES = 10;
const M_DURATION_SUM = 11;
const M_DURATION_COUNT = 12;
const M_BUCKETS = 13;
/** Bytes of fill bodies this thread holds now (a gauge; zeroed by the supervisor if it dies). */
const M_RESERVED = 30;
/** Fetch-duration histogram bounds, seconds. */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

function blockAt(threadIndex: number): number {
  return fillSlotBytes() + threadIndex * WORDS * 8;
}

/** Where the shared negative cache (src/origin/negative.ts) starts: after the counters. */
export function negativeAt(threads: number): number {
  return fillSlotBytes() + threads * WORDS * 8;
}

/** The whole shared buffer of the read-through tier: fill slots, the counters, the negative cache. */
export function fillTableBytes(threads: number): number {
  return negativeAt(threads) + NEGATIVE_BYTES;
}

const RESULT_LABELS: Record<number, string> = {
  [FillResult.Stored]: 'stored',
  [FillResult.NotStored]: 'not_stored',
  [FillResult.NotFound]: 'not_found',
  [FillResult.Failed]: 'failed',
  [FillResult.Timeout]: 'timeout',
  [FillResult.TooLarge]: 'too_large',
  [FillResult.NoMemory]: 'no_memory',
};

export class OriginMetrics {
  private readonly w: Float64Array;

  constructor(
    private readonly sab: SharedArrayBuffer,
    threadIndex: number,
  ) {
    this.w = new Float64Array(sab, blockAt(threadIndex), WORDS);
  }

  /** One origin request ended with `result` after `ms`, having sent `bytes` body bytes. */
  fetched(result: FillResult, ms: number, bytes: number): void {
    const w = this.w;
    if (result !== FillResult.Died) w[M_RESULTS + (result === FillResult.NoMemory ? 7 : result)]! += 1;
    w[M_BYTES]! += bytes;
    w[M_DURATION_SUM]! += ms / 1000;
    w[M_DURATION_COUNT]! += 1;
    let b = 0;
    while (b < BOUNDS.length && ms / 1000 > BOUNDS[b]!) b++;
    w[M_BUCKETS + b]! += 1;
  }

  /**
   * Takes `n` bytes for a fill body when the fills of every thread then hold at most `cap`;
   * false (nothing taken) otherwise. A soft cap: two threads may pass it at the same moment.
   */
  reserve(n: number, cap: number, threads: number): boolean {
    let held = 0;
    for (let t = 0; t < threads; t++) held += new Float64Array(this.sab, blockAt(t), WORDS)[M_RESERVED]!;
    if (held + n > cap) return false;
    this.w[M_RESERVED]! += n;
    return true;
  }

  release(n: number): void {
    this.w[M_RESERVED] = Math.max(0, this.w[M_RESERVED]! - n);
  }

  /** The supervisor, for a thread that died: what its fills held is free again. */
  static resetThread(sab: SharedArrayBuffer, threadIndex: number): void {
    new Float64Array(sab, blockAt(threadIndex), WORDS)[M_RESERVED] = 0;
  }

  coalesced(n: number): void {
    this.w[M_COALESCED]! += n;
  }

  waiterTimeouts(n: number): void {
    this.w[M_WAITER_TIMEOUTS]! += n;
  }
}

/** The read-through part of /metrics (Prometheus text). */
export function renderOriginMetrics(sab: SharedArrayBuffer, threads: number): string {
  const blocks: Float64Array[] = [];
  for (let t = 0; t < threads; t++)
    blocks.push(new Float64Array(sab, fillSlotBytes() + t * WORDS * 8, WORDS));
  const sum = (i: number): number => blocks.reduce((s, b) => s + b[i]!, 0);
  const p = 'stripecache_origin_';
  const lines: string[] = [];
  lines.push(`# HELP ${p}requests_total Origin requests, by how they ended.`);
  lines.push(`# TYPE ${p}requests_total counter`);
  for (const [r, label] of Object.entries(RESULT_LABELS)) {
    const i = Number(r) === FillResult.NoMemory ? 7 : Number(r);
    lines.push(`${p}requests_total{result="${label}"} ${sum(M_RESULTS + i)}`);
  }
  lines.push(`# HELP ${p}coalesced_waiters_total Requests that waited for a fetch already in flight.`);
  lines.push(`# TYPE ${p}coalesced_waiters_total counter`);
  lines.push(`${p}coalesced_waiters_total ${sum(M_COALESCED)}`);
  lines.push(`# HELP ${p}waiter_timeouts_total Waiting requests answered 504 because the fetch never ended.`);
  lines.push(`# TYPE ${p}waiter_timeouts_total counter`);
  lines.push(`${p}waiter_timeouts_total ${sum(M_WAITER_TIMEOUTS)}`);
  lines.push(`# HELP ${p}bytes_total Body bytes received from the origin.`);
  lines.push(`# TYPE ${p}bytes_total counter`);
  lines.push(`${p}bytes_total ${sum(M_BYTES)}`);
  lines.push(`# HELP ${p}fills_in_flight Origin fetches in flight (shared fill table slots in use).`);
  lines.push(`# TYPE ${p}fills_in_flight gauge`);
  lines.push(`${p}fills_in_flight ${new FillTable(sab).inUse()}`);
  lines.push(`# HELP ${p}fetch_duration_seconds Time from sending an origin request to its last byte.`);
  lines.push(`# TYPE ${p}fetch_duration_seconds histogram`);
  let cum = 0;
  for (let b = 0; b <= BOUNDS.length; b++) {
    cum += sum(M_BUCKETS + b);
    lines.push(`${p}fetch_duration_seconds_bucket{le="${b < BOUNDS.length ? BOUNDS[b] : '+Inf'}"} ${cum}`);
  }
  lines.push(`${p}fetch_duration_seconds_sum ${sum(M_DURATION_SUM)}`);
  lines.push(`${p}fetch_duration_seconds_count ${sum(M_DURATION_COUNT)}`);
  return lines.join('\n') + '\n';
}
