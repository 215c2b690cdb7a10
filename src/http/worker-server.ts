import net from 'node:net';
import { ParserEngine } from '../parser/engine.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { WorkerServer, WorkerServerOptions } from './api.js';
import { HttpError } from '../base/errors.js';
import { C_ACCEPTED, C_HEADER_TIMEOUTS, C_IDLE_CLOSED, C_REJECTED, Metrics, S_WAITING } from './metrics.js';
import { Responder } from './responder.js';

export { httpSharedBytes } from './metrics.js';

/**
 * STRIPECACHE_READ_BUFFER=0 keeps every connection on plain 'data' events instead of reading into
 * the thread's buffer (adoptWithReadBuffer): a switch to compare the two and a way out should a
 * Node release break the adoption in a way its checks do not catch.
 */
const READ_BUFFER = process.env['STRIPECACHE_READ_BUFFER'] !== '0';

/** How often a thread looks for serving slots freed by other threads while connections wait. */
const SLOT_RETRY_MS = 5;

/**
 * One thread's HTTP server: a net.Server on the listener fd, the thread's parser engine and
 * responder, its connections, timeouts (one sweep timer, not a timer per socket), the
 * --concurrency-limit queue and graceful shutdown.
 */
class ThreadServer implements WorkerServer, ConnectionHost {
  readonly engine: ParserEngine;
  readonly responder: Responder;
  closing = false;
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly waiting: Connection[] = [];
  private readonly metrics: Metrics;
  private readonly sweepTimer: NodeJS.Timeout;
  private slotTimer: NodeJS.Timeout | null = null;
  private drained: (() => void) | null = null;

  constructor(private readonly opts: WorkerServerOptions) {
    const { config } = opts;
    this.metrics = new Metrics(opts.shared, opts.threadIndex);
    this.metrics.adoptSlot();
    this.engine = new ParserEngine(config.maxValueSize);
    this.responder = new Responder(
      opts.store,
      this.metrics,
      config.maxValueSize,
      config.threads,
      opts.missHandler ?? null,
    );
    this.server = net.createServer({ pauseOnConnect: true, noDelay: true }, this.onConnection);
    this.server.on('error', (e) => opts.log.error('server error', { error: e.message }));
    const tick = Math.min(
      1000,
      Math.max(25, Math.floor(Math.min(config.headerTimeoutMs, config.idleTimeoutMs) / 4)),
    );
    this.sweepTimer = setInterval(this.sweep, tick);
    this.sweepTimer.unref();
  }

  listen(fd: number): Promise<void> {
    // Node calls listen() again on the fd, with 511 unless the backlog comes as the second
    // argument (`options.backlog` is ignored for an fd), which would undo --backlog.
    return this.listenWith({ fd } as net.ListenOptions, this.opts.config.backlog);
  }

  listenWith(options: net.ListenOptions, backlog = this.opts.config.backlog): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(options, backlog, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  private readonly onConnection = (socket: net.Socket): void => {
    const { config } = this.opts;
    const m = this.metrics;
    if (this.closing || !m.tryOpen(config.maxConnections)) {
      m.add(C_REJECTED, 1);
      rejectSocket(
        socket,
        this.responder,
        this.closing ? HttpError.SHUTTING_DOWN : HttpError.TOO_MANY_CONNECTIONS,
      );
      return;
    }
    m.add(C_ACCEPTED, 1);
    const conn = new Connection(socket, this, READ_BUFFER);
    this.conns.add(conn);
    if (this.waiting.length === 0 && m.tryServe(config.concurrencyLimit)) {
      conn.serving = true;
      conn.start();
    } else {
      this.waiting.push(conn);
      m.gauge(S_WAITING, 1);
      this.armSlotTimer();
    }
  };

  log(e: unknown): void {
    this.opts.log.error('request handling failed', {
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }

  released(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    this.metrics.closed();
    if (conn.serving) {
      conn.serving = false;
      this.metrics.unserve();
      this.admitWaiting();
    } else {
      const i = this.waiting.indexOf(conn);
      if (i >= 0) {
        this.waiting.splice(i, 1);
        this.metrics.gauge(S_WAITING, -1);
      }
    }
    if (this.drained !== null && this.conns.size === 0) this.drained();
  }

  private admitWaiting(): void {
    const limit = this.opts.config.concurrencyLimit;
    while (this.waiting.length !== 0 && this.metrics.tryServe(limit)) {
      const conn = this.waiting.shift()!;
      this.metrics.gauge(S_WAITING, -1);
      conn.serving = true;
      conn.start();
    }
    if (this.waiting.length !== 0) this.armSlotTimer();
  }

  /** Slots freed by other threads are noticed by polling while anyone waits. */
  private armSlotTimer(): void {
    if (this.slotTimer !== null) return;
    this.slotTimer = setTimeout(() => {
      this.slotTimer = null;
      this.admitWaiting();
    }, SLOT_RETRY_MS);
  }

  private readonly sweep = (): void => {
    const now = Date.now();
    this.responder.date.refresh(now);
    const { headerTimeoutMs, idleTimeoutMs } = this.opts.config;
    for (const conn of this.conns) {
      if (!conn.serving || conn.ended) continue;
      const p = conn.parser;
      if (p.headSince !== 0) {
        if (now - p.headSince > headerTimeoutMs) {
          this.metrics.add(C_HEADER_TIMEOUTS, 1);
          conn.refuse(HttpError.HEADER_TIMEOUT);
        }
      } else if (now - conn.lastActive > idleTimeoutMs) {
        // Idle keep-alive, a stalled body, or a client that stopped reading: no progress either way.
        this.metrics.add(C_IDLE_CLOSED, 1);
        conn.destroy();
      }
    }
  };

  shutdown(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.responder.shuttingDown = true;
      this.server.close();
      for (const conn of this.waiting) conn.destroy();
      for (const conn of this.conns) {
        if (conn.parser.busy) {
          conn.inFlightAtShutdown = true;
        } else if (conn.socket.writableLength === 0) {
          conn.destroy();
        } else if (!conn.ended) {
          conn.end();
          conn.flush();
        }
      }
    }
    if (this.conns.size === 0) return this.stopTimers();
    return new Promise<void>((resolve) => {
      this.drained = () => {
        this.drained = null;
        void this.stopTimers().then(resolve);
      };
    });
  }

  private stopTimers(): Promise<void> {
    clearInterval(this.sweepTimer);
    if (this.slotTimer !== null) clearTimeout(this.slotTimer);
    this.slotTimer = null;
    return Promise.resolve();
  }

  destroyAll(): void {
    for (const conn of this.conns) conn.destroy();
    this.server.close();
  }
}

/** 503 to a connection over the limit, then close (its input is drained, not parsed). */
function rejectSocket(socket: net.Socket, responder: Responder, code: number): void {
  socket.on('error', () => {});
  socket.on('end', () => socket.destroy());
  responder.error(code, 1, true, 5);
  responder.out.flush(socket);
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
}

export function createWorkerServer(opts: WorkerServerOptions): WorkerServer {
  return new ThreadServer(opts);
}

/** Test and benchmark entry: the same server listening on a port of its own (0 picks one). */
export async function listenForTest(
  opts: WorkerServerOptions,
  port = 0,
  host = '127.0.0.1',
): Promise<WorkerServer & { port: number }> {
  const server = new ThreadServer(opts);
  await server.listenWith({ port, host });
  return Object.assign(server, { port: server.address().port });
}
