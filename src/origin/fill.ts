import type { IncomingHttpHeaders } from 'node:http';
import type { MissedRequest } from '../http/api.js';
import { HttpError } from '../base/errors.js';
import { CacheStatus, spanEnd, writeError, writeValue, type ValueSource } from './answer.js';
import { FetchFailure, type FetchSink } from './client.js';
import { parseCacheControl } from './cache-control.js';
import { FillResult } from './fill-table.js';
import { ReservedBody, type BodyMemory } from './body.js';
import { RangeFit, resolveRange, type ByteSpan, type RangeSpec } from '../http/range.js';
import { SetOutcome } from '../store/api.js';
import { encodeMeta, originAge, strongEtag } from './meta.js';

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
   * Memory for a body of `length` bytes, readable by the other threads' waiters: a store
   * reservation when the value is to be kept, else memory of its own; a FillResult when there is
   * no room.
   */
  allocate(fill: Fill, length: number, keep: boolean): BodyMemory | FillResult;
  /** More bytes arrived (the host tells other threads in batches). */
  progressed(fill: Fill): void;
  /** The body's memory is about to be published or freed: other threads stop reading it. */
  closing(fill: Fill): void;
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
export class Fill implements FetchSink {
  /** A body without Content-Length, grown here (then stored with a plain set). */
  private bytes: Uint8Array = new Uint8Array(0);
  /** A body of announced length: where it lands as it arrives. */
  body: BodyMemory | null = null;
  total = -1;
  arrived = 0;
  contentType: Uint8Array = DEFAULT_TYPE;
  /** What the entry's content type holds: the type and the metadata (src/origin/meta.ts). */
  storedType: Uint8Array = DEFAULT_TYPE;
  /** The origin's strong ETag, else ours once stored (between the quotes); null until known. */
  etag: Uint8Array | null = null;
  /** Unix seconds the origin generated the answer (for Age). */
  born = 0;
  keep = true;
  ttl = 0;
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
    this.born = Math.floor(Date.now() / 1000) - originAge(headers);
    this.etag = strongEtag(headers);
    this.storedType = encodeMeta(this.contentType, this.born, this.etag);
    if (length >= 0) {
      this.total = length;
      const body = this.host.allocate(this, length, this.keep);
      if (typeof body === 'number') {
        this.fail(body, `no memory for ${length} bytes`);
        return false;
      }
      this.body = body;
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
    const body = this.body;
    if (body !== null) {
      if (at + n > body.length) {
        this.fail(FillResult.Failed, 'origin sent more than its Content-Length');
        return;
      }
      body.write(chunk, at);
    } else if (at + n > this.bytes.length) {
      if (this.total >= 0 || at + n > this.host.maxValueSize) {
        this.fail(this.total >= 0 ? FillResult.Failed : FillResult.TooLarge, 'origin sent too much');
        return;
      }
      const grown = new Uint8Array(Math.min(this.host.maxValueSize, Math.max(2 * this.bytes.length, at + n)));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
    }
    if (body === null) this.bytes.set(chunk, at);
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
    let result: FillResult = FillResult.NotStored;
    const body = this.body;
    if (body instanceof ReservedBody) {
      // Everyone still waiting is answered from the reservation, then it becomes the value.
      this.stored = true;
      this.answerArrived();
      this.host.closing(this);
      const outcome = body.res.publish(this.total);
      if (outcome === SetOutcome.Created || outcome === SetOutcome.Replaced) result = FillResult.Stored;
    } else {
      if (body === null) this.bytes = this.bytes.subarray(0, this.total);
      if (this.keep && body === null) {
        const ours = this.host.store(this.key, this.bytes, this.storedType, this.ttl);
        if (ours !== null) result = FillResult.Stored;
        this.etag ??= ours;
      }
      this.stored = result === FillResult.Stored;
      this.answerArrived();
    }
    this.host.finished(this, result, '');
  }

  onFail(why: FetchFailure, detail: string): void {
    this.fail(why === FetchFailure.Timeout ? FillResult.Timeout : FillResult.Failed, detail);
  }

  /** The value was (or is about to be) stored: the first client's Cache-Status says so. */
  private stored = false;
  /** Arrived bytes last told to other threads. */
  told = 0;
  /** Bytes of the fill budget this fill holds (released when it ends). */
  reserved = 0;

  private fail(result: FillResult, detail: string): void {
    if (this.done) return;
    this.done = true;
    const code = errorOf(result);
    const status = statusOf(result);
    this.bytes = new Uint8Array(0);
    if (this.body instanceof ReservedBody) {
      this.host.closing(this);
      this.body.res.abort();
    }
    // The outcome is recorded (a 404 remembered, the slot freed) before anyone is answered: a
    // client that asks again the moment its answer arrives may land on another thread.
    this.host.finished(this, result, detail);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      w.req.answer((out, date) => writeError(out, date, w.req.conn, w.req.withBody, code, status));
    }
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
      : this.done && !this.stored
        ? CacheStatus.notStored
        : CacheStatus.stored;
    const value = this.valueFor(req.range, req.withBody);
    req.answer((out, date) => writeValue(out, date, req.conn, req.withBody, req.range, value, status));
  }

  /** The bytes a request's span needs (copied out of a reservation, a view otherwise). */
  private valueFor(range: RangeSpec, withBody: boolean): ValueSource {
    const span: ByteSpan = { bodyStart: 0, bodyLength: 0 };
    const fit = resolveRange(range, this.total, span);
    const start = fit === RangeFit.Partial ? span.bodyStart : 0;
    const length =
      !withBody || fit === RangeFit.Unsatisfiable
        ? 0
        : fit === RangeFit.Partial
          ? span.bodyLength
          : this.total;
    const bytes =
      this.body !== null ? this.body.read(start, length) : this.bytes.subarray(start, start + length);
    return {
      bytes,
      offset: start,
      total: this.total,
      contentType: this.contentType,
      etag: this.etag,
      age: Math.max(0, Math.floor(Date.now() / 1000) - this.born),
    };
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
