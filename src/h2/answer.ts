/** Response fields HTTP/2 forbids (RFC 9113 §8.2.2): connection management is the framing's job. */
const DROP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];
/** The field names the responder writes, so the common ones are matched, not lowercased. */
const KNOWN = [
  'Date',
  'Content-Type',
  'Content-Length',
  'ETag',
  'Accept-Ranges',
  'Content-Range',
  'Allow',
  'Retry-After',
  'Connection',
];

/**
 * One known field name: its bytes as the responder writes them, the lowercase name HTTP/2
 * sends, and the last value seen with its string (a Date, a Content-Type or an ETag repeats from
 * answer to answer, and comparing a few bytes is cheaper than making the string again).
 */
interface Field {
  readonly raw: Buffer;
  readonly name: string;
  readonly drop: boolean;
  last: Buffer;
  lastValue: string;
}

const BY_LENGTH: Field[][] = [];
for (const raw of KNOWN) {
  const name = raw.toLowerCase();
  const f: Field = {
    raw: Buffer.from(raw, 'latin1'),
    name,
    drop: DROP.includes(name),
    last: Buffer.alloc(64),
    lastValue: '',
  };
  (BY_LENGTH[raw.length] ??= []).push(f);
}

const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/**
 * Takes what the responder wrote for one request (an HTTP/1.1 response: status line, header
 * fields, blank line, body) as the write segments `Output.flush` hands it, and turns it into an
 * HTTP/2 answer: `:status` and the lowercase fields (without the connection-level ones) for
 * `stream.respond`, and the body as the very segments the HTTP/1.1 path would have written (no
 * copy: a large value stays the one Buffer the store read it into). The responder stays the one
 * place that decides statuses, fields and bodies for both protocols.
 *
 * It is the `Output.flush` sink: `write` collects, `cork`/`uncork` mean nothing here.
 */
export class Answer {
  /** Body segments of the last answer, in order, [0, bodyCount). */
  readonly body: Buffer[] = [];
  bodyCount = 0;
  bodyBytes = 0;
  status = 0;
  private readonly segs: Uint8Array[] = [];
  private nSegs = 0;
  /** Releases the pinned store values the body points into: call once the stream is done with them. */
  private done: (() => void) | null = null;

  write(chunk: Uint8Array, done?: () => void): boolean {
    this.segs[this.nSegs++] = chunk;
    if (done !== undefined) this.done = done;
    return true;
  }

  /** The pin release of the last answer, if its body holds pinned values (taken once). */
  takeDone(): (() => void) | null {
    const d = this.done;
    this.done = null;
    return d;
  }

  cork(): void {}

  uncork(): void {}

  /** Forgets the collected segments and the body views (call once they were handed on). */
  clear(): void {
    for (let i = 0; i < this.nSegs; i++) this.segs[i] = EMPTY;
    for (let i = 0; i < this.bodyCount; i++) this.body[i] = EMPTY;
    this.nSegs = 0;
    this.bodyCount = 0;
    this.bodyBytes = 0;
  }

  /**
   * Parses the collected response; returns its fields as a flat name, value list (`:status`
   * first) and leaves the body in `body`. Null when no complete head was written (a bug: the
   * caller resets the stream).
   */
  parse(): (string | number)[] | null {
    if (this.nSegs === 0) return null;
    let seg = toBuffer(this.segs[0]!);
    let first = 1;
    let fields = this.fields(seg);
    if (fields === null && this.nSegs > 1) {
      // A head split over segments (the arena ran out of room mid-head): join what there is.
      seg = Buffer.concat(this.segs.slice(0, this.nSegs));
      first = this.nSegs;
      fields = this.fields(seg);
    }
    if (fields === null) return null;
    const end = this.headEnd;
    this.bodyCount = 0;
    this.bodyBytes = 0;
    if (end < seg.length) this.push(seg.subarray(end));
    for (let s = first; s < this.nSegs; s++) this.push(toBuffer(this.segs[s]!));
    return fields;
  }

  /** Offset just past the head's blank line, set by `fields`. */
  private headEnd = 0;

  /** The status and fields of the head at the start of `seg`; null when it does not end there. */
  private fields(seg: Buffer): (string | number)[] | null {
    const n = seg.length;
    if (n < 16) return null;
    this.status = (seg[9]! - 0x30) * 100 + (seg[10]! - 0x30) * 10 + (seg[11]! - 0x30);
    const out: (string | number)[] = [':status', this.status];
    let i = 12;
    while (i < n && seg[i] !== 0x0a) i++;
    i++;
    // One pass per line: the colon, then the CR that ends it; an empty line ends the head.
    for (;;) {
      if (i + 1 >= n) return null;
      if (seg[i] === CR) {
        this.headEnd = i + 2;
        return out;
      }
      const start = i;
      while (i < n && seg[i] !== 0x3a) i++;
      const colon = i;
      let v = colon + 1;
      while (v < n && seg[v] === 0x20) v++;
      i = v;
      while (i < n && seg[i] !== CR) i++;
      if (i + 1 >= n) return null;
      const f = known(seg, start, colon - start);
      if (f === null) {
        out.push(seg.toString('latin1', start, colon).toLowerCase(), seg.toString('latin1', v, i));
      } else if (!f.drop) {
        out.push(f.name, valueOf(f, seg, v, i));
      }
      i += 2;
    }
  }

  private push(b: Buffer): void {
    if (b.length === 0) return;
    this.body[this.bodyCount++] = b;
    this.bodyBytes += b.length;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

function known(b: Buffer, start: number, len: number): Field | null {
  const list = BY_LENGTH[len];
  if (list === undefined) return null;
  for (const f of list) {
    const raw = f.raw;
    let i = 0;
    while (i < len && (b[start + i]! | 0x20) === (raw[i]! | 0x20)) i++;
    if (i === len) return f;
  }
  return null;
}

function valueOf(f: Field, b: Buffer, start: number, end: number): string {
  const len = end - start;
  const last = f.last;
  if (len === f.lastValue.length && len <= last.length) {
    let i = 0;
    while (i < len && b[start + i] === last[i]) i++;
    if (i === len) return f.lastValue;
  }
  const s = b.toString('latin1', start, end);
  if (len <= last.length) {
    b.copy(last, 0, start, end);
    f.lastValue = s;
  }
  return s;
}
