import { parentPort, workerData } from 'node:worker_threads';
import { createH2Takeover } from '../h2/takeover.js';
import { createWorkerServer } from '../http/worker-server.js';
import { PortInUseError, closeFd, openListener, type ListenerInfo } from '../socket/listener.js';
import { Store } from '../store/store.js';
import { Logger } from '../base/log.js';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';
import { crashThisThread } from './test-hooks.js';
import { beater } from './heartbeat.js';
import { pinThisThread } from './affinity.js';
import { ReadThrough } from '../origin/read-through.js';

/**
 * One event-loop thread: attaches the shared store, opens its own SO_REUSEPORT listener and
 * serves connections until the supervisor says stop.
 */
const data = workerData as WorkerData;
const port = parentPort!;
const log = new Logger(data.config.logLevel, data.threadIndex);

function send(msg: FromWorker): void {
  port.postMessage(msg);
}

async function main(): Promise<void> {
  const { config } = data;
  if (data.pinCpu !== null) {
    const { cpus, tid } = pinThisThread(data.pinCpu);
    log.info('thread pinned', { cpu: data.pinCpu, effectiveCpus: cpus, tid });
  }
  const store = Store.attach(data.storeSab, data.ownerId);
  const missHandler =
    data.fillSab === null
      ? null
      : new ReadThrough({
          config,
          store,
          fills: data.fillSab,
          ownerId: data.ownerId,
          threadIndex: data.threadIndex,
          log,
        });
  const server = createWorkerServer({
    config,
    store,
    threadIndex: data.threadIndex,
    shared: data.httpSab,
    log,
    takeover: createH2Takeover,
    missHandler,
    onTick: beater(data.heartbeatSab, data.threadIndex),
  });

  let info: ListenerInfo;
  try {
    info = openListener({
      host: config.host,
      port: data.port,
      socketBuffer: config.socketBuffer,
      backlog: config.backlog,
    });
  } catch (e) {
    const code = e instanceof PortInUseError ? 'port-in-use' : 'listen';
    send({ type: 'fatal', code, message: e instanceof Error ? e.message : String(e) });
    return;
  }
  try {
    await server.listen(info.fd);
  } catch (e) {
    closeFd(info.fd);
    send({ type: 'fatal', code: 'listen', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  log.debug('listener open', { ...info });

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'shutdown':
        void server.shutdown().then(() => send({ type: 'drained' }));
        break;
      case 'destroy':
        server.destroyAll();
        break;
      case 'crash':
        // Sent only when the supervisor's test hooks are on (src/runtime/test-hooks.ts).
        crashThisThread(store, log);
        break;
    }
  });
  send({ type: 'listening', info });
}

main().catch((e: unknown) => {
  send({ type: 'fatal', code: 'start', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
});
