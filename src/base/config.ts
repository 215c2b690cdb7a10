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
}
