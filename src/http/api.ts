import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { KvStore } from '../store/api.js';

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
