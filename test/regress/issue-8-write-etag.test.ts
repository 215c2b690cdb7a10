// issue 8: a write's answer (201/200) carries the new entry's strong ETag, the very one a GET of
// it shows, for plain and conditional writes, small bodies and uploads streamed into a
// reservation (declared and chunked), over HTTP/1.1 and HTTP/2; the typed client's set() returns
// it, so a compare-and-set loop needs no extra GET. The store reports it through WriteResult.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../dist/client/index.js';
import { ReadResult, SetOutcome, Store, WriteResult } from '../../dist/store/index.js';
import { parseResponses, raw, req } from '../helpers/engine.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { h2close, h2connect, h2request } from '../integration/h2-client.js';
import { CT, enc, pattern } from '../helpers/store-data.js';

const TAG = /^"[0-9a-f]{16}"$/;

function tagOf(s: Store, key: string): string {
  const r = new ReadResult();
  s.get(enc(key), r);
  return r.etagHi.toString(16).padStart(8, '0') + r.etagLo.toString(16).padStart(8, '0');
}

const hex = (w: WriteResult): string =>
  w.etagHi.toString(16).padStart(8, '0') + w.etagLo.toString(16).padStart(8, '0');

test('store: set and publish report the ETag a get then shows', () => {
  const s = Store.create({ memory: 32 << 20, maxKeys: 1000, stripes: 4, maxValueSize: 8 << 20 });
  const w = new WriteResult();
  // tags are unique per key (the version is per stripe): each write of one key gets a new one
  const seen = new Set<string>();
  for (const [n, outcome] of [
    [10, SetOutcome.Created],
    [10, SetOutcome.Replaced], // same slot class: overwritten in place
    [300_000, SetOutcome.Replaced], // large: pages
  ] as const) {
    assert.equal(s.set(enc('k'), pattern(n, n), CT, 0, undefined, w), outcome);
    assert.equal(hex(w), tagOf(s, 'k'));
    seen.add(hex(w));
  }
  const r = s.reserve(enc('u'), 100_000, CT, 0);
  if (typeof r === 'number') assert.fail(`reserve gave ${r}`);
  r.write(pattern(100_000, 3), 0);
  assert.equal(r.publish(100_000, undefined, w), SetOutcome.Created);
  assert.equal(hex(w), tagOf(s, 'u'));
  const firstU = hex(w);
  // a chunked upload's last step is trimmed to the exact length (published from a new reservation)
  const c = s.reserve(enc('u'), 200_000, CT, 0);
  if (typeof c === 'number') assert.fail(`reserve gave ${c}`);
  c.write(pattern(150_000, 4), 0);
  assert.equal(c.publish(150_000, undefined, w), SetOutcome.Replaced);
  assert.equal(hex(w), tagOf(s, 'u'));
  assert.notEqual(hex(w), firstU);
  assert.equal(seen.size, 3, 'every write of k a new tag');
});

let server: RunningServer;
before(async () => {
  server = await startServer(['--threads', '1', '--memory', '64MiB']);
});
after(async () => {
  await server?.stop();
});

/** Sends `requests` on one connection; the answers, each checked to be there. */
async function ask(...requests: string[]): Promise<ReturnType<typeof parseResponses>> {
  const r = await raw(server.port, requests.join(''), {
    until: (d) => {
      const res = parseResponses(d);
      const last = res[requests.length - 1];
      return last !== undefined && last.body.length === Number(last.headers.get('content-length') ?? 0);
    },
    timeoutMs: 10_000,
  });
  const res = parseResponses(r.data);
  assert.equal(res.length, requests.length, r.data.toString('latin1').slice(0, 2000));
  return res;
}

test('HTTP/1.1: 201 and 200 carry the ETag a GET shows; If-Match with it succeeds', async () => {
  const [created, got1, replaced, got2] = await ask(
    req('POST', '/store/e1', {}, 'one'),
    req('GET', '/get/e1'),
    req('PUT', '/store/e1', {}, 'two'),
    req('GET', '/get/e1'),
  );
  assert.equal(created!.status, 201);
  assert.match(String(created!.headers.get('etag')), TAG);
  assert.equal(created!.headers.get('etag'), got1!.headers.get('etag'));
  assert.equal(created!.headers.get('content-length'), '0');
  assert.equal(replaced!.status, 200);
  assert.equal(replaced!.headers.get('etag'), got2!.headers.get('etag'));
  assert.notEqual(replaced!.headers.get('etag'), created!.headers.get('etag'));
  // compare-and-set with the tag the write answered, no GET in between
  const tag = replaced!.headers.get('etag')!;
  const [cas, stale, got3] = await ask(
    req('PUT', '/store/e1', { 'If-Match': tag }, 'three'),
    req('PUT', '/store/e1', { 'If-Match': tag }, 'four'),
    req('GET', '/get/e1'),
  );
  assert.equal(cas!.status, 200);
  assert.equal(cas!.headers.get('etag'), got3!.headers.get('etag'));
  assert.equal(stale!.status, 412);
  assert.equal(stale!.headers.get('etag'), undefined, 'a refused write has no new entry');
  assert.equal(got3!.body.toString(), 'three');
  const [createOnly, closing] = await ask(
    req('PUT', '/store/e2', { 'If-None-Match': '*' }, 'x'),
    req('PUT', '/store/e3', { Connection: 'close' }, 'y'),
  );
  assert.equal(createOnly!.status, 201);
  assert.match(String(createOnly!.headers.get('etag')), TAG);
  assert.match(String(closing!.headers.get('etag')), TAG);
  assert.equal(closing!.headers.get('connection'), 'close');
});

test('HTTP/1.1: uploads published from a reservation (declared and chunked) answer their ETag', async () => {
  const big = 'u'.repeat(200_000);
  const chunked =
    'PUT /store/up2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
    `${(100_000).toString(16)}\r\n${'c'.repeat(100_000)}\r\n0\r\n\r\n`;
  const [declared] = await ask(req('PUT', '/store/up1', { 'If-None-Match': '*' }, big));
  const [got] = await ask(req('GET', '/get/up1'));
  const [chunkedAns] = await ask(chunked);
  const [got2] = await ask(req('GET', '/get/up2'));
  assert.equal(declared!.status, 201);
  assert.equal(got!.body.length, big.length);
  assert.match(String(declared!.headers.get('etag')), TAG);
  assert.equal(declared!.headers.get('etag'), got!.headers.get('etag'));
  assert.equal(chunkedAns!.status, 201);
  assert.equal(got2!.body.length, 100_000);
  assert.equal(chunkedAns!.headers.get('etag'), got2!.headers.get('etag'));
});

test('HTTP/2: the write answer carries the same ETag', async () => {
  const c = await h2connect(server.port);
  try {
    const put = await h2request(c, 'PUT', '/store/h2e', {}, 'v');
    assert.equal(put.status, 201);
    assert.match(String(put.headers['etag']), TAG);
    const get = await h2request(c, 'GET', '/get/h2e');
    assert.equal(put.headers['etag'], get.headers['etag']);
    const up = await h2request(c, 'PUT', '/store/h2e', {}, Buffer.alloc(150_000, 7));
    assert.equal(up.status, 200);
    assert.equal(up.headers['etag'], (await h2request(c, 'GET', '/get/h2e')).headers['etag']);
  } finally {
    await h2close(c);
  }
});

test('client: set() returns the new ETag; set with ifMatch of it is a compare-and-set', async () => {
  const client = new Client(`http://127.0.0.1:${server.port}`, { connections: 1 });
  try {
    const first = await client.set('cas', 'a');
    assert.equal(first.created, true);
    assert.match(String(first.etag), TAG);
    assert.equal(first.etag, (await client.get('cas'))!.etag);
    const second = await client.set('cas', 'b', { ifMatch: first.etag! });
    assert.equal(second.status, 200);
    assert.notEqual(second.etag, first.etag);
    assert.equal(second.etag, (await client.get('cas'))!.etag);
    await assert.rejects(client.set('cas', 'c', { ifMatch: first.etag! }), {
      name: 'PreconditionFailedError',
    });
  } finally {
    await client.close();
  }
});
