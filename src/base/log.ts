import type { LogLevel } from './config.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Record<string, unknown>;

/** JSON lines on stderr: level, time, thread, message, fields. Nothing per request at info. */
export class Logger {
  private readonly max: number;

  constructor(
    level: LogLevel,
    private readonly thread: number | 'main',
  ) {
    this.max = RANK[level];
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= this.max;
  }

  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (RANK[level] > this.max) return;
    const line = JSON.stringify({
      level,
      time: new Date().toISOString(),
      thread: this.thread,
      msg,
      ...fields,
    });
    process.stderr.write(line + '\n');
  }
}
