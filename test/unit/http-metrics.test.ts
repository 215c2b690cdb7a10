import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  C_BYTES_OUT,
  G_OPEN,
  G_SERVING,
  Metrics,
  Route,
  S_OPEN,
  S_SERVING,
  httpSharedBytes,
  renderMetrics,
} from '../../dist/http/metrics.js';

const stats = {
  entries: 1,
  bytesUsed: 2,
  payloadBytes: 3,
  memoryBudget: 4,
  hits: 5,
  misses: 6,
  sets: 7,
  deletes: 8,
  evictions: 9,
  expirations: 10,
};

test('per-thread counters are summed across threads, and labelled per thread', () => {
  const sab = new SharedArrayBuffer(httpSharedBytes(3));
  const m = [0, 1, 2].map((t) => new Metrics(sab, t));
  m[0]!.request(Route.Get, 200);
  m[1]!.request(Route.Get, 200);
  m[1]!.request(Route.Get, 200);
  m[2]!.request(Route.Store, 507);
  m[2]!.request(Route.Other, 418);
  const text = renderMetrics(sab, 3, stats);
  assert.match(text, /^stripecache_http_requests_total\{route="get",status="200"\} 3$/m);
  assert.match(text, /^stripecache_thread_http_requests_total\{thread="1",route="get",status="200"\} 2$/m);
  assert.match(text, /^stripecache_http_requests_total\{route="store",status="507"\} 1$/m);
  assert.match(text, /^stripecache_http_requests_total\{route="other",status="other"\} 1$/m);
  assert.match(text, /^stripecache_cache_expirations_total 10$/m);
});

test('64-bit counters carry past 2^32', () => {
  const sab = new SharedArrayBuffer(httpSharedBytes(1));
  const m = new Metrics(sab, 0);
  m.add(C_BYTES_OUT, 2 ** 32 - 10);
  m.add(C_BYTES_OUT, 25);
  m.add(C_BYTES_OUT, 2 ** 33);
  const text = renderMetrics(sab, 1, stats);
  assert.match(text, new RegExp(`^stripecache_bytes_sent_total ${2 ** 32 + 15 + 2 ** 33}$`, 'm'));
});

test('connection limits are global; a restarted thread gives back what its predecessor held', () => {
  const sab = new SharedArrayBuffer(httpSharedBytes(2));
  const a = new Metrics(sab, 0);
  const b = new Metrics(sab, 1);
  assert.ok(a.tryOpen(3));
  assert.ok(b.tryOpen(3));
  assert.ok(a.tryOpen(3));
  assert.equal(b.tryOpen(3), false);
  assert.ok(a.tryServe(2));
  assert.ok(b.tryServe(2));
  assert.equal(a.tryServe(2), false);
  assert.equal(Atomics.load(a.global, G_OPEN), 3);
  // thread 0 dies holding 2 open connections, 1 serving; its successor adopts the slot
  const successor = new Metrics(sab, 0);
  successor.adoptSlot();
  assert.equal(Atomics.load(a.global, G_OPEN), 1);
  assert.equal(Atomics.load(a.global, G_SERVING), 1);
  assert.equal(Atomics.load(new Int32Array(sab, 0, 64), 16 + S_OPEN), 0);
  assert.equal(Atomics.load(new Int32Array(sab, 0, 64), 16 + S_SERVING), 0);
  assert.ok(successor.tryOpen(3));
  b.closed();
  b.unserve();
  assert.equal(Atomics.load(a.global, G_OPEN), 1);
  assert.equal(Atomics.load(a.global, G_SERVING), 0);
});
