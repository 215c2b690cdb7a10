import { EMPTY, ascii } from '../base/bytes.js';

/**
 * One reusable record per connection: what the parser saw of the current request, as offsets
 * into `src` (the buffer the head was parsed from). Nothing here is a string.
 */
export class RequestHead {
  /** The buffer that every offset below refers to (the socket chunk, or head carry + chunk). */
  src: Uint8Array = EMPTY;
  method = 0;
  major = 0;
  minor = 0;
  urlStart = 0;
  urlLen = 0;
  /** Offset in `src` where this message began; the head-size limit is measured from here. */
  msgStart = 0;
  inHead = false;
  /** Head complete, message not yet (body being read). */
  inBody = false;

  hostCount = 0;
  clCount = 0;
  teCount = 0;
  teStart = 0;
  teLen = 0;
  ctCount = 0;
  ctStart = 0;
  ctLen = 0;
  expectStart = 0;
  expectLen = 0;
  inmCount = 0;
  inmStart = 0;
  inmLen = 0;
  rangeCount = 0;
  rangeStart = 0;
  rangeLen = 0;
  /** Declared Content-Length (-1 when absent). */
  contentLength = -1;
  chunked = false;
  keepAlive = true;

  /** Which header the next value belongs to (a FIELD_* constant). */
  pendingField = 0;

  // ---- set by the router when the head completes ----
  route = 0;
  /** An HttpError code decided at head time (answered when the message completes), 0 for none. */
  refusal = 0;
  keyStart = 0;
  keyLen = 0;
  keyEscaped = false;
  ttl = 0;
  /** Body bytes are counted but not kept (refused request whose body is drained). */
  discardBody = false;

  /**
   * Where the body goes instead of `body` views, when the handler set one at head time (an upload
   * written straight into store memory). Aborted if the request ends before it is answered.
   */
  sink: BodySink | null = null;
  /** Views of the socket chunks holding the body, in order; valid while the request is handled. */
  readonly body: Uint8Array[] = [];
  bodyLength = 0;

  begin(): void {
    this.inHead = true;
    this.inBody = false;
    this.urlStart = 0;
    this.urlLen = 0;
    this.hostCount = 0;
    this.clCount = 0;
    this.teCount = 0;
    this.teLen = 0;
    this.ctCount = 0;
    this.ctLen = 0;
    this.expectLen = 0;
    this.inmCount = 0;
    this.inmLen = 0;
    this.rangeCount = 0;
    this.rangeLen = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.keepAlive = true;
    this.pendingField = 0;
    this.route = 0;
    this.refusal = 0;
    this.keyStart = 0;
    this.keyLen = 0;
    this.keyEscaped = false;
    this.ttl = 0;
    this.discardBody = false;
    if (this.sink !== null) this.dropSink();
    if (this.body.length !== 0) this.body.length = 0;
    this.bodyLength = 0;
  }

  /** Aborts a sink the request never handed back (connection closed, timed out, refused). */
  dropSink(): void {
    const sink = this.sink;
    this.sink = null;
    sink?.abort();
  }

  /** Drops references to socket chunks (and an unclaimed sink) once the request is answered. */
  release(): void {
    if (this.sink !== null) this.dropSink();
    // Setting an array's length is not free; most requests have no body views.
    if (this.body.length !== 0) this.body.length = 0;
  }
}

/** A body's destination other than views (`RequestHead.sink`): bytes arrive in order. */
export interface BodySink {
  /** `chunk` is valid only during the call; `offset` is its position in the body. */
  write(chunk: Uint8Array, offset: number): void;
  /** The request ended before the handler took the sink back: free what it holds. */
  abort(): void;
}

export const FIELD_OTHER = 0;
export const FIELD_HOST = 1;
export const FIELD_CONTENT_LENGTH = 2;
export const FIELD_TRANSFER_ENCODING = 3;
export const FIELD_CONTENT_TYPE = 4;
export const FIELD_EXPECT = 5;
export const FIELD_IF_NONE_MATCH = 6;
export const FIELD_RANGE = 7;

const NAMES: readonly [number, Uint8Array][] = [
  [FIELD_HOST, ascii('host')],
  [FIELD_CONTENT_LENGTH, ascii('content-length')],
  [FIELD_TRANSFER_ENCODING, ascii('transfer-encoding')],
  [FIELD_CONTENT_TYPE, ascii('content-type')],
  [FIELD_EXPECT, ascii('expect')],
  [FIELD_IF_NONE_MATCH, ascii('if-none-match')],
  [FIELD_RANGE, ascii('range')],
];

/** Names by length: every name this server reads has a distinct length except none (checked). */
const BY_LENGTH: (readonly [number, Uint8Array] | undefined)[] = [];
for (const entry of NAMES) {
  if (BY_LENGTH[entry[1].length]) throw new Error('two header names of one length');
  BY_LENGTH[entry[1].length] = entry;
}

/**
 * Classifies a header name without decoding it. `| 0x20` lowercases letters and leaves '-'
 * unchanged, the only other byte in the names looked for.
 */
export function classifyField(src: Uint8Array, start: number, len: number): number {
  const entry = BY_LENGTH[len];
  if (entry === undefined) return FIELD_OTHER;
  const name = entry[1];
  for (let i = 0; i < len; i++) {
    if ((src[start + i]! | 0x20) !== name[i]) return FIELD_OTHER;
  }
  return entry[0];
}

/** Case-insensitive comparison of `src[start, start+len)` with a lowercase ASCII token. */
export function equalsToken(src: Uint8Array, start: number, len: number, token: Uint8Array): boolean {
  if (len !== token.length) return false;
  for (let i = 0; i < len; i++) {
    if ((src[start + i]! | 0x20) !== token[i]) return false;
  }
  return true;
}

export const TOKEN_CHUNKED = ascii('chunked');
export const TOKEN_100_CONTINUE = ascii('100-continue');
