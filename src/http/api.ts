import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { Socket } from 'node:net';
import type { KvStore } from '../store/api.js';
import type { Responder } from './responder.js';

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
