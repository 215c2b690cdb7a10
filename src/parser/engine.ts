import { HttpError } from '../base/errors.js';
import { Errno, TYPE_REQUEST, instantiate, type LlhttpExports } from './llhttp.js';
import {
  FIELD_CONNECTION,
  FIELD_CONTENT_LENGTH,
  FIELD_CONTENT_TYPE,
  FIELD_EXPECT,
  FIELD_HOST,
  FIELD_IF_MATCH,
  FIELD_IF_NONE_MATCH,
  FIELD_OTHER,
  FIELD_RANGE,
  FIELD_TRANSFER_ENCODING,
  MAX_IF_MATCH_FIELDS,
  RequestHead,
  classifyField,
} from './request.js';
import { TOKEN_CLOSE, listHasToken } from './request.js';
import {
  HttpParser,
  MAX_HEAD_BYTES,
  MAX_TARGET_BYTES,
  Next,
  Stop,
  Yield,
  type ParserHandler,
} from './parser.js';
import { checkHead, errorForErrno, isHttp09Line } from './refusals.js';
import { EMPTY } from '../base/bytes.js';

/** Stands in for the current head between runs, so that `ParserEngine.head` keeps one type. */
const IDLE_HEAD = new RequestHead();

/**
 * One llhttp wasm instance per thread, shared by all the thread's connections. llhttp_execute
 * runs synchronously, so the callbacks find the connection in `cur` (set in try/finally) and the
 * bytes being parsed in `src`, a copy of which sits in the input region of wasm memory.
 */
export class ParserEngine {
  readonly exp: LlhttpExports;
  private mem: Uint8Array;
  private mem32: Uint32Array;
  /** llhttp_t fields are read straight from memory once a self-check proved the layout. */
  private directFields = false;
  private inputPtr = 0;
  private inputCap = 0;
  private cur: HttpParser | null = null;
  /** `cur.head`, one load less in every callback. */
  private head: RequestHead = IDLE_HEAD;
  private src: Uint8Array = new Uint8Array(0);
  /** HttpError code chosen by a callback that returned -1. */
  private error = 0;

  constructor(readonly maxBodyBytes: number) {
    this.exp = instantiate({
      wasm_on_message_begin: () => this.onMessageBegin(),
      wasm_on_url: (_p, at, len) => this.onUrl(at, len),
      wasm_on_status: () => 0,
      wasm_on_header_field: (_p, at, len) => this.onHeaderField(at, len),
      wasm_on_header_value: (_p, at, len) => this.onHeaderValue(at, len),
      wasm_on_headers_complete: (p, _status, _upgrade, keepAlive) => this.onHeadersComplete(p, keepAlive),
      wasm_on_body: (_p, at, len) => this.onBody(at, len),
      wasm_on_message_complete: () => this.onMessageComplete(),
    });
    this.mem = new Uint8Array(this.exp.memory.buffer);
    this.mem32 = new Uint32Array(this.exp.memory.buffer);
    this.reserve(64 * 1024);
    this.directFields = this.checkLayout();
  }

  /**
   * llhttp_t (llhttp.h, wasm32): error is the i32 at byte 12, error_pos the u32 at byte 20;
   * method, http_major and http_minor the bytes at 41..43. Reading them (and resuming from a
   * pause by clearing error, all llhttp_resume does) saves a wasm call each; the exports stay the
   * reference, and a build with another layout falls back to them.
   */
  private checkLayout(): boolean {
    const probe = Buffer.from('PUT /x HTTP/1.0\r\nContent-Length: 1\r\n\r\nz', 'latin1');
    let ok = false;
    const handler: ParserHandler = {
      onHead: () => {
        const exp = this.exp;
        const p = parser.ptr;
        const m = this.view();
        ok =
          m[p + 41] === exp.llhttp_get_method(p) &&
          m[p + 42] === exp.llhttp_get_http_major(p) &&
          m[p + 43] === exp.llhttp_get_http_minor(p) &&
          exp.llhttp_get_method(p) === 4 &&
          exp.llhttp_get_http_minor(p) === 0;
        return 0;
      },
      onRequest: () => {
        ok &&=
          this.mem32[(parser.ptr + 20) >>> 2] === this.exp.llhttp_get_error_pos(parser.ptr) &&
          this.mem32[(parser.ptr + 12) >>> 2] === Errno.PAUSED;
        return Next;
      },
      onError: () => {
        ok = false;
      },
    };
    const parser = new HttpParser(this, handler);
    this.run(parser, probe);
    parser.destroy();
    return ok;
  }

  /** The memory view, renewed after the memory grew (growth detaches the old buffer). */
  private view(): Uint8Array {
    if (this.mem.byteLength === 0) {
      this.mem = new Uint8Array(this.exp.memory.buffer);
      this.mem32 = new Uint32Array(this.exp.memory.buffer);
    }
    return this.mem;
  }

  private reserve(n: number): void {
    if (n <= this.inputCap) return;
    if (this.inputPtr !== 0) this.exp.free(this.inputPtr);
    const cap = Math.max(n, this.inputCap * 2);
    this.inputPtr = this.exp.malloc(cap);
    if (this.inputPtr === 0) throw new Error('llhttp wasm: out of memory');
    this.inputCap = cap;
    // malloc may have grown the memory, which detaches the old view.
    this.mem = new Uint8Array(this.exp.memory.buffer);
    this.mem32 = new Uint32Array(this.exp.memory.buffer);
  }

  alloc(): number {
    const ptr = this.exp.llhttp_alloc(TYPE_REQUEST);
    this.view();
    return ptr;
  }

  /** Parses `src` for `parser`, calling its handler for each request. */
  run(parser: HttpParser, src: Uint8Array): void {
    const exp = this.exp;
    const len = src.length;
    if (len > this.inputCap) this.reserve(len);
    let mem = this.mem;
    if (mem.byteLength === 0) mem = this.view();
    mem.set(src, this.inputPtr);
    const base = this.inputPtr;
    const ptr = parser.ptr;
    const head = parser.head;
    const handler = parser.handler;
    this.cur = parser;
    this.head = head;
    this.src = src;
    this.error = 0;
    head.msgStart = 0;
    let off = 0;
    try {
      for (;;) {
        const ret = exp.llhttp_execute(ptr, base + off, len - off);
        if (ret === Errno.OK) {
          if (head.inHead) this.partialHead(parser, src, len);
          return;
        }
        if (ret === Errno.PAUSED) {
          // Paused by onMessageComplete: one whole request ends at the pause position.
          const direct = this.directFields;
          const end = (direct ? this.mem32[(ptr + 20) >>> 2]! : exp.llhttp_get_error_pos(ptr)) - base;
          parser.headSince = 0;
          head.inBody = false;
          const next = handler.onRequest(head);
          head.release();
          if (direct) this.mem32[(ptr + 12) >>> 2] = Errno.OK;
          else exp.llhttp_resume(ptr);
          if (next === Stop) return;
          if (end >= len) return;
          if (next === Yield) {
            parser.pending = src.subarray(end);
            return;
          }
          off = end;
          head.msgStart = end;
          continue;
        }
        if (ret === Errno.PAUSED_UPGRADE || ret === Errno.PAUSED_H2_UPGRADE) {
          // Upgrade is not offered; llhttp will not parse HTTP/1.1 after it, so the answer
          // already written is the last one.
          handler.onError(HttpError.NONE, head);
          return;
        }
        handler.onError(this.error !== 0 ? this.error : this.parseError(ret, ptr, src, head), head);
        return;
      }
    } finally {
      this.cur = null;
      this.head = IDLE_HEAD;
      this.src = EMPTY;
    }
  }

  /** Names what llhttp refused, looking at the byte it stopped on where the errno is too coarse. */
  private parseError(errno: number, ptr: number, src: Uint8Array, head: RequestHead): number {
    const pos = this.exp.llhttp_get_error_pos(ptr) - this.inputPtr;
    if (pos >= 0 && pos < src.length && src[pos] === 0x0a && (pos === 0 || src[pos - 1] !== 0x0d)) {
      return HttpError.BARE_LF;
    }
    if (errno === Errno.INVALID_VERSION) {
      // llhttp reports a request line ending in a bare LF as a bad version.
      const lf = src.indexOf(0x0a, head.msgStart);
      if (lf > 0 && src[lf - 1] !== 0x0d) return HttpError.BARE_LF;
      // 505 is for a readable line naming another version; a line of more than three
      // space-separated parts (`GET / HTTP/1.1 extra`) cannot be read at all: 400.
      if (spacesInLine(src, head.msgStart, lf < 0 ? src.length : lf) > 2) return HttpError.MALFORMED;
    }
    // In a chunked trailer llhttp refuses framing fields with the errnos it uses for the head;
    // naming the head's conflict there would send the client looking in the wrong place.
    if (head.inBody && isFramingErrno(errno)) return HttpError.BAD_TRAILER;
    if (errno === Errno.INVALID_TRANSFER_ENCODING && head.clCount !== 0) {
      return HttpError.CONTENT_LENGTH_CONFLICT;
    }
    if (errno === Errno.UNEXPECTED_CONTENT_LENGTH || errno === Errno.INVALID_CONTENT_LENGTH) {
      if (head.teCount !== 0) return HttpError.CONTENT_LENGTH_CONFLICT;
      if (head.clCount > 1) return HttpError.DUPLICATE_CONTENT_LENGTH;
    }
    return errorForErrno(errno);
  }

  /**
   * The data ended inside a request head. llhttp would resume mid-head, but then header spans
   * would straddle two buffers; instead the head's bytes are kept and parsed again, whole, once
   * the blank line that ends a head has arrived (or the limit is passed): a head trickled in
   * byte by byte costs one copy per byte and one parse, not a parse per byte.
   */
  private partialHead(parser: HttpParser, src: Uint8Array, len: number): void {
    const head = parser.head;
    head.inHead = false;
    this.exp.llhttp_reset(parser.ptr);
    if (len - head.msgStart > MAX_HEAD_BYTES) {
      parser.handler.onError(HttpError.HEADERS_TOO_LARGE, head);
      return;
    }
    if (isHttp09Line(src, head.msgStart, len)) {
      parser.handler.onError(HttpError.VERSION, head);
      return;
    }
    parser.keep(src, head.msgStart, len);
    if (parser.headSince === 0) parser.headSince = Date.now();
  }

  private onMessageBegin(): number {
    const head = this.head;
    head.begin();
    head.src = this.src;
    return 0;
  }

  private onUrl(at: number, len: number): number {
    const head = this.head;
    if (head.urlLen === 0) head.urlStart = at - this.inputPtr;
    head.urlLen += len;
    if (head.urlLen > MAX_TARGET_BYTES) return this.fail(HttpError.URI_TOO_LONG);
    return 0;
  }

  private onHeaderField(at: number, len: number): number {
    const head = this.head;
    if (head.inBody) return this.onTrailer(len);
    const start = at - this.inputPtr;
    if (start + len - head.msgStart > MAX_HEAD_BYTES) return this.fail(HttpError.HEADERS_TOO_LARGE);
    const field = classifyField(this.src, start, len);
    head.pendingField = field;
    switch (field) {
      case FIELD_HOST:
        head.hostCount++;
        break;
      case FIELD_CONTENT_LENGTH:
        head.clCount++;
        break;
      case FIELD_TRANSFER_ENCODING:
        head.teCount++;
        break;
      case FIELD_CONTENT_TYPE:
        head.ctCount++;
        break;
      case FIELD_IF_NONE_MATCH:
        head.inmCount++;
        break;
      case FIELD_RANGE:
        head.rangeCount++;
        break;
      case FIELD_IF_MATCH:
        // an empty value gets no value callback: the span must not keep an earlier request's
        if (head.imCount < MAX_IF_MATCH_FIELDS) head.imSpans[head.imCount * 2 + 1] = 0;
        head.imCount++;
        break;
    }
    return 0;
  }

  private onHeaderValue(at: number, len: number): number {
    const head = this.head;
    if (head.inBody) return this.onTrailer(len);
    const start = at - this.inputPtr;
    if (start + len - head.msgStart > MAX_HEAD_BYTES) return this.fail(HttpError.HEADERS_TOO_LARGE);
    const field = head.pendingField;
    // Most headers are not read: no trimming for them.
    if (field === FIELD_OTHER) return 0;
    const src = this.src;
    // llhttp skips leading whitespace; trailing OWS is not part of the value.
    while (len > 0 && (src[start + len - 1] === 0x20 || src[start + len - 1] === 0x09)) len--;
    switch (field) {
      case FIELD_CONNECTION:
        // llhttp keeps an HTTP/1.0 connection that lists both keep-alive and close.
        if (listHasToken(src, start, len, TOKEN_CLOSE)) head.connectionClose = true;
        break;
      case FIELD_CONTENT_LENGTH: {
        let n = 0;
        for (let i = 0; i < len; i++) n = n * 10 + (src[start + i]! - 0x30);
        head.contentLength = n;
        break;
      }
      case FIELD_TRANSFER_ENCODING:
        head.teStart = start;
        head.teLen = len;
        break;
      case FIELD_CONTENT_TYPE:
        head.ctStart = start;
        head.ctLen = len;
        break;
      case FIELD_EXPECT:
        head.expectStart = start;
        head.expectLen = len;
        break;
      case FIELD_IF_NONE_MATCH:
        if (head.inmCount === 1) {
          head.inmStart = start;
          head.inmLen = len;
        }
        break;
      case FIELD_RANGE:
        head.rangeStart = start;
        head.rangeLen = len;
        break;
      case FIELD_IF_MATCH: {
        const k = head.imCount - 1;
        if (k < MAX_IF_MATCH_FIELDS) {
          head.imSpans[k * 2] = start;
          head.imSpans[k * 2 + 1] = len;
        }
        break;
      }
    }
    return 0;
  }

  /**
   * A trailer field's name or value (llhttp reports trailers through the header callbacks). It is
   * not a head field: it must not set the head's Content-Type, lengths or counts (its offsets may
   * even lie in another buffer than the head's), and the body before it is not head bytes, so the
   * trailer section is limited on its own. Its content is discarded (RFC 9110 §6.5.1).
   */
  private onTrailer(len: number): number {
    const head = this.head;
    head.trailerBytes += len;
    return head.trailerBytes > MAX_HEAD_BYTES ? this.fail(HttpError.HEADERS_TOO_LARGE) : 0;
  }

  private onHeadersComplete(p: number, keepAlive: number): number {
    const parser = this.cur!;
    const head = parser.head;
    head.inHead = false;
    // llhttp_should_keep_alive at this point (Connection header and version): passed in.
    head.keepAlive = keepAlive === 1 && !head.connectionClose;
    if (this.directFields) {
      const m = this.mem;
      head.method = m[p + 41]!;
      head.major = m[p + 42]!;
      head.minor = m[p + 43]!;
    } else {
      const exp = this.exp;
      head.method = exp.llhttp_get_method(p);
      head.major = exp.llhttp_get_http_major(p);
      head.minor = exp.llhttp_get_http_minor(p);
    }
    const code = checkHead(head);
    if (code !== 0) return this.fail(code);
    head.chunked = head.teCount !== 0;
    head.inBody = true;
    // The head is complete: --header-timeout is done with; a body is bounded by --idle-timeout.
    parser.headSince = 0;
    const refusal = parser.handler.onHead(head);
    if (refusal !== 0) return this.fail(refusal);
    return 0;
  }

  private onBody(at: number, len: number): number {
    const head = this.head;
    head.bodyLength += len;
    if (head.discardBody) return 0;
    if (head.bodyLength > this.maxBodyBytes) return this.fail(HttpError.PAYLOAD_TOO_LARGE);
    const start = at - this.inputPtr;
    const view = this.src.subarray(start, start + len);
    if (head.sink !== null) head.sink.write(view, head.bodyLength - len);
    else head.body.push(view);
    return 0;
  }

  private onMessageComplete(): number {
    return Errno.PAUSED;
  }

  private fail(code: number): number {
    this.error = code;
    return -1;
  }
}

/** Count of SP bytes in src[from, end): a request line has two. */
function spacesInLine(src: Uint8Array, from: number, end: number): number {
  let n = 0;
  for (let i = from; i < end; i++) if (src[i] === 0x20) n++;
  return n;
}

function isFramingErrno(errno: number): boolean {
  return (
    errno === Errno.UNEXPECTED_CONTENT_LENGTH ||
    errno === Errno.INVALID_CONTENT_LENGTH ||
    errno === Errno.INVALID_TRANSFER_ENCODING
  );
}
