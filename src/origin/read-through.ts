import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import { HttpError } from '../base/errors.js';
import type { MissHandler, MissedRequest } from '../http/api.js';
import { GetSelector } from '../http/conditional.js';
import { ReadResult, ReadStatus, SetOutcome, type KvStore } from '../store/api.js';
import { CacheStatus, etagHex, writeError, writeStoredHead } from './answer.js';
import {
  RemoteWaits,
  answerWith,
  copyOut,
  type Announcement,
  type RemoteHost,
  type RemoteWait,
} from './remote-wait.js';
import { StoredMeta } from './meta.js';
import type { Output } from '../http/output.js';
import type { Conn, DateLine } from '../http/canned.js';
import { ReservedBody, SharedBody, type BodyMemory } from './body.js';
import { MAX_KEY_BYTES } from '../store/api.js';
import { SLICE_KEY_ROOM, SliceReader } from './slices.js';
import { answerSliced } from './sliced.js';
import { OriginMetrics, negativeAt, renderOriginMetrics } from './metrics.js';
import { NegativeCache } from './negative.js';
import { OriginClient } from './client.js';
import { Fill, errorOf, statusOf, type FillHost } from './fill.js';
import { CLAIM_RETRIES, Claim, FillResult, FillTable } from './fill-table.js';

/** How often one request may find its fill gone without a value (no-store, died) before a 502. */
const MAX_ATTEMPTS = 3;
/** At most one failure log line per this many ms per thread; the others are counted in it. */
const LOG_EVERY_MS = 1000;

/** Arrived bytes between two wake-ups of the other threads' waiters (not per chunk, not polled). */
const PROGRESS_BATCH = 256 * 1024;
const CHANNEL = 'stripecache-origin-fills';

export interface ReadThroughOptions {
  config: Config;
  store: KvStore;
  /** The fill table shared by every thread (made by the supervisor with fillTableBytes()). */
  fills: SharedArrayBuffer;
  /** This thread's store owner id: recorded as a fill's owner, reset by the supervisor if it dies. */
  ownerId: number;
  /** 0-based thread index: this thread's block of read-through counters. */
  threadIndex: number;
  log: Logger;
}

/**
 * The read-through tier of one thread (the HTTP layer's MissHandler): a miss joins the fill in
 * flight for its key on this thread, or on another thread (through the shared fill table), or
 * starts one. Negative answers (404/410) are remembered for --negative-ttl in a table every
 * thread shares.
 */
export class ReadThrough implements MissHandler, FillHost, RemoteHost {
  readonly hitHeader = CacheStatus.hit;
  readonly maxValueSize: number;
  readonly defaultTtl: number;
  private readonly client: OriginClient;
  private readonly table: FillTable;
  private readonly local = new Map<string, Fill>();
  private readonly waits: RemoteWaits;
  private readonly negative: NegativeCache;
  private readonly attempts = new WeakMap<MissedRequest, number>();
  private readonly claimRetries = new WeakMap<MissedRequest, number>();
  private readonly read = new ReadResult();
  private readonly meta = new StoredMeta();
  private readonly selector = new GetSelector();
  private lastLog = 0;
  private suppressed = 0;
  private readonly channel = new BroadcastChannel(CHANNEL);
  /** --origin-slice: objects kept as slices (null: whole objects). */
  private readonly slices: SliceReader | null;
  private readonly metrics: OriginMetrics;

  constructor(private readonly opts: ReadThroughOptions) {
    const { config } = opts;
    this.maxValueSize = config.maxValueSize;
    this.defaultTtl = config.originTtl;
    this.client = new OriginClient(config.origin, config.originConnections, config.originTimeoutMs);
    this.table = new FillTable(opts.fills);
    this.metrics = new OriginMetrics(opts.fills, opts.threadIndex);
    this.negative = new NegativeCache(opts.fills, negativeAt(config.threads));
    this.slices =
      config.originSlice === 0
        ? null
        : new SliceReader(
            opts.store,
            this.client,
            opts.fills,
            opts.ownerId,
            config.originSlice,
            config.originTtl,
            config.originTimeoutMs,
            this.metrics,
            config.memory / 2,
            config.threads,
          );
    if (this.slices !== null) this.slices.onNotFound = (key) => this.rememberNotFound(key);
    this.waits = new RemoteWaits(this.table, opts.store, this.metrics, config.originTimeoutMs, this);
    this.channel.onmessage = (ev: MessageEvent) => this.waits.announced(ev.data as Announcement);
    // The channel must not keep a draining thread alive.
    (this.channel as unknown as { unref?: () => void }).unref?.();
  }

  miss(req: MissedRequest): void {
    if (req.gone) return;
    const name = Buffer.from(req.key.buffer, req.key.byteOffset, req.key.length).toString('latin1');
    if (this.knownMissing(req.key)) {
      this.error(req, HttpError.ORIGIN_NOT_FOUND, CacheStatus.negative);
      return;
    }
    if (this.slices !== null && req.key.length <= MAX_KEY_BYTES - SLICE_KEY_ROOM) {
      answerSliced(this.slices, req).catch((e: unknown) => {
        this.opts.log.error('sliced answer failed', { error: e instanceof Error ? e.message : String(e) });
        this.error(req, HttpError.ORIGIN_FAILED, CacheStatus.failed);
      });
      return;
    }
    const max = this.opts.config.originMaxWaiters;
    const fill = this.local.get(name);
    if (fill !== undefined) {
      if (fill.slot >= 0 ? !this.table.addWaiter(fill.slot, max) : fill.waiting >= max) {
        this.error(req, HttpError.ORIGIN_WAITERS, CacheStatus.waiters);
        return;
      }
      fill.add(req, false);
      this.metrics.coalesced(1);
      return;
    }
    const [a, b] = FillTable.tags(req.key);
    const t = this.table;
    switch (t.claim(a, b, this.opts.ownerId)) {
      case Claim.Joined:
        if (!t.addWaiter(t.slot, max)) {
          this.error(req, HttpError.ORIGIN_WAITERS, CacheStatus.waiters);
          return;
        }
        this.metrics.coalesced(1);
        this.waits.join(t.slot, t.seq, req);
        return;
      case Claim.Claimed:
        // A fill that finished between the store miss and the claim left its value: no refetch.
        if (this.fromStore(req, CacheStatus.collapsed)) {
          t.finish(t.slot, FillResult.Stored);
          return;
        }
        // Likewise a 404 learned by a fill that ended after the check at the top: no refetch.
        if (this.knownMissing(req.key)) {
          t.finish(t.slot, FillResult.NotFound);
          this.error(req, HttpError.ORIGIN_NOT_FOUND, CacheStatus.negative);
          return;
        }
        this.start(name, t.slot, req);
        return;
      case Claim.Busy:
        this.retryClaim(name, req);
        return;
      default:
        this.start(name, -1, req);
    }
  }

  /**
   * A claim in progress on another thread hides whether this key is in flight: look again in a
   * millisecond (the event loop goes on meanwhile). A claimer that never finishes (a thread
   * killed between two stores) is given up on after about a second: this request fetches.
   */
  private retryClaim(name: string, req: MissedRequest): void {
    const n = (this.claimRetries.get(req) ?? 0) + 1;
    if (n > CLAIM_RETRIES) {
      this.start(name, -1, req);
      return;
    }
    this.claimRetries.set(req, n);
    setTimeout(() => this.miss(req), 1);
  }

  private start(name: string, slot: number, req: MissedRequest): void {
    const fill = new Fill(req.key, slot, this.table.seq, this);
    this.local.set(name, fill);
    fill.add(req, true);
    this.client.fetch(this.client.pathOf(req.key), -1, -1, fill);
  }

  store(key: Uint8Array, value: Uint8Array, contentType: Uint8Array, ttl: number): Uint8Array | null {
    const { store } = this.opts;
    if (store.set(key, value, contentType, ttl) === SetOutcome.TooLarge) return null;
    const read = this.read;
    read.reset();
    read.wantBody = false;
    if (store.get(key, read) === ReadStatus.Miss) return null;
    return etagHex(read.etagHi, read.etagLo);
  }

  finished(fill: Fill, result: FillResult, detail: string): void {
    const name = Buffer.from(fill.key.buffer, fill.key.byteOffset, fill.key.length).toString('latin1');
    if (this.local.get(name) === fill) this.local.delete(name);
    // Remembered before the slot is freed: a request on another thread that no longer finds the
    // fill finds the negative answer instead of fetching again.
    if (result === FillResult.NotFound) this.rememberNotFound(fill.key);
    if (fill.slot >= 0) this.table.finish(fill.slot, result);
    this.metrics.release(fill.reserved);
    fill.reserved = 0;
    this.metrics.fetched(result, Date.now() - fill.startedAt, fill.arrived);
    if (result !== FillResult.Stored && result !== FillResult.NotStored && result !== FillResult.NotFound) {
      this.logFailure(name, result, detail);
    }
  }

  allocate(fill: Fill, length: number, keep: boolean): BodyMemory | FillResult {
    const { config, store } = this.opts;
    let body: BodyMemory;
    let msg: Announcement;
    const contentType = Buffer.from(fill.contentType).toString('latin1');
    const etag = fill.etag === null ? null : Buffer.from(fill.etag).toString('latin1');
    if (keep) {
      // The value's own place in the store, inside --memory; other threads reopen it by id.
      const res = store.reserve(fill.key, length, fill.storedType, fill.ttl);
      if (typeof res === 'number') return FillResult.NoMemory;
      body = new ReservedBody(res);
      msg = { slot: fill.slot, seq: fill.seq, id: res.id, total: length, contentType, etag, born: fill.born };
    } else {
      // Served, not stored: memory of its own, at most half of --memory for all such fills.
      if (!this.metrics.reserve(length, config.memory / 2, config.threads)) return FillResult.NoMemory;
      fill.reserved = length;
      const shared = new SharedBody(new SharedArrayBuffer(length));
      body = shared;
      msg = {
        slot: fill.slot,
        seq: fill.seq,
        sab: shared.sab,
        total: length,
        contentType,
        etag,
        born: fill.born,
      };
    }
    if (fill.slot >= 0) this.channel.postMessage(msg);
    return body;
  }

  closing(fill: Fill): void {
    if (fill.slot >= 0) this.table.closing(fill.slot);
  }

  progressed(fill: Fill): void {
    if (fill.slot < 0 || fill.body === null || fill.arrived - fill.told < PROGRESS_BATCH) return;
    fill.told = fill.arrived;
    this.table.progress(fill.slot, fill.arrived);
  }

  private knownMissing(key: Uint8Array): boolean {
    return this.opts.config.negativeTtl > 0 && this.negative.has(key, Date.now());
  }

  /** An origin 404/410 for `key`: every thread answers it for --negative-ttl. */
  rememberNotFound(key: Uint8Array): void {
    const ttl = this.opts.config.negativeTtl;
    if (ttl <= 0) return;
    const now = Date.now();
    this.negative.remember(key, now + ttl * 1000, now);
  }

  remoteDone(wait: RemoteWait, result: FillResult): void {
    const complete = result === FillResult.Stored || result === FillResult.NotStored;
    for (const { req } of wait.reqs) {
      if (req.gone) continue;
      if (result === FillResult.Stored && this.fromStore(req, CacheStatus.collapsed)) continue;
      if (complete && wait.body instanceof SharedBody) {
        // Not stored: the whole value is in the fill's own memory.
        answerWith(req, copyOut(req, wait), CacheStatus.collapsed);
        continue;
      }
      if (complete || result === FillResult.Died) {
        // Not stored and not seen, or its thread died: fetch again (coalesced).
        const n = (this.attempts.get(req) ?? 0) + 1;
        this.attempts.set(req, n);
        if (n < MAX_ATTEMPTS) this.miss(req);
        else this.error(req, HttpError.ORIGIN_FAILED, CacheStatus.failed);
        continue;
      }
      this.error(req, errorOf(result), statusOf(result));
    }
  }

  /** Answers from the store (the span only); false on a miss. */
  private fromStore(req: MissedRequest, status: Uint8Array): boolean {
    const read = this.read;
    const sel = this.selector;
    read.reset();
    read.wantBody = req.withBody;
    sel.clear();
    sel.range.kind = req.range.kind;
    sel.range.a = req.range.a;
    sel.range.b = req.range.b;
    read.select = sel;
    const got = this.opts.store.get(req.key, read);
    read.select = null;
    if (got === ReadStatus.Miss) return false;
    const meta = this.meta.decode(read.contentType, read.contentTypeLength);
    const value = {
      bytes: read.body,
      offset: got === ReadStatus.Partial ? read.bodyStart : 0,
      total: read.totalLength,
      contentType: Buffer.from(read.contentType.subarray(0, meta.typeLength)),
      etag:
        meta.etagEnd > meta.etagStart
          ? Buffer.from(read.contentType.subarray(meta.etagStart, meta.etagEnd))
          : etagHex(read.etagHi, read.etagLo),
      age: meta.age(Date.now()),
    };
    answerWith(req, value, status);
    return true;
  }

  error(req: MissedRequest, code: number, status: Uint8Array): void {
    req.answer((out, date) => writeError(out, date, req.conn, req.withBody, code, status));
  }

  private logFailure(name: string, result: FillResult, detail: string): void {
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) {
      this.suppressed++;
      return;
    }
    this.opts.log.warn('origin fetch failed', {
      key: name.length > 200 ? name.slice(0, 200) + '...' : name,
      result: FILL_RESULT_NAMES[result],
      detail,
      suppressed: this.suppressed,
    });
    this.lastLog = now;
    this.suppressed = 0;
  }

  writeStoredHead(
    out: Output,
    date: DateLine,
    conn: Conn,
    read: ReadResult,
    status: number,
    inm: Uint8Array | null,
  ): number {
    return writeStoredHead(out, date, conn, read, status, inm, this.meta);
  }

  metricsText(): string {
    return renderOriginMetrics(this.opts.fills, this.opts.config.threads);
  }

  close(): Promise<void> {
    this.channel.close();
    return this.client.close();
  }
}

const FILL_RESULT_NAMES: Record<number, string> = {
  [FillResult.Failed]: 'failed',
  [FillResult.Timeout]: 'timeout',
  [FillResult.TooLarge]: 'too-large',
  [FillResult.Died]: 'died',
  [FillResult.NoMemory]: 'no-memory',
};
