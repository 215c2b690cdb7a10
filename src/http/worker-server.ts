import net from 'node:net';
import { ParserEngine } from '../parser/engine.js';
import { Connection } from './connection.js';
import type { ConnectionHost } from './connection-host.js';
import type { ProtocolTakeover, WorkerServer, WorkerServerOptions } from './api.js';
import { HttpError } from '../base/errors.js';
import { C_ACCEPTED, C_HEADER_TIMEOUTS, C_IDLE_CLOSED, C_REJECTED, Metrics, S_WAITING } from './metrics.js';
import { Responder } from './responder.js';
import { drainAccepts } from '../socket/accept-drain.js';

export { httpSharedBytes } from './metrics.js';

/**
 * STRIPECACHE_READ_BUFFER=0 keeps every connection on plain 'data' events instead of reading into
 * the thread's buffer (adoptWithReadBuffer): a switch to compare the two and a way out should a
 * Node release break the adoption in a way its checks do not catch.
 */
const READ_BUFFER = process.env['STRIPECACHE_READ_BUFFER'] !== '0';
/** STRIPECACHE_WRITE_HANDLE=0 keeps every connection on socket.write (the same kind of switch). */
const WRITE_HANDLE = process.env['STRIPECACHE_WRITE_HANDLE'] !== '0';
/** STRIPECACHE_ACCEPT_DRAIN=0 leaves accepting to libuv alone (one connection per loop turn). */
const ACCEPT_DRAIN = process.env['STRIPECACHE_ACCEPT_DRAIN'] !== '0';
/** At most this many extra accepts per connection libuv reports: bounds one turn's accept work. */
const DRAIN_MAX = 256;

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
  now = Date.now();
  private readonly server: net.Server;
  private readonly conns = new Set<Connection>();
  private readonly waiting: Connection[] = [];
  /** Uploads that wait for an upload place (they need a slot too). */
  private readonly uploadWaiting: Connection[] = [];
  private readonly metrics: Metrics;
  private readonly sweepTimer: NodeJS.Timeout;
  private slotTimer: NodeJS.Timeout | null = null;
  private drained: (() => void) | null = null;
  /** The listening fd once listening (-1: unknown, or draining switched off). */
  private listenFd = -1;
  private readonly h2: ProtocolTakeover | null;
  readonly takeover: ((socket: net.Socket, bytes: Buffer) => void) | null;

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
    this.h2 = opts.takeover?.({ config, responder: this.responder, log: (e) => this.log(e) }) ?? null;
    const h2 = this.h2;
    this.takeover = h2 === null ? null : (socket, bytes) => h2.adopt(socket, bytes);
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
        if (ACCEPT_DRAIN) this.listenFd = listenerFd(this.server);
        resolve();
      });
    });
  }

  address(): net.AddressInfo {
    return this.server.address() as net.AddressInfo;
  }

  private readonly onConnection = (socket: net.Socket): void => {
    this.admit(socket);
    if (this.listenFd >= 0 && !this.closing) drainAccepts(this.listenFd, DRAIN_MAX, this.admitOwn);
  };

  /** A socket accepted by drainAccepts: the server did not set TCP_NODELAY on it. */
  private readonly admitOwn = (socket: net.Socket): void => {
    socket.setNoDelay(true);
    this.admit(socket);
  };

  private admit(socket: net.Socket): void {
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
    const conn = new Connection(socket, this, READ_BUFFER, WRITE_HANDLE);
    this.conns.add(conn);
    // A connection holds no --concurrency-limit slot until it has a request to serve.
    conn.start();
  }

  takeSlot(conn: Connection): boolean {
    if (this.waiting.length === 0 && this.metrics.tryServe(this.opts.config.concurrencyLimit)) {
      conn.serving = true;
      return true;
    }
    this.waiting.push(conn);
    this.metrics.gauge(S_WAITING, 1);
    this.armSlotTimer();
    return false;
  }

  releaseSlot(conn: Connection): void {
    if (!conn.serving) return;
    conn.serving = false;
    this.metrics.unserve();
    if (conn.uploading) {
      conn.uploading = false;
      this.metrics.uploadDone();
    }
    if (this.waiting.length !== 0 || this.uploadWaiting.length !== 0) this.admitWaiting();
  }

  takeUpload(conn: Connection): boolean {
    if (this.uploadWaiting.length === 0 && this.metrics.tryUpload(this.uploadLimit)) {
      conn.uploading = true;
      return true;
    }
    this.releaseSlot(conn);
    this.uploadWaiting.push(conn);
    this.metrics.gauge(S_WAITING, 1);
    this.armSlotTimer();
    return false;
  }

  /** Uploads in progress may hold at most half the slots (at least one). */
  private get uploadLimit(): number {
    return Math.max(1, Math.floor(this.opts.config.concurrencyLimit / 2));
  }

  log(e: unknown): void {
    this.opts.log.error('request handling failed', {
      error: e instanceof Error ? (e.stack ?? e.message) : String(e),
    });
  }

  released(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    this.metrics.closed();
    if (conn.serving) {
      this.releaseSlot(conn);
    } else {
      for (const q of [this.waiting, this.uploadWaiting]) {
        const i = q.indexOf(conn);
        if (i < 0) continue;
        q.splice(i, 1);
        this.metrics.gauge(S_WAITING, -1);
      }
    }
    if (this.drained !== null && this.conns.size === 0) this.drained();
  }

  private admitting = false;

  private admitWaiting(): void {
    // A connection admitted here releases its slot before returning, which calls back in.
    if (this.admitting) return;
    this.admitting = true;
    const limit = this.opts.config.concurrencyLimit;
    const m = this.metrics;
    while (this.uploadWaiting.length !== 0 && m.tryUpload(this.uploadLimit)) {
      if (!m.tryServe(limit)) {
        m.uploadDone();
        break;
      }
      const conn = this.uploadWaiting.shift()!;
      m.gauge(S_WAITING, -1);
      conn.serving = true;
      conn.uploading = true;
      conn.admitted();
    }
    while (this.waiting.length !== 0 && m.tryServe(limit)) {
      const conn = this.waiting.shift()!;
      m.gauge(S_WAITING, -1);
      conn.serving = true;
      conn.admitted();
    }
    this.admitting = false;
    if (this.waiting.length !== 0 || this.uploadWaiting.length !== 0) this.armSlotTimer();
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
    this.opts.onTick?.();
    const now = Date.now();
    this.now = now;
    this.responder.date.refresh(now);
    const { headerTimeoutMs, idleTimeoutMs } = this.opts.config;
    for (const conn of this.conns) {
      if (conn.ended) continue;
      // A slow reader that took some bytes since the last sweep made progress.
      const w = conn.pendingOut;
      if (w < conn.lastWritable) conn.lastActive = now;
      conn.lastWritable = w;
      const p = conn.parser;
      if (p.headSince !== 0 && !conn.queued) {
        if (now - p.headSince > headerTimeoutMs) {
          this.metrics.add(C_HEADER_TIMEOUTS, 1);
          conn.refuse(HttpError.HEADER_TIMEOUT);
        }
      } else if (now - conn.lastActive > idleTimeoutMs) {
        // Idle keep-alive, a stalled body, a reader that takes nothing, or a request that waited
        // for a slot that long: no progress either way.
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
      this.h2?.shutdown();
      for (const conn of this.uploadWaiting) conn.destroy();
      for (const conn of this.conns) {
        if (conn.handedOff) continue;
        if (conn.parser.busy) {
          conn.inFlightAtShutdown = true;
        } else if (conn.pendingOut === 0) {
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

/** The fd under a listening net.Server (Node keeps it on the handle); -1 where it is not there. */
function listenerFd(server: net.Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : -1;
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
