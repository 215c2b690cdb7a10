import type { IncomingHttpHeaders } from 'node:http';
import type { MissedRequest } from '../http/api.js';
import { HttpError } from '../base/errors.js';
import { CacheStatus, spanEnd, writeError, writeValue, type ValueSource } from './answer.js';
import { FetchFailure, type FetchSink } from './client.js';
import { parseCacheControl } from './cache-control.js';
import { FillResult } from './fill-table.js';

/** One request waiting on this thread for a fill, and where the bytes it needs end. */
interface Waiter {
  req: MissedRequest;
  /** The request that started the fill (its Cache-Status says `stored`, the others `collapsed`). */
  first: boolean;
  /** End of the span it needs; -1 until the total length is known. */
  end: number;
}

/** What a fill needs from its thread's tier. */
export interface FillHost {
  readonly maxValueSize: number;
  readonly defaultTtl: number;
  /** Stores the whole value; returns its ETag as 16 hex digits, or null when it was not stored. */
  store(key: Uint8Array, value: Uint8Array, contentType: Uint8Array, ttl: number): Uint8Array | null;
  /** The fill ended (its slot in the shared table is to be finished with `result`). */
  finished(fill: Fill, result: FillResult, detail: string): void;
  /**
   * Memory for a body of `length` bytes (shared with the other threads' waiters when it can be),
   * or null when the fills in flight already hold their share of --memory.
   */
  allocate(fill: Fill, length: number): Uint8Array | null;
  /** More bytes arrived (the host tells other threads in batches). */
  progressed(fill: Fill): void;
}

const DEFAULT_TYPE = Buffer.from('application/octet-stream', 'latin1');
/** First buffer of an origin body without Content-Length; doubled as it grows. */
const CHUNKED_START = 256 * 1024;

/**
 * One origin fetch on the thread that claimed it: the body lands in a buffer of the announced
 * length as it arrives; a waiter on this thread whose span has arrived is answered at once;
 * the rest are answered when the body is complete (or has failed). The fetch belongs to the
 * tier, not to any client: a waiter that goes away is just skipped.
 */
export class Fill implements FetchSink, ValueSource {
  bytes: Uint8Array = new Uint8Array(0);
  readonly offset = 0;
  total = -1;
  arrived = 0;
  contentType: Uint8Array = DEFAULT_TYPE;
  etag: Uint8Array | null = null;
  readonly age = 0;
  private keep = true;
  private ttl = 0;
  private waiters: Waiter[] = [];
  /** Smallest `end` among waiters, to skip the scan on most chunks. */
  private minEnd = Infinity;
  readonly startedAt = Date.now();
  done = false;

  constructor(
    readonly key: Uint8Array,
    /** Slot in the shared fill table, or -1 when this fill is coalesced on this thread only. */
    readonly slot: number,
    /** The slot's sequence while this fill runs (names it to the other threads). */
    readonly seq: number,
    private readonly host: FillHost,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  add(req: MissedRequest, first: boolean): void {
    const w: Waiter = { req, first, end: this.total >= 0 ? spanEnd(req.range, this.total) : -1 };
    if (w.end >= 0 && w.end <= this.arrived) {
      this.answerValue(w);
      return;
    }
    this.waiters.push(w);
    if (w.end >= 0 && w.end < this.minEnd) this.minEnd = w.end;
  }

  onHead(status: number, headers: IncomingHttpHeaders): boolean {
    if (status === 404 || status === 410) {
      this.fail(FillResult.NotFound, `origin status ${status}`);
      return false;
    }
    if (status !== 200) {
      this.fail(FillResult.Failed, `origin status ${status}`);
      return false;
    }
    const cl = headers['content-length'];
    const length = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : -1;
    if (length > this.host.maxValueSize) {
      this.fail(FillResult.TooLarge, `origin length ${length}`);
      return false;
    }
    const fresh = parseCacheControl(headers['cache-control']);
    this.keep = fresh.store;
    this.ttl = fresh.ttl >= 0 ? fresh.ttl : this.host.defaultTtl;
    const ct = headers['content-type'];
    if (typeof ct === 'string' && ct.length > 0 && ct.length <= 255)
      this.contentType = Buffer.from(ct, 'latin1');
    if (length >= 0) {
      this.total = length;
      const bytes = this.host.allocate(this, length);
      if (bytes === null) {
        this.fail(FillResult.NoMemory, `no memory for ${length} bytes`);
        return false;
      }
      this.bytes = bytes;
      this.minEnd = Infinity;
      for (const w of this.waiters) {
        w.end = spanEnd(w.req.range, length);
        if (w.end < this.minEnd) this.minEnd = w.end;
      }
      this.answerArrived();
    } else {
      this.bytes = new Uint8Array(CHUNKED_START);
    }
    return true;
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    const at = this.arrived;
    const n = chunk.length;
    if (at + n > this.bytes.length) {
      if (this.total >= 0 || at + n > this.host.maxValueSize) {
        this.fail(this.total >= 0 ? FillResult.Failed : FillResult.TooLarge, 'origin sent too much');
        return;
      }
      const grown = new Uint8Array(Math.min(this.host.maxValueSize, Math.max(2 * this.bytes.length, at + n)));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    this.bytes.set(chunk, at);
    this.arrived = at + n;
    if (this.arrived >= this.minEnd) this.answerArrived();
    this.host.progressed(this);
  }

  onEnd(): void {
    if (this.done) return;
    if (this.total < 0) {
      this.total = this.arrived;
      for (const w of this.waiters) w.end = spanEnd(w.req.range, this.total);
    } else if (this.arrived !== this.total) {
      this.fail(FillResult.Failed, `short body: ${this.arrived} of ${this.total} bytes`);
      return;
    }
    this.done = true;
    const value = this.bytes.subarray(0, this.total);
    this.bytes = value;
    let result: FillResult = FillResult.NotStored;
    if (this.keep) {
      this.etag = this.host.store(this.key, value, this.contentType, this.ttl);
      if (this.etag !== null) result = FillResult.Stored;
    }
    this.minEnd = 0;
    this.answerArrived();
    this.host.finished(this, result, '');
  }

  onFail(why: FetchFailure, detail: string): void {
    this.fail(why === FetchFailure.Timeout ? FillResult.Timeout : FillResult.Failed, detail);
  }

  /** Bytes the other threads' waiters may read (announced), set by the host's `allocate`. */
  shared: SharedArrayBuffer | null = null;
  /** Arrived bytes last told to other threads. */
  told = 0;
  /** Bytes of the fill budget this fill holds (released when it ends). */
  reserved = 0;

  private fail(result: FillResult, detail: string): void {
    if (this.done) return;
    this.done = true;
    const code = errorOf(result);
    const status = statusOf(result);
    for (const w of this.waiters) {
      w.req.answer((out, date) => writeError(out, date, w.req.conn, w.req.withBody, code, status));
    }
    this.waiters = [];
    this.bytes = new Uint8Array(0);
    this.host.finished(this, result, detail);
  }

  /** Answers every waiter whose span has arrived. */
  private answerArrived(): void {
    const arrived = this.arrived;
    let keep = 0;
    let minEnd = Infinity;
    const ws = this.waiters;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.end >= 0 && (w.end <= arrived || this.done)) {
        this.answerValue(w);
      } else {
        ws[keep++] = w;
        if (w.end >= 0 && w.end < minEnd) minEnd = w.end;
      }
    }
    ws.length = keep;
    this.minEnd = minEnd;
  }

  private answerValue(w: Waiter): void {
    const req = w.req;
    if (req.gone) return;
    const status = !w.first
      ? CacheStatus.collapsed
      : this.done && this.etag === null
        ? CacheStatus.notStored
        : CacheStatus.stored;
    req.answer((out, date) => writeValue(out, date, req.conn, req.withBody, req.range, this, status));
  }
}

export function errorOf(result: FillResult): number {
  switch (result) {
    case FillResult.NotFound:
      return HttpError.ORIGIN_NOT_FOUND;
    case FillResult.Timeout:
      return HttpError.ORIGIN_TIMEOUT;
    case FillResult.TooLarge:
      return HttpError.ORIGIN_TOO_LARGE;
    case FillResult.NoMemory:
      return HttpError.ORIGIN_NO_MEMORY;
    default:
      return HttpError.ORIGIN_FAILED;
  }
}

export function statusOf(result: FillResult): Uint8Array {
  switch (result) {
    case FillResult.NotFound:
      return CacheStatus.notFound;
    case FillResult.Timeout:
      return CacheStatus.timeout;
    case FillResult.TooLarge:
      return CacheStatus.tooLarge;
    case FillResult.NoMemory:
      return CacheStatus.noMemory;
    default:
      return CacheStatus.failed;
  }
}
