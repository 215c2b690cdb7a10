import type { RequestHead } from '../parser/request.js';
import type { FieldList } from './hpack.js';
import type { Session } from './session.js';

/**
 * One request/response exchange on an HTTP/2 connection (RFC 9113 §5.1), from the server's side:
 * open while the request body arrives, half-closed (remote) once it ended and the answer is
 * being sent, gone from the session's table once both sides are done or it was reset.
 */
export class H2Stream {
  /** END_STREAM was received: the request is complete. */
  remoteClosed = false;
  /** The answer's last frame (END_STREAM) was queued. */
  localClosed = false;
  /** Answered before the body ended (a refusal): RST_STREAM(NO_ERROR) once the answer is out. */
  resetAfterSend = false;
  /** Headers were sent (a second answer would be a bug). */
  answered = false;
  /** The body is being thrown away (refused over --max-value-size): DATA only counts. */
  refused = false;
  /** Room the peer gave us to send DATA on this stream. */
  sendWindow: number;
  /** DATA bytes received since the last WINDOW_UPDATE we sent for this stream. */
  recvUnacked = 0;
  /** Room we gave the peer; below zero is a FLOW_CONTROL_ERROR. */
  recvWindow: number;
  /** Body bytes received (padding not counted). */
  received = 0;
  /** The request while its body arrives; null once answered. */
  head: RequestHead | null = null;

  /** Answer body segments not yet framed: [at, count), the first from offset `off`. */
  readonly body: Buffer[] = [];
  at = 0;
  count = 0;
  off = 0;
  /** Bytes of the answer body not yet framed. */
  left = 0;
  /** Releases pinned store values the body points into; run once the last of it was written. */
  done: (() => void) | null = null;
  /** In the session's list of streams waiting for send window. */
  blocked = false;

  constructor(
    readonly id: number,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** Queues an answer body (the segments are kept as given: no copy). */
  queue(segs: readonly Buffer[], n: number, bytes: number, done: (() => void) | null): void {
    for (let i = 0; i < n; i++) this.body[i] = segs[i]!;
    this.at = 0;
    this.count = n;
    this.off = 0;
    this.left = bytes;
    this.done = done;
  }

  /** Drops the answer body not yet sent; returns its pin release (to run once queued writes end). */
  dropBody(): (() => void) | null {
    this.body.length = 0;
    this.count = 0;
    this.left = 0;
    const d = this.done;
    this.done = null;
    return d;
  }
}

/** What the session needs from the thread's HTTP/2 server: the requests' side. */
export interface SessionHost {
  /** Limit on the header list (our SETTINGS_MAX_HEADER_LIST_SIZE). */
  readonly maxHeaderList: number;
  /** A request's header block arrived on a new stream. */
  request(s: Session, st: H2Stream, fields: FieldList, ended: boolean): void;
  /** Body bytes of `st` (`transient`: `chunk` is only valid during the call); whether the body ended. */
  data(s: Session, st: H2Stream, chunk: Buffer, transient: boolean, ended: boolean): void;
  /** Trailers (`fields`) ended the body of `st`. */
  ended(s: Session, st: H2Stream, fields: FieldList): void;
  /** `st` was reset or its connection is gone before it was answered. */
  aborted(st: H2Stream): void;
  /** The connection closed. */
  closed(s: Session): void;
  /** Logs an unexpected error (a bug) that ended a connection. */
  log(e: unknown): void;
}
