import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { Socket } from 'node:net';
import type { KvStore, ReadResult } from '../store/api.js';
import type { Responder } from './responder.js';
import type { Conn, DateLine } from './canned.js';
import type { Output } from './output.js';
import type { RangeSpec } from './range.js';

/**
 * A `GET`/`HEAD /get/{key}` that missed the store while a read-through tier is configured. The
 * HTTP layer hands it to the `MissHandler` and stops reading that connection (pipelined requests
 * wait, in order) until `answer` is called once. Everything here is the request's own copy: the
 * parser's buffers are reused meanwhile.
 */
export interface MissedRequest {
  /** The percent-decoded key (a copy). */
  readonly key: Uint8Array;
  /** false for HEAD. */
  readonly withBody: boolean;
  /** The request's Range (RangeKind.None when absent or ignored). */
  readonly range: RangeSpec;
  /** How the connection goes on after the answer. */
  readonly conn: Conn;
  /** The client went away: answering is then a no-op, and nobody needs this request any more. */
  readonly gone: boolean;
  /**
   * Writes the one answer (`write` puts a whole response into `out` and returns its status for
   * the request metrics), hands it to the socket and resumes reading the connection.
   */
  answer(write: (out: Output, date: DateLine) => number): void;
}

/** The read-through tier as the HTTP layer sees it (implemented in src/origin, wired by runtime). */
export interface MissHandler {
  /** Takes over a miss; must call `req.answer` exactly once (unless `req.gone`). */
  miss(req: MissedRequest): void;
  /** Bytes of header lines (each CRLF-terminated) added to a GET/HEAD answered from the store. */
  readonly hitHeader: Uint8Array;
  /**
   * Optional: writes the head of a GET/HEAD answered from the store in place of the HTTP layer's
   * own (the read-through tier adds `Age` and the origin's ETag it keeps with the entry, and
   * matches If-None-Match against that ETag). `status`: what `store.get` returned for `read` (not
   * Miss); `inm`: the request's If-None-Match bytes, or null. Returns the status written: 200,
   * 206, 304 or 416 (the caller then writes the body of a 200/206/416, none for a 304). At most
   * 640 bytes.
   */
  writeStoredHead?(
    out: Output,
    date: DateLine,
    conn: Conn,
    read: ReadResult,
    status: number,
    inm: Uint8Array | null,
  ): number;
  /** The tier's part of /metrics (Prometheus text, newline-terminated). */
  metricsText(): string;
}

/**
 * What a worker thread (src/runtime/worker.ts) hands the HTTP layer, and what it gets back.
 * Implemented by `createWorkerServer` in src/http/worker-server.ts.
 */
export interface WorkerServerOptions {
  config: Config;
  store: KvStore;
  /** 0-based index of this event-loop thread; a restarted worker reuses its predecessor's index. */
  threadIndex: number;
  /**
   * Cross-thread state of the HTTP layer (per-thread metrics, connection counts for
   * --max-connections and --concurrency-limit); allocated once by the supervisor with
   * `httpSharedBytes(config.threads)` and shared by every worker.
   */
  shared: SharedArrayBuffer;
  log: Logger;
  /**
   * Makes the thread's server for connections that open with the HTTP/2 preface (src/h2; wired
   * by src/runtime/worker.ts so that this layer never imports it). Without it every connection
   * is HTTP/1.1.
   */
  takeover?: (ctx: TakeoverContext) => ProtocolTakeover;
  /** The read-through tier (--origin), or null: a miss is then a 404. */
  missHandler?: MissHandler | null;
  /**
   * Called on the server's timeout sweep (at least once a second while its loop turns): the
   * worker's heartbeat rides on it instead of waking the thread with a timer of its own.
   */
  onTick?: () => void;
}

/** What a protocol that takes connections over from HTTP/1.1 gets from the thread's server. */
export interface TakeoverContext {
  config: Config;
  responder: Responder;
  log(e: unknown): void;
}

/** A server for connections handed over after their first bytes were read. */
export interface ProtocolTakeover {
  /**
   * Takes `socket` over (the HTTP/1.1 connection no longer reads it; it still counts in
   * --max-connections and --concurrency-limit until it closes). `bytes`: what was read from it
   * so far, copied out of the read buffer.
   */
  adopt(socket: Socket, bytes: Buffer): void;
  /** Graceful shutdown: tell every client to stop opening requests; open ones finish. */
  shutdown(): void;
  /** The read-through tier (--origin), or null: a miss is then a 404. */
  missHandler?: MissHandler | null;
}

export interface WorkerServer {
  /** Starts accepting on a socket that is already bound and listening (from src/socket/listener.ts). */
  listen(fd: number): Promise<void>;
  /**
   * Graceful shutdown: /healthz answers 503, the listener closes, requests in flight are
   * answered (late pipelined ones get 503 + Connection: close), idle keep-alive connections are
   * closed. Resolves when no connection is left; the caller enforces --shutdown-timeout.
   */
  shutdown(): Promise<void>;
  /** Destroys every remaining connection at once (deadline passed, or a second signal). */
  destroyAll(): void;
}
