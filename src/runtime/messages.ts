import type { ListenerInfo } from '../socket/listener.js';
import type { Config } from '../base/config.js';

/** What the supervisor hands each worker thread at start. */
export interface WorkerData {
  config: Config;
  /** The port every listener binds (already resolved when --port was 0). */
  port: number;
  threadIndex: number;
  /** Unique per worker incarnation; written into the store's lock words. */
  ownerId: number;
  storeSab: SharedArrayBuffer;
  httpSab: SharedArrayBuffer;
  /** One word per thread, bumped while its event loop turns (heartbeat.ts). */
  heartbeatSab: SharedArrayBuffer;
  /** --pin-threads: the core this thread runs on; null when not pinned. */
  pinCpu: number | null;
  /** The read-through fill table (src/origin/fill-table.ts) when --origin is set, else null. */
  fillSab: SharedArrayBuffer | null;
}

export type ToWorker = { type: 'shutdown' } | { type: 'destroy' } | { type: 'crash' };

export type FromWorker =
  | { type: 'listening'; info: ListenerInfo }
  | { type: 'fatal'; message: string; code: 'port-in-use' | 'listen' | 'start' }
  | { type: 'drained' };
