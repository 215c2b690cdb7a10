import type { ProtocolTakeover, TakeoverContext } from '../http/api.js';
import { createLeanH2Takeover } from './lean.js';
import { createNodeH2Takeover } from './server.js';

/**
 * Which HTTP/2 layer serves h2c: our own framing (the default; docs/http2.md says why), or
 * node:http2's core stream API with STRIPECACHE_H2=node, the fallback should ours misbehave.
 */
const USE_NODE = process.env['STRIPECACHE_H2'] === 'node';

/** The thread's HTTP/2 takeover; src/runtime/worker.ts hands this factory to the worker server. */
export function createH2Takeover(ctx: TakeoverContext): ProtocolTakeover {
  return USE_NODE ? createNodeH2Takeover(ctx) : createLeanH2Takeover(ctx);
}
