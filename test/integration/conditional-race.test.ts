// Compare-and-set from several threads at once: the If-Match check and the write are one step
// under the stripe lock, so of the racers that read the same ETag exactly one wins each round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { ReadResult, ReadStatus, Store } from '../../dist/store/index.js';
import { parseResponses, req } from '../helpers/engine.js';
import { startServer } from '../helpers/server.js';
import type { RaceJob, RaceReport } from './conditional-race/worker.js';

const WORKER = new URL('./conditional-race/worker.js', import.meta.url);

function race(job: RaceJob): Promise<RaceReport> {
  const worker = new Worker(WORKER, { workerData: job });
  return new Promise<RaceReport>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('racer did not finish in 60 s'));
    }, 60_000);
    worker.once('message', (m: RaceReport) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`racer exited ${code} without a report`)));
  });
}

test('two worker threads on one Store: exactly one If-Match write wins each of 2000 rounds', async () => {
  for (const stripes of [1, 64]) {
    const store = Store.create({ memory: 8 << 20, maxKeys: 1000, stripes, maxValueSize: 1 << 20 });
    store.set(Buffer.from('race/key'), Buffer.from('start'), Buffer.from('text/plain'), 0);
    const ctl = new SharedArrayBuffer(8);
    const rounds = 2000;
    const reports = await Promise.all(
      [1, 2].map((ownerId) => race({ sab: store.sab, ctl, ownerId, racers: 2, rounds })),
    );
    for (const r of reports) assert.deepEqual(r.errors, []);
    let last = -1;
    for (let round = 0; round < rounds; round++) {
      const winners = reports[0]!.wins[round]! + reports[1]!.wins[round]!;
      assert.equal(winners, 1, `round ${round}: ${winners} winners`);
      last = reports[0]!.wins[round] === 1 ? 1 : 2;
    }
    const r = new ReadResult();
    assert.equal(store.get(Buffer.from('race/key'), r), ReadStatus.Hit);
    assert.equal(Buffer.from(r.body).toString(), `${last}:${rounds - 1}`);
  }
});

/** A keep-alive connection that asks one request at a time. */
class Conn {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
  }

  async ask(request: string): Promise<ReturnType<typeof parseResponses>[number]> {
    this.sock.write(request);
    const until = Date.now() + 10_000;
    for (;;) {
      const [first] = parseResponses(this.buf);
      if (first !== undefined) {
        this.buf = this.buf.subarray(first.raw.length);
        return first;
      }
      if (Date.now() > until) throw new Error('no answer within 10 s');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
    }
  }
}

test('two server threads, 16 clients: exactly one If-Match PUT wins each of 150 rounds', async () => {
  const server = await startServer(['--threads', '2', '--memory', '64MiB', '--max-keys', '10000']);
  const conns: Conn[] = [];
  try {
    const metrics = new Conn(server.port);
    // SO_REUSEPORT spreads connections over the threads: open clients until both threads hold some
    for (let tries = 0; tries < 8; tries++) {
      for (let i = 0; i < 16; i++) conns.push(new Conn(server.port));
      await Promise.all(conns.map((c) => c.ask(req('GET', '/healthz'))));
      const text = (await metrics.ask(req('GET', '/metrics'))).body.toString();
      const open = [0, 1].map((t) =>
        Number(new RegExp(`^stripecache_connections_open\\{thread="${t}"\\} (\\d+)$`, 'm').exec(text)?.[1]),
      );
      if (open[0]! >= 2 && open[1]! >= 2) break;
    }
    assert.equal((await conns[0]!.ask(req('PUT', '/store/race/http', {}, 'start'))).status, 201);
    const rounds = 150;
    let value = 'start';
    for (let round = 0; round < rounds; round++) {
      const etag = (await conns[0]!.ask(req('GET', '/get/race/http'))).headers.get('etag')!;
      const answers = await Promise.all(
        conns.map((c, i) => c.ask(req('PUT', '/store/race/http', { 'If-Match': etag }, `${round}:${i}`))),
      );
      const won = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
      assert.equal(won.length, 1, `round ${round}: winners ${won.join(',')}`);
      for (const a of answers) assert.ok(a.status === 200 || a.status === 412, `status ${a.status}`);
      value = `${round}:${won[0]!}`;
      const now = await conns[0]!.ask(req('GET', '/get/race/http'));
      assert.equal(now.body.toString(), value);
    }
    const text = (await metrics.ask(req('GET', '/metrics'))).body.toString();
    // both threads took part in the writes
    for (const t of [0, 1]) {
      assert.match(
        text,
        new RegExp(
          `^stripecache_thread_http_requests_total\\{thread="${t}",route="store",status="412"\\} \\d+$`,
          'm',
        ),
      );
    }
    metrics.sock.destroy();
  } finally {
    for (const c of conns) c.sock.destroy();
    await server.stop();
  }
});
