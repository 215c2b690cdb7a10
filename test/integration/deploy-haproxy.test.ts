import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  DEPLOY,
  checkBalancer,
  request,
  freePort,
  sleep,
  startNode,
  startOnFreePort,
  startProc,
  waitForStatus,
  which,
  type CacheNode,
  type Proc,
} from '../helpers/cluster.js';
import { startOrigin } from '../helpers/origin-server.js';

/** deploy/haproxy/haproxy.cfg, unchanged, in front of three nodes on loopback. */

const HAPROXY = which('haproxy');
const skip = HAPROXY === null ? 'haproxy is not installed (CI installs it: apt-get install haproxy)' : false;

let nodes: CacheNode[] = [];
let haproxy: Proc | undefined;
let front = '';
let stats = '';

interface Balancer {
  proc: Proc;
  front: string;
  stats: string;
}

/** deploy/haproxy/haproxy.cfg in front of `three` nodes, once every node is UP in its checks. */
async function startHaproxy(three: readonly CacheNode[]): Promise<Balancer> {
  let statsAddr = '';
  const { proc, listen } = await startOnFreePort('haproxy', async (at) => {
    statsAddr = `127.0.0.1:${await freePort()}`;
    return startProc(HAPROXY!, ['-db', '-f', path.join(DEPLOY, 'haproxy/haproxy.cfg')], {
      STRIPECACHE_LISTEN: at,
      STRIPECACHE_STATS: statsAddr,
      STRIPECACHE_NODE1: three[0]!.addr,
      STRIPECACHE_NODE2: three[1]!.addr,
      STRIPECACHE_NODE3: three[2]!.addr,
    });
  });
  const b = { proc, front: `http://${listen}`, stats: `http://${statsAddr}/stats` };
  await allUp(b, 15000);
  return b;
}

/** Resolves once HAProxy's health checks report every node UP (so no node is still being probed). */
async function allUp(b: Balancer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let csv = '';
  while (Date.now() < deadline) {
    if (b.proc.proc.exitCode !== null) throw new Error(`haproxy exited:\n${b.proc.output()}`);
    try {
      csv = await (await fetch(`${b.stats};csv`, { signal: AbortSignal.timeout(1000) })).text();
    } catch (e) {
      // HAProxy may still be binding its listeners on a busy machine.
      csv = e instanceof Error ? e.message : String(e);
    }
    const rows = csv.split('\n').filter((l) => l.startsWith('stripecache_nodes,node'));
    if (rows.length === 3 && rows.every((r) => r.split(',')[17] === 'UP')) return;
    await sleep(100);
  }
  throw new Error(`nodes not all UP in HAProxy within ${timeoutMs} ms:\n${csv}\n${b.proc.output()}`);
}

before(async () => {
  if (skip) return;
  nodes = await Promise.all([0, 1, 2].map(() => startNode(['--memory', '32MiB'])));
  const b = await startHaproxy(nodes);
  haproxy = b.proc;
  front = b.front;
  stats = b.stats;
});

after(async () => {
  await haproxy?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
});

test('haproxy.cfg: a key hashes percent-decoded, as the node reads it', { skip }, async () => {
  await waitForStatus(`${front}/healthz`, 200, 5000, () => haproxy!.output());
  // Hashing the raw path would send about 2 in 3 of these reads to a node without the value.
  for (let i = 0; i < 30; i++) {
    const put = await request(`${front}/store/encoded%2F${i}%2Fchunk`, 'PUT', `v${i}`);
    assert.equal(put.status, 201);
  }
  for (let i = 0; i < 30; i++) {
    const get = await request(`${front}/get/encoded/${i}/chunk`);
    assert.equal(get.status, 200, `encoded/${i}/chunk stored as encoded%2F${i}%2Fchunk`);
    assert.equal(get.body, `v${i}`);
  }
});

test(
  'haproxy.cfg: keys spread over three nodes, one node each, survive the loss of another',
  { skip },
  async () => {
    await waitForStatus(`${front}/healthz`, 200, 5000, () => haproxy!.output());
    await checkBalancer(front, nodes, assert);
  },
);

test('haproxy.cfg: the stats page answers and marks a dead node DOWN', { skip }, async () => {
  // Runs after the scenario above killed node1.
  const deadline = Date.now() + 15000;
  let row = '';
  while (Date.now() < deadline) {
    const csv = await (await fetch(`${stats};csv`, { signal: AbortSignal.timeout(1000) })).text();
    row = csv.split('\n').find((l) => l.startsWith('stripecache_nodes,node1,')) ?? '';
    if (row.split(',')[17] === 'DOWN') return;
    await sleep(200);
  }
  assert.fail(`node1 not DOWN in the stats within 15 s: ${row}`);
});

test(
  'haproxy.cfg with --origin: a cold storm costs one origin request per key for the whole cluster',
  { skip },
  async () => {
    const origin = await startOrigin({ size: 4096, delayMs: 100 });
    const three = await Promise.all(
      [0, 1, 2].map(() => startNode(['--memory', '32MiB', '--origin', origin.url])),
    );
    let b: Balancer | undefined;
    try {
      b = await startHaproxy(three);
      const keys = Array.from({ length: 30 }, (_, i) => `videos/${i}/chunk-${i % 7}`);
      // Every key asked by 5 clients at once, all keys at once: cold everywhere.
      const answers = await Promise.all(
        keys.flatMap((k) => Array.from({ length: 5 }, () => request(`${b!.front}/get/${k}`))),
      );
      for (const a of answers) assert.equal(a.status, 200);
      for (const k of keys) assert.equal(await origin.requests(`/${k}`), 1, `origin requests for ${k}`);
      // Each key is stored on exactly one node: the entries of the three nodes add up to the keys.
      // (Asking a node directly for a key it lacks would fetch it: read-through.)
      let entries = 0;
      for (const n of three) {
        const text = (await request(`http://${n.addr}/metrics`)).body;
        const m = /^stripecache_cache_entries (\d+)$/m.exec(text);
        assert.ok(m, `stripecache_cache_entries in /metrics of ${n.addr}:\n${text.slice(0, 300)}`);
        entries += Number(m[1]);
      }
      assert.equal(entries, keys.length);
    } finally {
      await b?.proc.stop();
      await Promise.all(three.map((n) => n.stop()));
      await origin.stop();
    }
  },
);
