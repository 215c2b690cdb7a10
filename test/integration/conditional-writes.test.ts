// Conditional writes and deletes over HTTP: 412 for each precondition that does not hold (and
// nothing changes), create-only, and a refused upload's body left unread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';
import { startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;

before(async () => {
  server = await startServer(['--threads', '1', '--memory', '64MiB', '--max-keys', '10000']);
});
after(async () => {
  await server?.stop();
});

async function ask(requests: string[]): Promise<ReturnType<typeof parseResponses>> {
  const r = await raw(server.port, requests.join(''), {
    until: countResponses(requests.length),
    timeoutMs: 10_000,
  });
  const answers = parseResponses(r.data);
  assert.equal(answers.length, requests.length, r.data.toString('latin1'));
  return answers;
}

async function current(key: string): Promise<{ status: number; body: string; etag: string | undefined }> {
  const [a] = await ask([req('GET', `/get/${key}`)]);
  return { status: a!.status, body: a!.body.toString(), etag: a!.headers.get('etag') };
}

const OTHER = '"0123456789abcdef"';

test('412 for each precondition that does not hold; the entry is unchanged', async () => {
  await ask([req('PUT', '/store/c/k', {}, 'one')]);
  const before = await current('c/k');
  assert.match(before.etag!, /^"[0-9a-f]{16}"$/);
  const cases: [string, string, Record<string, string>, string][] = [
    ['If-Match: another tag', 'PUT', { 'If-Match': OTHER }, 'x'],
    ['If-Match: a list without ours', 'POST', { 'If-Match': `${OTHER}, "0000000000000000"` }, 'x'],
    ['If-Match: our tag, weak', 'PUT', { 'If-Match': `W/${before.etag!}` }, 'x'],
    ['If-None-Match: * on an existing key', 'PUT', { 'If-None-Match': '*' }, 'x'],
    ['If-Match with If-None-Match: *', 'PUT', { 'If-Match': before.etag!, 'If-None-Match': '*' }, 'x'],
    ['empty body, If-Match: another tag', 'PUT', { 'If-Match': OTHER }, ''],
    ['DELETE, If-Match: another tag', 'DELETE', { 'If-Match': OTHER }, ''],
    ['DELETE, If-None-Match: *', 'DELETE', { 'If-None-Match': '*' }, ''],
  ];
  const answers = await ask(cases.map(([, m, h, body]) => req(m, '/store/c/k', h, body)));
  for (const [i, a] of answers.entries()) {
    assert.equal(a.status, 412, cases[i]![0]);
    assert.equal(a.headers.get('content-type'), 'text/plain', cases[i]![0]);
    assert.match(a.body.toString(), /^precondition failed/, cases[i]![0]);
    assert.notEqual(a.headers.get('connection'), 'close', cases[i]![0]);
  }
  assert.deepEqual(await current('c/k'), before);

  // absent keys: If-Match (tag or *) fails, and nothing is created
  const absent = await ask([
    req('PUT', '/store/c/absent', { 'If-Match': '*' }, 'x'),
    req('PUT', '/store/c/absent', { 'If-Match': OTHER }, 'x'),
    req('DELETE', '/store/c/absent', { 'If-Match': '*' }),
    req('GET', '/get/c/absent'),
  ]);
  assert.deepEqual(
    absent.map((a) => a.status),
    [412, 412, 412, 404],
  );
});

test('the conditions that hold: If-Match (tag, list, *), then the ETag moves on', async () => {
  await ask([req('PUT', '/store/c/ok', {}, 'v0')]);
  const e0 = (await current('c/ok')).etag!;
  const [a1] = await ask([req('PUT', '/store/c/ok', { 'If-Match': e0 }, 'v1')]);
  assert.equal(a1!.status, 200);
  const e1 = (await current('c/ok')).etag!;
  assert.notEqual(e1, e0);
  const [stale] = await ask([req('PUT', '/store/c/ok', { 'If-Match': e0 }, 'lost')]);
  assert.equal(stale!.status, 412);
  const answers = await ask([
    req('PUT', '/store/c/ok', { 'If-Match': `${OTHER}, ${e1}` }, 'v2'),
    req('PUT', '/store/c/ok', { 'If-Match': '*' }, 'v3'),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200],
  );
  // several If-Match lines are one list
  const e3 = (await current('c/ok')).etag!;
  const twoLines = `PUT /store/c/ok HTTP/1.1\r\nHost: x\r\nIf-Match: ${OTHER}\r\nIf-Match: ${e3}\r\nContent-Length: 2\r\n\r\nv4`;
  assert.equal((await ask([twoLines]))[0]!.status, 200);
  assert.equal((await current('c/ok')).body, 'v4');
  const e4 = (await current('c/ok')).etag!;
  const [del] = await ask([req('DELETE', '/store/c/ok', { 'If-Match': e4 })]);
  assert.equal(del!.status, 204);
  assert.equal((await current('c/ok')).status, 404);
});

test('create-only: If-None-Match: * stores when absent, then refuses', async () => {
  const answers = await ask([
    req('PUT', '/store/c/once', { 'If-None-Match': '*' }, 'first'),
    req('PUT', '/store/c/once', { 'If-None-Match': '*' }, 'second'),
    req('POST', '/store/c/once', { 'If-None-Match': '*' }, 'third'),
    req('GET', '/get/c/once'),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [201, 412, 412, 200],
  );
  assert.equal(answers[3]!.body.toString(), 'first');
  // an expired entry counts as absent
  await ask([req('PUT', '/store/c/ttl?ttl=1', {}, 'old')]);
  await new Promise((r) => setTimeout(r, 1200));
  const [again] = await ask([req('PUT', '/store/c/ttl', { 'If-None-Match': '*' }, 'new')]);
  assert.equal(again!.status, 201);
});

test('a large declared body under a failed condition is refused unread, then the connection closes', async () => {
  await ask([req('PUT', '/store/c/big', {}, 'small')]);
  // only the head is sent: the 412 comes without the server waiting for the 1 MiB body
  const head = `PUT /store/c/big HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\nContent-Length: ${1 << 20}\r\n\r\n`;
  const r = await raw(server.port, head, { timeoutMs: 5000 });
  assert.equal(r.closed, true);
  const [a] = parseResponses(r.data);
  assert.equal(a!.status, 412);
  assert.equal(a!.headers.get('connection'), 'close');
  // Expect: 100-continue gets the 412 instead of 100 Continue, whatever the size
  const expect = `PUT /store/c/big HTTP/1.1\r\nHost: x\r\nIf-Match: ${OTHER}\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`;
  const r2 = await raw(server.port, expect, { timeoutMs: 5000 });
  assert.doesNotMatch(r2.data.toString('latin1'), /100 Continue/);
  assert.equal(parseResponses(r2.data)[0]!.status, 412);
  assert.equal((await current('c/big')).body, 'small');
});

test('a chunked or small body under a failed condition is drained and the connection kept', async () => {
  await ask([req('PUT', '/store/c/chunk', {}, 'keep')]);
  const chunked =
    `PUT /store/c/chunk HTTP/1.1\r\nHost: x\r\nIf-Match: ${OTHER}\r\nTransfer-Encoding: chunked\r\n\r\n` +
    '5\r\nhello\r\n0\r\n\r\n';
  const answers = await ask([
    chunked,
    req('PUT', '/store/c/chunk', { 'If-None-Match': '*' }, 'x'.repeat(60_000)),
    req('GET', '/get/c/chunk'),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [412, 412, 200],
  );
  assert.equal(answers[2]!.body.toString(), 'keep');
});

test('conditions the store cannot express are refused with 400, not ignored', async () => {
  await ask([req('PUT', '/store/c/bad', {}, 'v')]);
  const nine = Array.from({ length: 9 }, (_, i) => `"${String(i).padStart(16, '0')}"`).join(', ');
  const answers = await ask([
    req('PUT', '/store/c/bad', { 'If-None-Match': OTHER }, 'x'),
    req('DELETE', '/store/c/bad', { 'If-None-Match': `${OTHER}, *` }),
    req('PUT', '/store/c/bad', { 'If-Match': nine }, 'x'),
    req('GET', '/get/c/bad'),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [400, 400, 400, 200],
  );
  assert.match(answers[0]!.body.toString(), /If-None-Match takes only \*/);
  assert.equal(answers[3]!.body.toString(), 'v');
});

test('a large upload whose condition stops holding while its body arrives is refused when it completes', async () => {
  await ask([req('PUT', '/store/c/slow', {}, 'v0')]);
  const e0 = (await current('c/slow')).etag!;
  const size = 256 * 1024;
  const head = `PUT /store/c/slow HTTP/1.1\r\nHost: x\r\nIf-Match: ${e0}\r\nContent-Length: ${size}\r\n\r\n`;
  const net = await import('node:net');
  const sock = net.connect(server.port, '127.0.0.1');
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(d));
  await new Promise((r) => sock.once('connect', r));
  // the head passes the early check; half the body goes in
  sock.write(head + 'a'.repeat(size / 2));
  await new Promise((r) => setTimeout(r, 100));
  // another writer changes the key meanwhile
  const [other] = await ask([req('PUT', '/store/c/slow', {}, 'other')]);
  assert.equal(other!.status, 200);
  sock.write('a'.repeat(size / 2));
  const until = Date.now() + 10_000;
  while (parseResponses(Buffer.concat(got)).length === 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
  }
  sock.destroy();
  const [a] = parseResponses(Buffer.concat(got));
  assert.equal(a?.status, 412);
  assert.equal((await current('c/slow')).body, 'other');

  // the same upload with the current tag is stored
  const e1 = (await current('c/slow')).etag!;
  const [ok] = await ask([req('PUT', '/store/c/slow', { 'If-Match': e1 }, 'b'.repeat(size))]);
  assert.equal(ok!.status, 200);
  const [stored] = await ask([req('GET', '/get/c/slow')]);
  assert.equal(stored!.headers.get('content-length'), String(size));
});
