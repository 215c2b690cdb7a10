import { Worker } from 'node:worker_threads';
import { httpSharedBytes } from '../http/worker-server.js';
import { PortInUseError, probePort, type ListenerInfo } from '../socket/listener.js';
import { Store } from '../store/store.js';
import type { StoreOptions } from '../store/api.js';
import type { Config } from '../base/config.js';
import type { Logger } from '../base/log.js';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';
import { installCrashSignal } from './test-hooks.js';
import { allowedCpus, cpuForThread } from './affinity.js';
import { HeartbeatWatch, heartbeatBytes, type Watched } from './heartbeat.js';
import { FillTable } from '../origin/fill-table.js';
import { OriginMetrics, fillTableBytes } from '../origin/metrics.js';

/** Exit statuses: 1 for a server that cannot start (port in use...), 2 for bad flags (main.ts). */
export class StartError extends Error {
  readonly code = 'START';

  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Slot {
  threadIndex: number;
  ownerId: number;
  worker: Worker;
  startedAt: number;
  /** Consecutive deaths soon after start: drives the restart backoff. */
  quickDeaths: number;
  /** Listening and not yet judged hung: watched by the heartbeat. */
  live: boolean;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);
const START_TIMEOUT_MS = 30_000;
/** A sweep tick reclaims expired entries in a slice of the stripes; a full pass takes SWEEP_PASS_MS. */
const SWEEP_TICK_MS = 100;
const SWEEP_PASS_MS = 2_000;
/**
 * The tick while no stripe holds a TTL'd entry. A TTL is at least 1 s, so an entry stored
 * meanwhile is noticed before it expires and still reclaimed within a pass of expiring.
 */
const SWEEP_IDLE_MS = 1_000;

/**
 * The main thread: owns the store's SharedArrayBuffer, starts one worker per --threads, restarts
 * a worker that dies (after reclaiming any stripe lock it held), sweeps expired entries, and runs
 * graceful shutdown on SIGINT/SIGTERM.
 */
export class Supervisor {
  private readonly slots: Slot[] = [];
  private nextOwnerId = 1;
  private shuttingDown = false;
  /** Set once every thread listened: from then on a dead thread is replaced, not fatal. */
  private started = false;
  private store!: Store;
  private httpSab!: SharedArrayBuffer;
  private heartbeatSab!: SharedArrayBuffer;
  private watch: HeartbeatWatch | undefined;
  /** --pin-threads: the cores the (unpinned) supervisor may use, read once at start. */
  private cpus: number[] = [];
  /** In-flight origin fills, shared by every thread (--origin only). */
  private fills: FillTable | null = null;
  private fillSab: SharedArrayBuffer | null = null;
  private port = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** Resolves once every thread listens; returns the port. Throws StartError. */
  async start(): Promise<number> {
    const { config } = this;
    const storeOptions: StoreOptions = {
      memory: config.memory,
      maxKeys: config.maxKeys,
      stripes: config.stripes,
      maxValueSize: config.maxValueSize,
    };
    try {
      Store.bytesFor(storeOptions);
    } catch (e) {
      throw new StartError(`--memory/--max-keys/--stripes: ${e instanceof Error ? e.message : String(e)}`, 2);
    }
    try {
      this.port = probePort(config.host, config.port);
    } catch (e) {
      throw new StartError(e instanceof Error ? e.message : String(e), 1);
    }
    this.store = Store.create(storeOptions);
    this.httpSab = new SharedArrayBuffer(httpSharedBytes(config.threads));
    this.heartbeatSab = new SharedArrayBuffer(heartbeatBytes(config.threads));
    if (config.pinThreads) this.cpus = allowedCpus();
    if (config.origin !== '') {
      this.fillSab = new SharedArrayBuffer(fillTableBytes(config.threads));
      this.fills = new FillTable(this.fillSab);
    }

    const infos = await Promise.all(
      Array.from({ length: config.threads }, (_, i) => this.spawn(i).catch((e: unknown) => e as Error)),
    );
    const failed = infos.find((r): r is Error => r instanceof Error);
    if (failed) {
      await this.terminateAll();
      throw failed instanceof StartError ? failed : new StartError(failed.message, 1);
    }
    this.logListener(infos[0] as ListenerInfo);
    const sweepStripes = Math.max(1, Math.ceil((config.stripes * SWEEP_TICK_MS) / SWEEP_PASS_MS));
    this.scheduleSweep(sweepStripes, SWEEP_TICK_MS);
    this.watch = new HeartbeatWatch(this.heartbeatSab, () => this.watched());
    this.installSignals();
    this.started = true;
    return this.port;
  }

  private spawn(threadIndex: number): Promise<ListenerInfo> {
    const ownerId = this.nextOwnerId++;
    const data: WorkerData = {
      config: this.config,
      port: this.port,
      threadIndex,
      ownerId,
      storeSab: this.store.sab,
      httpSab: this.httpSab,
      heartbeatSab: this.heartbeatSab,
      pinCpu: this.config.pinThreads ? cpuForThread(this.cpus, threadIndex) : null,
      fillSab: this.fillSab,
    };
    const worker = new Worker(WORKER_URL, { workerData: data, stdout: false, stderr: false });
    const previous = this.slots[threadIndex];
    const slot: Slot = {
      threadIndex,
      ownerId,
      worker,
      startedAt: Date.now(),
      quickDeaths: previous?.quickDeaths ?? 0,
      live: false,
    };
    this.slots[threadIndex] = slot;

    return new Promise<ListenerInfo>((resolve, reject) => {
      let listening = false;
      const timer = setTimeout(() => {
        reject(
          new StartError(`thread ${threadIndex} did not start listening within ${START_TIMEOUT_MS} ms`, 1),
        );
      }, START_TIMEOUT_MS);
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'listening') {
          listening = true;
          slot.live = true;
          this.watch?.reset(threadIndex);
          clearTimeout(timer);
          resolve(msg.info);
        } else if (msg.type === 'fatal') {
          clearTimeout(timer);
          this.log.error('thread failed to start', { threadIndex, reason: msg.message });
          reject(new StartError(msg.message, 1));
          void worker.terminate();
        } else if (msg.type === 'drained') {
          void worker.terminate();
        }
      });
      worker.on('error', (err) => {
        this.log.error('thread crashed', { threadIndex, error: err.stack ?? err.message });
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!listening) {
          reject(new StartError(`thread ${threadIndex} exited with code ${code} while starting`, 1));
        }
        this.onExit(slot, code);
      });
    });
  }

  /** The threads the heartbeat watches: listening, not being replaced, not shutting down. */
  private watched(): Watched[] {
    if (this.shuttingDown) return [];
    const out: Watched[] = [];
    for (const slot of this.slots) {
      if (!slot.live) continue;
      out.push({
        threadIndex: slot.threadIndex,
        locksHeld: () => this.store.locks.heldBy(slot.ownerId),
        hung: (stillMs, locks) => {
          slot.live = false;
          this.log.error('thread hung; replacing it', { threadIndex: slot.threadIndex, stillMs, locks });
          // terminate() stops even a loop that never yields; 'exit' then reclaims and restarts.
          void slot.worker.terminate();
        },
      });
    }
    return out;
  }

  private onExit(slot: Slot, code: number): void {
    slot.live = false;
    if (this.slots[slot.threadIndex] !== slot) return;
    // Its fills' memory is about to be reclaimed: waiters on other threads stop copying from it.
    this.fills?.closeOwner(slot.ownerId);
    // A dead thread may have held a stripe lock mid-update: reset those stripes before anyone waits on them.
    const reset = this.store.reclaimOwner(slot.ownerId);
    if (reset > 0)
      this.log.warn('reset stripes held by a dead thread', { threadIndex: slot.threadIndex, stripes: reset });
    // Its origin fills end as "died": their waiters (on other threads) wake and fetch again.
    const fills = this.fills?.resetOwner(slot.ownerId) ?? 0;
    if (this.fillSab !== null) OriginMetrics.resetThread(this.fillSab, slot.threadIndex);
    if (fills > 0)
      this.log.warn('reset origin fills of a dead thread', { threadIndex: slot.threadIndex, fills });
    if (this.shuttingDown || !this.started) return;

    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < 5_000 ? slot.quickDeaths + 1 : 0;
    const delay = Math.min(5_000, 50 * 2 ** Math.min(slot.quickDeaths, 7));
    this.log.error('thread died; restarting it', {
      threadIndex: slot.threadIndex,
      exitCode: code,
      restartInMs: delay,
    });
    // Not unref'd: with --threads 1 this timer is all that keeps the process alive until the
    // replacement starts (shutdown exits the process itself, so it never waits on it).
    setTimeout(() => {
      if (this.shuttingDown) return;
      this.spawn(slot.threadIndex).then(
        () => this.log.info('thread restarted', { threadIndex: slot.threadIndex }),
        (e: unknown) =>
          this.log.error('thread restart failed', { threadIndex: slot.threadIndex, error: String(e) }),
      );
    }, delay);
  }

  private scheduleSweep(stripes: number, ms: number): void {
    this.sweepTimer = setTimeout(() => {
      this.sweep(stripes);
      // The heartbeat check rides on the same timer: one wakeup, not two.
      this.watch?.tick(Date.now());
      if (!this.shuttingDown) {
        this.scheduleSweep(stripes, this.store.expiry.allClean() ? SWEEP_IDLE_MS : SWEEP_TICK_MS);
      }
    }, ms);
    this.sweepTimer.unref();
  }

  private sweep(stripes: number): void {
    try {
      this.store.sweepExpired(stripes);
    } catch (e) {
      this.log.error('expiry sweep failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private logListener(info: ListenerInfo): void {
    const { config } = this;
    const fields = {
      host: config.host,
      port: this.port,
      threads: config.threads,
      reuseAddr: info.reuseAddr,
      reusePort: info.reusePort,
      noDelay: info.noDelay,
      socketBufferRequested: config.socketBuffer,
      // Linux reports twice the usable size (it counts its bookkeeping) and caps at net.core.[rw]mem_max.
      sndbuf: info.sndbuf,
      rcvbuf: info.rcvbuf,
      backlogRequested: config.backlog,
      backlogEffective: info.effectiveBacklog,
      somaxconn: info.somaxconn,
    };
    this.log.info('listening', fields);
    if (info.sndbuf < config.socketBuffer || info.rcvbuf < config.socketBuffer) {
      this.log.warn('kernel capped the socket buffers (raise net.core.wmem_max / rmem_max)', {
        requested: config.socketBuffer,
        sndbuf: info.sndbuf,
        rcvbuf: info.rcvbuf,
      });
    }
    if (info.effectiveBacklog < config.backlog) {
      this.log.warn('kernel capped the listen backlog at net.core.somaxconn', {
        requested: config.backlog,
        effective: info.effectiveBacklog,
      });
    }
  }

  private installSignals(): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.shuttingDown) {
        this.log.warn('second signal: exiting now', { signal });
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      void this.shutdown(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    installCrashSignal(() => this.post(this.slots[0], { type: 'crash' }));
  }

  /** Drains every thread, bounded by --shutdown-timeout, then exits 0. */
  async shutdown(signal: string): Promise<never> {
    this.shuttingDown = true;
    const deadline = this.config.shutdownTimeoutMs;
    this.log.info('shutting down', { signal, shutdownTimeoutMs: deadline });
    clearTimeout(this.sweepTimer);
    const exits = this.slots.map(
      (s) => new Promise<void>((r) => (s.worker.threadId < 0 ? r() : s.worker.once('exit', () => r()))),
    );
    for (const s of this.slots) this.post(s, { type: 'shutdown' });
    // Leave a little of the budget to close what is left and exit inside --shutdown-timeout.
    const margin = Math.min(250, deadline / 4);
    const forced = setTimeout(() => {
      this.log.warn('shutdown timeout: closing remaining connections', {});
      for (const s of this.slots) this.post(s, { type: 'destroy' });
      setTimeout(() => void this.terminateAll(), margin / 2).unref();
    }, deadline - margin);
    forced.unref();
    await Promise.all(exits);
    clearTimeout(forced);
    this.log.info('stopped', {});
    process.exit(0);
  }

  private post(slot: Slot | undefined, msg: ToWorker): void {
    if (slot && slot.worker.threadId >= 0) slot.worker.postMessage(msg);
  }

  private async terminateAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

export { PortInUseError };
