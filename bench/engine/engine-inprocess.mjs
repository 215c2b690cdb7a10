// The HTTP engine on the calling thread (no worker threads) over the real shared store, with
// 10,000 keys of 64 B preloaded (k64-0 .. k64-9999). Used by engine-serve.mjs, which
// floor.mjs measures against a bare node:net server.
import { Store } from '../../dist/store/store.js';
import { defaultConfig } from '../../dist/base/config.js';
import { Logger } from '../../dist/base/log.js';
import { httpSharedBytes, listenForTest } from '../../dist/http/worker-server.js';

export async function startEngineInProcess() {
  const config = {
    ...defaultConfig(),
    port: 0,
    threads: 1,
    memory: 256 * 1024 * 1024,
    maxKeys: 100000,
    backlog: 511,
    logLevel: 'error',
  };
  const store = Store.create({
    memory: config.memory,
    maxKeys: config.maxKeys,
    stripes: config.stripes,
    maxValueSize: config.maxValueSize,
  });
  const value = Buffer.alloc(64, 0x61);
  const type = Buffer.from('application/octet-stream');
  for (let i = 0; i < 10000; i++) store.set(Buffer.from(`k64-${i}`), value, type, 0);
  const shared = new SharedArrayBuffer(httpSharedBytes(1));
  return listenForTest({ config, store, threadIndex: 0, shared, log: new Logger('error', 0) });
}
