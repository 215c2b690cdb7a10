// Harness logic of bench/: Zipf sampler, hash vectors, statistics, response parsing, LRU
// simulation, SVG writers and the micro-benchmark output parser. Correctness only, no timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { zipfSampler, zipfPmf, mulberry32 } from '../../bench/lib/zipf.mjs';
import { fnv1a32, murmur3_32, xxhash32 } from '../../bench/lib/hashes.mjs';
import { median, spread, compare } from '../../bench/lib/stats.mjs';
import { parseResponses, sendAll, httpRequest } from '../../bench/lib/client.mjs';
import { simulateLru } from '../../bench/lib/cachesim.mjs';
import { barPanels, heatMaps, flameGraph } from '../../bench/lib/svg.mjs';
import { parseMicroOutput } from '../../bench/micro/run.mjs';

test('zipf sampler stays in 1..n and matches the exact distribution', () => {
  for (const s of [0.6, 0.99, 1, 1.3]) {
    const n = 50;
    const next = zipfSampler(n, s, mulberry32(11));
    const counts = new Float64Array(n + 1);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) {
      const k = next();
      assert.ok(Number.isInteger(k) && k >= 1 && k <= n, `rank ${k} out of range`);
      counts[k]++;
    }
    const p = zipfPmf(n, s);
    for (let k = 1; k <= 5; k++) {
      const expected = p[k]! * draws;
      assert.ok(
        Math.abs(counts[k]! - expected) < 5 * Math.sqrt(expected) + 1,
        `s=${s} rank ${k}: ${counts[k]} vs ${expected.toFixed(0)}`,
      );
    }
  }
});

test('zipf sampler handles a million keys and n = 1', () => {
  const one = zipfSampler(1, 0.99, mulberry32(1));
  assert.equal(one(), 1);
  const big = zipfSampler(1_000_000, 0.99, mulberry32(2));
  let max = 0;
  for (let i = 0; i < 10_000; i++) max = Math.max(max, big());
  assert.ok(max > 1000 && max <= 1_000_000);
  assert.throws(() => zipfSampler(0, 1));
});

test('hash functions match their published test vectors', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.equal(fnv1a32(b('')), 0x811c9dc5);
  assert.equal(fnv1a32(b('a')), 0xe40c292c);
  assert.equal(fnv1a32(b('foobar')), 0xbf9cf968);
  assert.equal(murmur3_32(b('')), 0);
  assert.equal(murmur3_32(b(''), 0, 0, 1), 0x514e28b7);
  assert.equal(murmur3_32(b('hello')), 0x248bfa47);
  assert.equal(murmur3_32(b('The quick brown fox jumps over the lazy dog')), 0x2e4ff723);
  assert.equal(xxhash32(b('')), 0x02cc5d05);
  assert.equal(xxhash32(b('a')), 0x550d7456);
  assert.equal(xxhash32(b('abc')), 0x32d153ff);
  assert.equal(xxhash32(b('Nobody inspects the spammish repetition')), 0xe2293b2f);
  // A sub-range hashes like the same bytes on their own.
  const padded = b('xxhelloyy');
  assert.equal(murmur3_32(padded, 2, 7), murmur3_32(b('hello')));
  assert.equal(xxhash32(padded, 2, 7), xxhash32(b('hello')));
  assert.equal(fnv1a32(padded, 2, 7), fnv1a32(b('hello')));
});

test('median, spread and the 15% rule', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.ok(Math.abs(spread([90, 100, 110]) - 0.2) < 1e-12);
  assert.ok(Number.isNaN(spread([1])));
  assert.equal(compare(110, 100).verdict, 'not shown');
  assert.equal(compare(120, 100).verdict, 'better');
  assert.equal(compare(80, 100).verdict, 'worse');
  assert.equal(compare(80, 100, { lowerIsBetter: true }).verdict, 'better');
  assert.equal(compare(1, 0).verdict, 'n/a');
});

test('response parser: pipelined, split, chunked, HEAD-like', () => {
  const seen: [number, string][] = [];
  const on = (status: number, _head: string, body: Buffer) => seen.push([status, body.toString()]);
  const a = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
  const c = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
  const all = Buffer.from(a + c + 'HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno');
  const pos = parseResponses(all, 0, on);
  assert.deepEqual(seen, [
    [200, 'hello'],
    [201, 'abcde'],
  ]);
  assert.equal(pos, Buffer.byteLength(a + c), 'an incomplete response is left for later');
  seen.length = 0;
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
  parseResponses(head, 0, on, () => false);
  assert.deepEqual(seen, [[200, '']]);
});

test('sendAll pipelines every request and counts statuses', async () => {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(n % 2 === 0 ? 200 : 201, { 'content-length': 2 }).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const statuses = await sendAll(
      '127.0.0.1',
      port,
      101,
      (i) => httpRequest('POST', `/store/k${i}`, { body: Buffer.alloc(10, i) }),
      { connections: 3, depth: 8, timeoutMs: 10_000 },
    );
    assert.equal((statuses['200'] ?? 0) + (statuses['201'] ?? 0), 101);
    assert.equal(n, 101);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('LRU simulation: unbounded beats bounded, zero capacity never hits', () => {
  const base = { keys: 10_000, s: 0.99, fill: 5_000, requests: 20_000, seed: 3 };
  const none = simulateLru({ ...base, capacity: 0 });
  const small = simulateLru({ ...base, capacity: 500 });
  const all = simulateLru({ ...base, capacity: Infinity });
  assert.equal(none.hits, 0);
  assert.ok(small.hitRatio > 0 && small.hitRatio < all.hitRatio);
  assert.ok(small.entries <= 500);
  assert.ok(Math.abs(all.gets - 16_000) < 600, 'about 80% of requests are GETs');
});

test('SVG writers produce well-formed documents with escaped text', () => {
  const bars = barPanels({
    title: 'a <b> & c',
    unit: 'req/s',
    labels: ['x', 'y'],
    groups: [
      {
        title: 'w',
        bars: [
          { label: 'x', value: 10, lo: 8, hi: 12 },
          { label: 'y', value: NaN },
        ],
      },
    ],
  });
  const heat = heatMaps({
    title: 't',
    unit: 'req/s',
    panels: [{ title: 'p', rows: ['r1', 'r2'], cols: ['c1'], values: [[1], [NaN]] }],
  });
  const flame = flameGraph({
    title: 'f',
    root: { name: 'all', self: 0, children: [{ name: 'a"b', self: 5, children: [] }] },
  });
  for (const svg of [bars, heat, flame]) {
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.equal((svg.match(/<text/g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length);
    assert.doesNotMatch(svg, /<b>|a"b/);
  }
  assert.match(bars, /a &lt;b&gt; &amp; c/);
  assert.match(bars, /skipped/);
});

test('micro output parser reads benchmark.js cycle lines and BENCH lines', () => {
  const rows = parseMicroOutput(
    [
      'store get 64 B x 12,345,678 ops/sec ±0.52% (95 runs sampled)',
      'noise',
      'BENCH {"name":"balance","value":1.2}',
      'one x 1.5 ops/sec ±10.00% (1 run sampled)',
    ].join('\n'),
  );
  assert.deepEqual(rows, [
    { name: 'store get 64 B', hz: 12345678, rme: 0.52, runs: 95 },
    { name: 'balance', value: 1.2 },
    { name: 'one', hz: 1.5, rme: 10, runs: 1 },
  ]);
});
