import { RequestHead } from './request.js';
import type { ParserEngine } from './engine.js';
import { isHttp09Line } from './refusals.js';

/*
 * The parser's face to a connection: one HttpParser per connection holds its llhttp_t, its request
 * record and the bytes carried between reads; the thread's ParserEngine (engine.ts) runs llhttp.
 */

/** Request target limit (414 beyond it). */
export const MAX_TARGET_BYTES = 8 * 1024;
/** Header section limit, request line included (431 beyond it). */
export const MAX_HEAD_BYTES = 16 * 1024;

/** What the parser asks of its connection. Called synchronously from `feed`. */
export interface ParserHandler {
  /**
   * The head passed the protocol checks. Route it and decide about the body: return 0 to go on
   * (the body, if any, is read), or an HttpError code to answer now and close without reading it.
   */
  onHead(head: RequestHead): number;
  /** A whole request. Return Next to go on, Stop to stop reading (close), Yield to stop for now. */
  onRequest(head: RequestHead): number;
  /** Malformed or refused: answer `code` and close. */
  onError(code: number, head: RequestHead): void;
}

export const Next = 0;
export const Stop = 1;
/** Output is over its budget: keep the unparsed rest (`HttpParser.pending`) for after the drain. */
export const Yield = 2;

/** Whether src[from, end) holds the end of a head: a LF followed by LF or CR LF. */
function hasBlankLine(src: Uint8Array, from: number, end: number): boolean {
  for (let i = src.indexOf(0x0a, from); i !== -1 && i < end - 1; i = src.indexOf(0x0a, i + 1)) {
    const next = src[i + 1];
    if (next === 0x0a || (next === 0x0d && i + 2 < end && src[i + 2] === 0x0a)) return true;
  }
  return false;
}

/** One per connection: its llhttp_t, its request record and the bytes carried between chunks. */
export class HttpParser {
  readonly head = new RequestHead();
  readonly ptr: number;
  /** An incomplete head (carry[0, carryLen)), parsed again once it can be complete. */
  carry: Buffer | null = null;
  private carryLen = 0;
  /** Unparsed input left by a Yield, fed again once the output drained. */
  pending: Uint8Array | null = null;
  /** Date.now() when the current incomplete head began; 0 when none (header timeout). */
  headSince = 0;

  constructor(
    private readonly engine: ParserEngine,
    readonly handler: ParserHandler,
  ) {
    this.ptr = engine.alloc();
  }

  /**
   * Parses one socket chunk. A chunk is kept by reference (body views and a yielded rest point
   * into it) unless `transient` says the caller reuses its memory once this returns: then what
   * outlives the call is copied first.
   */
  feed(chunk: Uint8Array, transient = false): void {
    if (this.pending !== null) {
      // Still waiting for a drain: keep order by queueing behind the unparsed rest.
      this.pending = Buffer.concat([this.pending, chunk]);
      return;
    }
    if (this.carry === null) {
      this.engine.run(this, chunk);
      if (transient) this.detach(chunk);
      return;
    }
    const from = this.carryLen;
    this.keep(chunk, 0, chunk.length);
    const carry = this.carry;
    const len = this.carryLen;
    if (
      len <= MAX_HEAD_BYTES &&
      !hasBlankLine(carry, from > 2 ? from - 2 : 0, len) &&
      !(chunk.includes(0x0a) && isHttp09Line(carry, 0, len))
    ) {
      return;
    }
    // The buffer goes to the parser for good: body views may point into it.
    this.carry = null;
    this.carryLen = 0;
    this.engine.run(this, carry.subarray(0, len));
  }

  /**
   * Copies what still points into `src` once it was parsed: the yielded rest, and for a body that
   * goes on in later chunks, its head and the body views so far. The common request, answered
   * within its chunk, copies nothing.
   */
  private detach(src: Uint8Array): void {
    const head = this.head;
    const pending = this.pending;
    const pendingHere = pending !== null && pending.buffer === src.buffer;
    const headHere = head.inBody && head.src === src;
    let bodyHere = false;
    if (head.inBody) for (const part of head.body) if (part.buffer === src.buffer) bodyHere = true;
    if (!pendingHere && !headHere && !bodyHere) return;
    const copy = Buffer.from(src);
    const rebase = (v: Uint8Array): Uint8Array => {
      const at = v.byteOffset - src.byteOffset;
      return copy.subarray(at, at + v.length);
    };
    if (pendingHere) this.pending = rebase(pending);
    if (headHere) head.src = copy;
    if (bodyHere) {
      const body = head.body;
      for (let i = 0; i < body.length; i++) if (body[i]!.buffer === src.buffer) body[i] = rebase(body[i]!);
    }
  }

  /** Appends src[start, end) to the carried head. */
  keep(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let carry = this.carry;
    if (carry === null || carry.length - this.carryLen < n) {
      const grown = Buffer.allocUnsafe(Math.max(1024, 2 * (this.carryLen + n)));
      if (carry !== null) carry.copy(grown, 0, 0, this.carryLen);
      carry = grown;
      this.carry = grown;
    }
    carry.set(src.subarray(start, end), this.carryLen);
    this.carryLen += n;
  }

  /** Parses what a Yield left; returns false when nothing was pending. */
  resumePending(): boolean {
    const p = this.pending;
    if (p === null) return false;
    this.pending = null;
    this.engine.run(this, p);
    return true;
  }

  /** True while a request has begun and is not yet answered (for shutdown). */
  get busy(): boolean {
    return this.carry !== null || this.pending !== null || this.head.inBody;
  }

  destroy(): void {
    this.engine.exp.llhttp_free(this.ptr);
    this.carry = null;
    this.carryLen = 0;
    this.pending = null;
    this.head.release();
  }
}
