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
  startProc,
  waitForStatus,
  which,
  type CacheNode,
  type Proc,
} from '../helpers/cluster.js';

/** deploy/haproxy/haproxy.cfg, unchanged, in front of three nodes on loopback. */

const HAPROXY = which('haproxy');
const skip = HAPROXY === null ? 'haproxy is not installed (CI installs it: apt-get install haproxy)' : false;

let nodes: CacheNode[] = [];
let haproxy: Proc | undefined;
let front = '';
let stats = '';

async function startHaproxy(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const listen = `127.0.0.1:${await freePort()}`;
    const statsAddr = `127.0.0.1:${await freePort()}`;
    const p = startProc(HAPROXY!, ['-db', '-f', path.join(DEPLOY, 'haproxy/haproxy.cfg')], {
      STRIPECACHE_LISTEN: listen,
      STRIPECACHE_STATS: statsAddr,
      STRIPECACHE_NODE1: nodes[0]!.addr,
      STRIPECACHE_NODE2: nodes[1]!.addr,
      STRIPECACHE_NODE3: nodes[2]!.addr,
    });
    await sleep(300);
    if (p.proc.exitCode === null) {
      haproxy = p;
      front = `http://${listen}`;
      stats = `http://${statsAddr}/stats`;
      return;
    }
    // A port taken between freePort() and bind: try others, a few times.
    if (attempt === 2) throw new Error(`haproxy did not start:\n${p.output()}`);
  }
}

/** Resolves once HAProxy's health checks report every node UP (so no node is still being probed). */
async function allUp(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let csv = '';
  while (Date.now() < deadline) {
    if (haproxy!.proc.exitCode !== null) throw new Error(`haproxy exited:\n${haproxy!.output()}`);
    try {
      csv = await (await fetch(`${stats};csv`, { signal: AbortSignal.timeout(1000) })).text();
    } catch (e) {
      // HAProxy may still be binding its listeners on a busy machine.
      csv = e instanceof Error ? e.message : String(e);
    }
    const rows = csv.split('\n').filter((l) => l.startsWith('stripecache_nodes,node'));
    if (rows.length === 3 && rows.every((r) => r.split(',')[17] === 'UP')) return;
    await sleep(100);
  }
  throw new Error(`nodes not all UP in HAProxy within ${timeoutMs} ms:\n${csv}\n${haproxy!.output()}`);
}

before(async () => {
  if (skip) return;
  nodes = await Promise.all([0, 1, 2].map(() => startNode(['--memory', '32MiB'])));
  await startHaproxy();
  await allUp(15000);
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
