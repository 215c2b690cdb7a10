/**
 * Uploads straight into store memory: a PUT/POST whose head declares a Content-Length of at
 * least `STREAM_MIN` bytes reserves the entry at head time (507 or 503 before a byte of body is
 * read), each body chunk is copied from the read buffer into the reservation as it arrives, and
 * the answer publishes it. A connection that closes, times out or fails before the answer aborts
 * it (`RequestHead.sink`), and the key's old value was readable and intact all along.
 *
 * A chunked body (its size unknown at head time) reserves `CHUNKED_STEP` bytes and grows the
 * reservation by doubling as bytes arrive (each step copies what arrived so far once); the final
 * publish trims it to the exact length (one more copy). A step the store cannot hold turns the
 * request into a 507 (or 503) whose remaining body is drained, not kept.
 *
 * Declared bodies under `STREAM_MIN` are gathered as views and stored by one `set` (one stripe
 * lock instead of two): they are bounded by the connection's read buffers.
 */
import type { BodySink, RequestHead } from '../parser/request.js';
import {
  SetOutcome,
  type KvStore,
  type Precondition,
  type Reservation,
  type WriteResult,
} from '../store/api.js';
import { HttpError } from '../base/errors.js';

/** Declared body length from which an upload goes into a reservation. */
export const STREAM_MIN = 64 * 1024;
/** First reservation of a chunked body. */
export const CHUNKED_STEP = 256 * 1024;

/** The sink a head carries while its body streams into `reservation`. */
export class UploadSink implements BodySink {
  constructor(
    readonly reservation: Reservation,
    private readonly head: RequestHead,
    private readonly maxValueSize: number,
  ) {}

  write(chunk: Uint8Array, offset: number): void {
    const r = this.reservation;
    const end = offset + chunk.length;
    if (end > r.length) {
      // chunked: the next step (the parser already refused a body over --max-value-size)
      const next = Math.min(this.maxValueSize, Math.max(end, r.length * 2));
      if (end > next || !r.grow(next)) {
        const head = this.head;
        head.refusal = r.lastRefusal === SetOutcome.Busy ? HttpError.STORE_BUSY : HttpError.VALUE_TOO_LARGE;
        head.discardBody = true;
        head.dropSink();
        return;
      }
    }
    r.write(chunk, offset);
  }

  abort(): void {
    this.reservation.abort();
  }
}

/**
 * At head time: reserves the value for a declared-length upload and attaches the sink. Returns an
 * HttpError code to refuse with (507, 503), or 0 (also when the body is gathered instead).
 */
export function beginUpload(
  store: KvStore,
  head: RequestHead,
  key: Uint8Array,
  type: Uint8Array,
  maxValueSize: number,
): number {
  if (!head.chunked && head.contentLength < STREAM_MIN) return 0;
  const first = head.chunked ? Math.min(CHUNKED_STEP, maxValueSize) : head.contentLength;
  const r = store.reserve(key, first, type, head.ttl);
  if (r === SetOutcome.TooLarge) return HttpError.VALUE_TOO_LARGE;
  if (r === SetOutcome.Busy) return HttpError.STORE_BUSY;
  head.sink = new UploadSink(r, head, maxValueSize);
  return 0;
}

/**
 * At answer time: publishes a streamed upload (`written` gets its ETag); null when the body was
 * gathered as views.
 */
export function finishUpload(
  head: RequestHead,
  pre: Precondition | undefined,
  written: WriteResult,
): SetOutcome | null {
  const sink = head.sink;
  if (!(sink instanceof UploadSink)) return null;
  head.sink = null;
  return sink.reservation.publish(head.bodyLength, pre, written);
}
