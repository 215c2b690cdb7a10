import type { IncomingHttpHeaders } from 'node:http';
import type { KvStore } from '../store/api.js';
import { ReadResult, ReadStatus, SetOutcome, type Reservation } from '../store/api.js';
import { GetSelector } from '../http/conditional.js';
import { RangeKind } from '../http/range.js';
import { parseCacheControl } from './cache-control.js';
import { FetchFailure, type OriginClient } from './client.js';
import { CLAIM_RETRIES, Claim, FillResult, FillTable, waitAsync } from './fill-table.js';
import type { OriginMetrics } from './metrics.js';
import { StoredMeta, encodeMeta, originAge, strongEtag } from './meta.js';

/**
 * --origin-slice: an origin object is kept as fixed-size slices, each its own store entry
 * (own eviction and TTL) under the key followed by `\0slice:<n>`, fetched with
 * `Range: bytes=<n*S>-<n*S+S-1>`; the object's total length comes from the origin's
 * Content-Range and is kept with each slice (in its stored content type, `<total> <type>`, the
 * type followed by the metadata of src/origin/meta.ts: when the slice was generated, its ETag).
 * One fetch per slice: coalesced on this thread by a promise per slice, across threads through
 * the shared fill table.
 */

/** Bytes of one slice (or of the part of it a request needs) and what the object is. */
export interface SlicePart {
  /** Bytes of the object from `offset` on. */
  bytes: Uint8Array;
  offset: number;
  total: number;
  contentType: Uint8Array;
  /** Unix seconds the origin generated this slice's answer. */
  born: number;
  /** The origin's strong ETag for the slice's answer (between the quotes), or null. */
  etag: Uint8Array | null;
  /** Came from the store (no origin request on its behalf). */
  hit: boolean;
}

export type SliceOutcome = SlicePart | FillResult;

/** A fetch's outcome for the requests of this thread: IN_STORE: published, read your span there. */
const IN_STORE = 0;
type Fetched = SliceOutcome | typeof IN_STORE;
/** How often one request may find its slice gone from the store right after a fetch. */
const MAX_ATTEMPTS = 3;

const SLICE_MARK = Buffer.from('\0slice:', 'latin1');

export function sliceKey(key: Uint8Array, n: number): Uint8Array {
  const digits = Buffer.from(String(n), 'latin1');
  const out = new Uint8Array(key.length + SLICE_MARK.length + digits.length);
  out.set(key, 0);
  out.set(SLICE_MARK, key.length);
  out.set(digits, key.length + SLICE_MARK.length);
  return out;
}

/** Longest client key that still leaves room for the slice suffix (longer keys: whole objects). */
export const SLICE_KEY_ROOM = 24;

export class SliceReader {
  private readonly inFlight = new Map<string, Promise<Fetched>>();
  private readonly read = new ReadResult();
  private readonly meta = new StoredMeta();
  private readonly selector = new GetSelector();
  private readonly table: FillTable;
  /** Told of an origin 404/410 for an object (the shared negative cache), before its slot frees. */
  onNotFound: (key: Uint8Array) => void = () => {};

  constructor(
    private readonly store: KvStore,
    private readonly client: OriginClient,
    fills: SharedArrayBuffer,
    private readonly ownerId: number,
    readonly size: number,
    private readonly defaultTtl: number,
    private readonly timeoutMs: number,
    private readonly metrics: OriginMetrics,
    /** Bytes the bodies of the fills in flight may hold, all threads together. */
    private readonly fillCap: number,
    private readonly threads: number,
  ) {
    this.table = new FillTable(fills);
  }

  /** Bytes [from, to) of slice `n` of `key` (clamped to the object), from the store or the origin. */
  async part(key: Uint8Array, n: number, from: number, to: number): Promise<SliceOutcome> {
    const sk = sliceKey(key, n);
    const name = Buffer.from(sk).toString('latin1');
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = this.fromStore(sk, n, from, to);
      if (stored !== null) return attempt === 0 ? stored : { ...stored, hit: false };
      let p = this.inFlight.get(name);
      if (p === undefined) {
        p = this.fetchShared(key, sk, n).finally(() => this.inFlight.delete(name));
        this.inFlight.set(name, p);
      }
      const got = await p;
      // Stored: each request reads its own span from the store (evicted already: fetched again).
      if (got === IN_STORE) continue;
      if (typeof got === 'number') return got;
      return { ...got, hit: false };
    }
    return FillResult.Failed;
  }

  /** One fetch of slice `n` for every thread: claim it, or wait for the thread that did. */
  private async fetchShared(key: Uint8Array, sk: Uint8Array, n: number): Promise<Fetched> {
    const t = this.table;
    const [a, b] = FillTable.tags(sk);
    let claim = t.claim(a, b, this.ownerId);
    // Another thread is mid-claim on this slice's probe path: ask again rather than fetch twice.
    for (let i = 0; claim === Claim.Busy && i < CLAIM_RETRIES; i++) {
      await new Promise((r) => setTimeout(r, 1));
      claim = t.claim(a, b, this.ownerId);
    }
    // A fill that finished between the store miss and the claim left the slice: no refetch.
    if (claim === Claim.Claimed && this.fromStore(sk, n, n * this.size, n * this.size + 1) !== null) {
      t.finish(t.slot, FillResult.Stored);
      return IN_STORE;
    }
    if (claim === Claim.Joined) {
      this.metrics.coalesced(1);
      const slot = t.slot;
      const seq = t.seq;
      const deadline = Date.now() + 2 * this.timeoutMs + 1000;
      while (!t.over(slot, seq) && Date.now() < deadline) {
        const at = t.progressIndex(slot);
        const progress = Atomics.load(t.words, at);
        if (t.over(slot, seq)) break;
        const r = waitAsync(t.words, at, progress, deadline - Date.now());
        if (r.async) await r.value;
      }
      if (!t.over(slot, seq)) {
        this.metrics.waiterTimeouts(1);
        return FillResult.Timeout;
      }
      const result = t.resultAfter(slot, seq);
      if (result === FillResult.Stored) return IN_STORE;
      if (result !== FillResult.NotStored && result !== FillResult.Died) return result;
      // Not stored (or its thread died): fetch it here, uncoalesced.
      return this.fetch(key, sk, n, -1);
    }
    return this.fetch(key, sk, n, claim === Claim.Claimed ? t.slot : -1);
  }

  /**
   * Fetches slice `n`. A slice to be kept lands in a store reservation as it arrives (inside
   * --memory, published when complete: IN_STORE); one that is not (no-store/private) in memory of
   * its own, under the fill budget, and comes back as bytes.
   */
  private fetch(key: Uint8Array, sk: Uint8Array, n: number, slot: number): Promise<Fetched> {
    const first = n * this.size;
    return new Promise<Fetched>((resolve) => {
      let total = -1;
      let body: Uint8Array = new Uint8Array(0);
      let res: Reservation | null = null;
      let length = 0;
      let arrived = 0;
      let type = 'application/octet-stream';
      let born = 0;
      let etag: Uint8Array | null = null;
      const startedAt = Date.now();
      let reserved = 0;
      const end = (r: Fetched, result: FillResult): void => {
        this.metrics.release(reserved);
        reserved = 0;
        // Waiters never read a slice's reservation (they read the store once it is published).
        if (res !== null && result !== FillResult.Stored) res.abort();
        if (result === FillResult.NotFound) this.onNotFound(key);
        if (slot >= 0) this.table.finish(slot, result);
        this.metrics.fetched(result, Date.now() - startedAt, arrived);
        resolve(r);
      };
      const failed = (result: FillResult): void => end(result, result);
      this.client.fetch(this.client.pathOf(key), first, first + this.size - 1, {
        onHead: (status: number, h: IncomingHttpHeaders): boolean => {
          if (status === 404 || status === 410) {
            failed(FillResult.NotFound);
            return false;
          }
          const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(h['content-range'] ?? ''));
          const unsat = /^bytes \*\/(\d+)$/.exec(String(h['content-range'] ?? ''));
          if (status === 416 && unsat !== null) {
            // Past the end: an empty part that still tells the total length (nothing stored).
            const empty = { bytes: body, offset: first, total: Number(unsat[1]), hit: false };
            const seen = { born: Math.floor(Date.now() / 1000) - originAge(h), etag: null };
            end({ ...empty, ...seen, contentType: Buffer.from(type, 'latin1') }, FillResult.NotStored);
            return false;
          }
          const cl = Number(h['content-length']);
          if (status === 206 && cr !== null && Number(cr[1]) === first) {
            total = Number(cr[3]);
          } else if (status === 200 && Number.isSafeInteger(cl) && cl <= this.size && n === 0) {
            total = cl; // an origin that ignores Range, for an object within one slice
          } else {
            failed(FillResult.Failed);
            return false;
          }
          length = Math.max(0, Math.min(this.size, total - first));
          const fresh = parseCacheControl(h['cache-control']);
          const ttl = fresh.ttl >= 0 ? fresh.ttl : this.defaultTtl;
          const ct = h['content-type'];
          if (typeof ct === 'string' && ct.length > 0 && ct.length <= 200) type = ct;
          born = Math.floor(Date.now() / 1000) - originAge(h);
          etag = strongEtag(h);
          if (fresh.store) {
            const prefix = Buffer.from(`${total} `, 'latin1');
            const meta = Buffer.concat([
              prefix,
              encodeMeta(Buffer.from(type, 'latin1'), born, etag, prefix.length),
            ]);
            const got = this.store.reserve(sk, length, meta, ttl);
            if (typeof got === 'number') {
              failed(FillResult.NoMemory);
              return false;
            }
            res = got;
            return true;
          }
          if (!this.metrics.reserve(length, this.fillCap, this.threads)) {
            failed(FillResult.NoMemory);
            return false;
          }
          reserved = length;
          body = new Uint8Array(length);
          return true;
        },
        onData: (chunk: Buffer): void => {
          if (arrived + chunk.length > length) return;
          if (res !== null) res.write(chunk, arrived);
          else body.set(chunk, arrived);
          arrived += chunk.length;
        },
        onEnd: (): void => {
          if (arrived !== length) {
            failed(FillResult.Failed);
            return;
          }
          if (res !== null) {
            const outcome = res.publish(length);
            const stored = outcome === SetOutcome.Created || outcome === SetOutcome.Replaced;
            // Published: read from the store; refused: nobody has the bytes, fetched again.
            end(IN_STORE, stored ? FillResult.Stored : FillResult.NotStored);
            return;
          }
          const part = { bytes: body, offset: first, total, contentType: Buffer.from(type, 'latin1') };
          end({ ...part, born, etag, hit: false }, FillResult.NotStored);
        },
        onFail: (why: FetchFailure): void => {
          failed(why === FetchFailure.Timeout ? FillResult.Timeout : FillResult.Failed);
        },
      });
    });
  }

  /** The stored slice's bytes [from, to) (object offsets), or null on a miss. */
  private fromStore(sk: Uint8Array, n: number, from: number, to: number): SlicePart | null {
    const read = this.read;
    const sel = this.selector;
    const base = n * this.size;
    read.reset();
    sel.clear();
    sel.range.kind = RangeKind.FromTo;
    sel.range.a = Math.max(0, from - base);
    sel.range.b = Math.max(sel.range.a, to - base - 1);
    read.select = sel;
    const got = this.store.get(sk, read);
    read.select = null;
    if (got === ReadStatus.Miss) return null;
    const ct = read.contentType.subarray(0, read.contentTypeLength);
    const space = ct.indexOf(0x20);
    const total = Number(Buffer.from(ct.subarray(0, Math.max(0, space))).toString('latin1'));
    if (space <= 0 || !Number.isSafeInteger(total)) return null;
    const rest = ct.subarray(space + 1);
    const m = this.meta.decode(rest, rest.length);
    const offset = got === ReadStatus.Partial ? base + read.bodyStart : base;
    const bytes = got === ReadStatus.RangeNotSatisfiable ? new Uint8Array(0) : read.body;
    return {
      bytes,
      offset,
      total,
      contentType: Buffer.from(rest.subarray(0, m.typeLength)),
      born: m.born < 0 ? Math.floor(Date.now() / 1000) : m.born,
      etag: m.etagEnd > m.etagStart ? Buffer.from(rest.subarray(m.etagStart, m.etagEnd)) : null,
      hit: true,
    };
  }
}
