import { EMPTY } from '../../dist/base/bytes.js';
import {
  type PurgeProgress,
  ReadStatus,
  SetOutcome,
  type DeleteOutcome,
  type KvStore,
  type Precondition,
  type Reservation,
  type ReadResult,
  type StoreStats,
  type WriteResult,
} from '../../dist/store/api.js';

interface Entry {
  value: Buffer;
  type: Buffer;
  expires: number;
  hi: number;
  lo: number;
}

/** Test-only KvStore over a Map; like Store, it copies the span `out.select` chooses. */
export class FakeStore implements KvStore {
  private readonly map = new Map<string, Entry>();
  readonly counts = { hits: 0, misses: 0, sets: 0, deletes: 0 };
  constructor(
    readonly maxValueSize = 16 * 1024 * 1024,
    /** Values above this get SetOutcome.TooLarge (507). */
    readonly capacity = 64 * 1024 * 1024,
  ) {}

  private live(key: Uint8Array): Entry | undefined {
    const k = Buffer.from(key).toString('latin1');
    const e = this.map.get(k);
    if (e && e.expires !== 0 && e.expires <= Date.now()) {
      this.map.delete(k);
      return undefined;
    }
    return e;
  }

  set(
    key: Uint8Array,
    value: Uint8Array | readonly Uint8Array[],
    contentType: Uint8Array,
    ttl: number,
    pre?: Precondition,
    written?: WriteResult,
  ): SetOutcome {
    if (key.length === 0 || key.length > 1024) throw new RangeError('key');
    if (pre !== undefined && !this.check(key, pre)) return SetOutcome.PreconditionFailed;
    const v = Buffer.concat(value instanceof Uint8Array ? [value] : (value as Uint8Array[]));
    if (v.length > this.maxValueSize) throw new RangeError('value');
    if (v.length > this.capacity) return SetOutcome.TooLarge;
    const existed = this.live(key) !== undefined;
    const [hi, lo] = hash(v);
    this.map.set(Buffer.from(key).toString('latin1'), {
      value: v,
      type: Buffer.from(contentType),
      expires: ttl > 0 ? Date.now() + ttl * 1000 : 0,
      hi,
      lo,
    });
    this.counts.sets++;
    if (written !== undefined) {
      written.etagHi = hi;
      written.etagLo = lo;
    }
    return existed ? SetOutcome.Replaced : SetOutcome.Created;
  }

  get(key: Uint8Array, out: ReadResult): ReadStatus {
    const e = this.live(key);
    out.body = EMPTY;
    out.bodyInTarget = false;
    if (!e) {
      this.counts.misses++;
      out.status = ReadStatus.Miss;
      return out.status;
    }
    this.counts.hits++;
    out.totalLength = e.value.length;
    out.contentType.set(e.type);
    out.contentTypeLength = e.type.length;
    out.etagHi = e.hi;
    out.etagLo = e.lo;
    const len = e.value.length;
    let start = 0;
    let n = len;
    let status: ReadStatus = ReadStatus.Hit;
    if (out.select) {
      status = out.select.select(out);
      if (status === ReadStatus.NotModified || status === ReadStatus.RangeNotSatisfiable) {
        return (out.status = status);
      }
      if (status === ReadStatus.Partial) {
        start = out.bodyStart;
        n = out.bodyLength;
      }
    }
    out.bodyStart = start;
    out.bodyLength = n;
    out.status = status;
    if (!out.wantBody) return status;
    const src = e.value.subarray(start, start + n);
    if (out.target && out.target.length - out.targetOffset >= n) {
      out.target.set(src, out.targetOffset);
      out.bodyInTarget = true;
      out.body = out.wantBodyView ? out.target.subarray(out.targetOffset, out.targetOffset + n) : EMPTY;
    } else {
      out.body = Buffer.from(src);
    }
    return status;
  }

  check(key: Uint8Array, pre: Precondition): boolean {
    const e = this.live(key);
    return pre.holds(e !== undefined, e?.hi ?? 0, e?.lo ?? 0);
  }

  delete(key: Uint8Array, pre?: Precondition): DeleteOutcome {
    if (pre !== undefined && !this.check(key, pre)) return 'precondition-failed';
    const e = this.live(key);
    if (!e) return false;
    this.map.delete(Buffer.from(key).toString('latin1'));
    this.counts.deletes++;
    return true;
  }

  /** One stripe, purged in one step. */
  purgePrefix(
    prefix: Uint8Array,
    _stripe: number,
    _cursor: number,
    _budget: number,
    out: PurgeProgress,
  ): PurgeProgress {
    const p = Buffer.from(prefix).toString('latin1');
    let purged = 0;
    for (const k of [...this.map.keys()]) {
      if (k.startsWith(p) && this.live(Buffer.from(k, 'latin1'))) {
        this.map.delete(k);
        purged++;
      }
    }
    out.cursor = 0;
    out.stripes = 1;
    out.done = true;
    out.examined = this.map.size + purged;
    out.purged = purged;
    return out;
  }

  reserve(
    key: Uint8Array,
    length: number,
    contentType: Uint8Array,
    ttl: number,
  ): Reservation | typeof SetOutcome.TooLarge | typeof SetOutcome.Busy {
    if (length > this.maxValueSize) throw new RangeError('value');
    // `capacity` applies to what is stored: publish (a set) answers TooLarge
    return new FakeReservation(this, Buffer.from(key), Buffer.from(contentType), ttl, length);
  }

  openReservation(_id: number): Reservation | null {
    return null;
  }

  unpin(_pin: number): void {
    throw new Error('FakeStore never pins');
  }

  stats(): StoreStats {
    let bytes = 0;
    for (const e of this.map.values()) bytes += e.value.length;
    return {
      entries: this.map.size,
      bytesUsed: bytes,
      payloadBytes: bytes,
      memoryBudget: this.capacity,
      hits: this.counts.hits,
      misses: this.counts.misses,
      sets: this.counts.sets,
      deletes: this.counts.deletes,
      evictions: 0,
      expirations: 0,
    };
  }

  /** Raw access for assertions. */
  peek(key: string): Buffer | undefined {
    return this.map.get(key)?.value;
  }
}

/** Two 32-bit FNV-1a passes with different offsets: a stable 64-bit tag for tests. */
function hash(v: Uint8Array): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < v.length; i++) {
    a = Math.imul(a ^ v[i]!, 0x01000193) >>> 0;
    b = Math.imul(b ^ v[i]!, 0x01000193) >>> 0;
  }
  return [a >>> 0, b >>> 0];
}

/** A reservation over a private Buffer: publish is a set of its bytes. */
class FakeReservation implements Reservation {
  id = 1;
  lastRefusal: SetOutcome = SetOutcome.TooLarge;
  private buf: Buffer;
  constructor(
    private readonly store: FakeStore,
    private readonly key: Buffer,
    private readonly type: Buffer,
    private readonly ttl: number,
    length: number,
  ) {
    this.buf = Buffer.alloc(length);
  }

  get length(): number {
    return this.buf.length;
  }

  write(chunk: Uint8Array, offset: number): void {
    if (this.id === 0 || offset < 0 || offset + chunk.length > this.buf.length) throw new RangeError('write');
    this.buf.set(chunk, offset);
  }

  grow(n: number): boolean {
    const b = Buffer.alloc(n);
    this.buf.copy(b);
    this.buf = b;
    return true;
  }

  readInto(offset: number, length: number, target: Uint8Array, at: number): void {
    target.set(this.buf.subarray(offset, offset + length), at);
  }

  publish(finalLength: number, pre?: Precondition, written?: WriteResult): SetOutcome {
    if (this.id === 0) throw new Error('closed');
    this.id = 0;
    return this.store.set(this.key, this.buf.subarray(0, finalLength), this.type, this.ttl, pre, written);
  }

  abort(): void {
    this.id = 0;
  }
}
