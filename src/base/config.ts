import { availableParallelism } from 'node:os';

/** Effective configuration after flags, environment and defaults (docs/operations.md "Flags"). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface Config {
  port: number;
  host: string;
  threads: number;
  stripes: number;
  /** bytes */
  memory: number;
  maxKeys: number;
  /** bytes */
  maxValueSize: number;
  concurrencyLimit: number;
  maxConnections: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownTimeoutMs: number;
  /** bytes, SO_SNDBUF and SO_RCVBUF */
  socketBuffer: number;
  backlog: number;
  logLevel: LogLevel;
  /** Pin worker thread i to one core (round robin over the allowed set). */
  pinThreads: boolean;
  /** Read-through origin (`http://` or `https://` URL, no query); '' when none. */
  origin: string;
  /** ms: connect, first byte and whole-body limit of one origin fetch. */
  originTimeoutMs: number;
  /** Keep-alive connections to the origin, per thread. */
  originConnections: number;
  /** Requests that may wait for one in-flight fetch; more get 503. */
  originMaxWaiters: number;
  /** Seconds; TTL of origin values without max-age/s-maxage (0: no expiry). */
  originTtl: number;
  /** Seconds an origin 404/410 is remembered (0: not at all). */
  negativeTtl: number;
  /** Bytes; cache origin objects in slices of this size fetched with Range (0: whole objects). */
  originSlice: number;
}

/**
 * The defaults, as numbers: what the server runs with when no flag or environment variable says
 * otherwise. The CLI's flag table (src/runtime/cli.ts) spells the same values the way a user
 * writes them for --help; test/unit/cli.test.ts checks that both agree. Tests and benchmarks that
 * build a Config start from here and override what they need.
 */
export function defaultConfig(): Config {
  return {
    port: 3000,
    host: '127.0.0.1',
    threads: availableParallelism(),
    stripes: 256,
    memory: 1024 ** 3,
    maxKeys: 1_000_000,
    maxValueSize: 16 * 1024 ** 2,
    concurrencyLimit: 250,
    maxConnections: 10_000,
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    shutdownTimeoutMs: 10_000,
    socketBuffer: 4 * 1024 ** 2,
    backlog: 4096,
    logLevel: 'info',
    pinThreads: false,
    origin: '',
    originTimeoutMs: 10_000,
    originConnections: 64,
    originMaxWaiters: 10_000,
    originTtl: 0,
    negativeTtl: 1,
    originSlice: 0,
  };
}
