// DELETE /prefix/{prefix} over HTTP: the count, binary prefixes, refusals, pipelined order, and a
// purge of 100,000 keys while GETs of other keys keep being answered by the same thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { countResponses, parseResponses, raw, req } from '../helpers/engine.js';
import { startServer, type RunningServer } from '../helpers/server.js';

let server: RunningServer;

before(async () => {
  // One thread: the GETs below are served by the very thread that runs the purge.
  server = await startServer(['--threads', '1', '--memory', '256MiB', '--max-keys', '250000']);
});
after(async () => {
  await server?.stop();
});

/** Sends `requests` pipelined on one connection and returns the parsed answers (bounded wait). */
async function pipelined(requests: string[], timeoutMs = 20_000): Promise<ReturnType<typeof parseResponses>> {
  const r = await raw(server.port, requests.join(''), { until: countResponses(requests.length), timeoutMs });
  const answers = parseResponses(r.data);
  assert.equal(answers.length, requests.length, 'every pipelined request answered');
  return answers;
}

/** Many bodiless PUTs, pipelined in batches on one socket; resolves once all are answered. */
function load(keys: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('load did not finish in 60 s'));
    }, 60_000);
    let sent = 0;
    let answered = 0;
    let tail = '';
    const sendBatch = (): void => {
      let s = '';
      for (const end = Math.min(keys.length, sent + 1000); sent < end; sent++) {
        s += `PUT /store/${keys[sent]!} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx`;
      }
      sock.write(s);
    };
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      const text = tail + d;
      let at = 0;
      for (let i = text.indexOf('\r\n\r\n'); i !== -1; i = text.indexOf('\r\n\r\n', at)) {
        if (!text.startsWith('HTTP/1.1 201', at)) {
          reject(new Error(`unexpected answer: ${text.slice(at, at + 40)}`));
        }
        answered++;
        at = i + 4;
      }
      tail = text.slice(at);
      if (answered === keys.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve();
      } else if (answered === sent) {
        sendBatch();
      }
    });
    sock.on('error', reject);
    sock.on('connect', sendBatch);
  });
}

/** One keep-alive connection answering requests one at a time. */
class Conn {
  private readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
  }

  async ask(request: string, timeoutMs: number): Promise<ReturnType<typeof parseResponses>[number]> {
    this.sock.write(request);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [first] = parseResponses(this.buf);
      if (first !== undefined) {
        this.buf = this.buf.subarray(first.raw.length);
        return first;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = null;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

test('purges 100,000 keys while GETs of other keys keep answering, each within 1 s', async () => {
  const N = 100_000;
  const keys = Array.from({ length: N }, (_, i) => `bulk/${i}`);
  await Promise.all([0, 1, 2, 3].map((c) => load(keys.filter((_, i) => i % 4 === c))));
  const others = Array.from({ length: 50 }, (_, i) => `keep/${i}`);
  await pipelined(others.map((k) => req('PUT', `/store/${k}`, {}, k)));

  const getter = new Conn(server.port);
  const purger = new Conn(server.port);
  try {
    // A first GET proves the connection works before the purge starts.
    assert.equal((await getter.ask(req('GET', '/get/keep/0'), 5000)).status, 200);
    let purgeAnswer: ReturnType<typeof parseResponses>[number] | null = null;
    const purge = purger.ask(req('DELETE', '/prefix/bulk/'), 60_000).then((a) => (purgeAnswer = a));
    let during = 0;
    let worst = 0;
    for (let i = 0; purgeAnswer === null; i++) {
      const t0 = Date.now();
      const a = await getter.ask(req('GET', `/get/${others[i % others.length]!}`), 1000);
      worst = Math.max(worst, Date.now() - t0);
      assert.equal(a.status, 200);
      assert.equal(a.body.toString(), others[i % others.length]);
      if (purgeAnswer === null) during++;
    }
    await purge;
    const answer = purgeAnswer as unknown as ReturnType<typeof parseResponses>[number];
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-type'), 'text/plain');
    assert.equal(answer.body.toString().trim(), String(N));
    // The thread answered GETs while it was purging: the purge yields between its steps.
    assert.ok(during >= 1, `GETs answered during the purge: ${during} (slowest ${worst} ms)`);
  } finally {
    getter.close();
    purger.close();
  }

  const sample = [0, 1, 4242, 55_555, N - 1].map((i) => req('GET', `/get/bulk/${i}`));
  for (const a of await pipelined(sample)) assert.equal(a.status, 404);
  for (const [i, a] of (await pipelined(others.map((k) => req('GET', `/get/${k}`)))).entries()) {
    assert.equal(a.body.toString(), others[i]);
  }
  const [metrics] = await pipelined([req('GET', '/metrics')]);
  assert.match(metrics!.body.toString(), /^stripecache_purged_total 100000$/m);
  assert.match(metrics!.body.toString(), /^stripecache_cache_entries 50$/m);
});

test('binary prefixes are percent-decoded like keys and compared as bytes', async () => {
  const keys = ['%FF%00/a', '%FF%00/b', '%FF%00', '%FF%01/a', '%25FF%2500/a', '%FF'];
  for (const a of await pipelined(keys.map((k) => req('PUT', `/store/${k}`, {}, 'v')))) {
    assert.equal(a.status, 201);
  }
  const [purged] = await pipelined([req('DELETE', '/prefix/%FF%00')]);
  assert.equal(purged!.body.toString(), '3\n');
  const statuses = (await pipelined(keys.map((k) => req('GET', `/get/${k}`)))).map((a) => a.status);
  assert.deepEqual(statuses, [404, 404, 404, 200, 200, 200]);
  // '/' and '%' inside a prefix: the literal text "%FF%00" was its own key and is purged by it.
  const [literal] = await pipelined([req('DELETE', '/prefix/%25FF%25')]);
  assert.equal(literal!.body.toString(), '1\n');
  const [none] = await pipelined([req('DELETE', '/prefix/no-such-prefix/')]);
  assert.equal(none!.status, 200);
  assert.equal(none!.body.toString(), '0\n');
});

test('pipelined requests around a purge are answered in order, the ones after it see its effect', async () => {
  const answers = await pipelined([
    req('PUT', '/store/pipe/a', {}, 'a'),
    req('PUT', '/store/pipe/b', {}, 'b'),
    req('DELETE', '/prefix/pipe/'),
    req('GET', '/get/pipe/a'),
    req('PUT', '/store/pipe/c', {}, 'c'),
    req('DELETE', '/prefix/pipe/'),
    req('GET', '/get/pipe/c', { Connection: 'close' }),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [201, 201, 200, 404, 201, 200, 404],
  );
  assert.equal(answers[2]!.body.toString(), '2\n');
  assert.equal(answers[5]!.body.toString(), '1\n');
});

test('a purge asking to close answers, then closes', async () => {
  const r = await raw(server.port, req('DELETE', '/prefix/nothing/', { Connection: 'close' }), {
    timeoutMs: 5000,
  });
  assert.equal(r.closed, true);
  const [a] = parseResponses(r.data);
  assert.equal(a!.status, 200);
  assert.equal(a!.headers.get('connection'), 'close');
});

test('an empty prefix is refused (it would purge everything); other methods get 405', async () => {
  const answers = await pipelined([
    req('DELETE', '/prefix/'),
    req('DELETE', '/prefix/?x=1'),
    req('DELETE', `/prefix/${'a'.repeat(1025)}`),
    req('DELETE', '/prefix/%G0'),
    req('GET', '/prefix/a'),
    req('PUT', '/prefix/a', {}, 'x'),
    req('DELETE', '/prefix'),
  ]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [400, 400, 400, 400, 405, 405, 404],
  );
  assert.match(answers[0]!.body.toString(), /prefix must be 1 to 1024 bytes/);
  assert.equal(answers[4]!.headers.get('allow'), 'DELETE');
});

test('requests that arrive while a purge runs wait for it and are answered after it, in order', async () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `late/${i}`);
  await load(keys);
  const r = await raw(
    server.port,
    [
      req('DELETE', '/prefix/late/'),
      req('GET', '/get/late/7'),
      req('GET', '/healthz', { Connection: 'close' }),
    ],
    { gapMs: 1, until: countResponses(3), timeoutMs: 20_000 },
  );
  const answers = parseResponses(r.data);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 404, 200],
  );
  assert.equal(answers[0]!.body.toString(), '20000\n');
});

test('a client that goes away during a purge: the purge still completes and the thread keeps serving', async () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `gone/${i}`);
  await load(keys);
  const sock = net.connect(server.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  sock.write(req('DELETE', '/prefix/gone/'));
  sock.destroy();
  const until = Date.now() + 20_000;
  for (;;) {
    const [a] = await pipelined([req('GET', '/get/gone/19999')]);
    if (a!.status === 404) break;
    assert.ok(Date.now() < until, 'the purge finished');
    await new Promise((r) => setTimeout(r, 50));
  }
  const [h] = await pipelined([req('GET', '/healthz')]);
  assert.equal(h!.status, 200);
  const [m] = await pipelined([req('GET', '/metrics')]);
  assert.match(m!.body.toString(), /^stripecache_cache_entries \d+$/m);
  assert.doesNotMatch(m!.body.toString(), /route="other",status="500"/);
});
