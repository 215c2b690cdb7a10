import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY, ROOT, freePort, request, startNode, type CacheNode } from '../helpers/cluster.js';
import { parseDockerfile } from '../helpers/deploy-files.js';

/** Shipped files checked against a started node: the Grafana dashboard and the image's HEALTHCHECK. */

let node: CacheNode;
before(async () => {
  node = await startNode(['--memory', '16MiB']);
  // Traffic first: per-route series appear in /metrics once a route has answered.
  const base = `http://${node.addr}`;
  assert.equal((await request(`${base}/store/videos/1/chunk-0001`, 'PUT', 'x')).status, 201);
  assert.equal((await request(`${base}/get/videos/1/chunk-0001`)).status, 200);
  assert.equal((await request(`${base}/get/videos/1/missing`)).status, 404);
});
after(async () => {
  await node.stop();
});

/** Metric name -> label names seen on its series in a Prometheus text exposition. */
function series(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(pair[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

test('grafana dashboard: every metric and label it queries exists in a live /metrics', async () => {
  const live = series((await request(`http://${node.addr}/metrics`)).body);
  const dash = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/stripecache.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: { definition?: string }[] };
  };
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
  for (const v of dash.templating.list)
    if (v.definition) exprs.push({ title: 'variable', expr: v.definition });
  assert.ok(exprs.length >= 6);
  // Labels Prometheus adds when it scrapes, not the node.
  const scrape = new Set(['instance', 'job']);
  for (const { title, expr } of exprs) {
    const names = [...expr.matchAll(/\bstripecache_[a-z_]+/g)].map((m) => m[0]);
    assert.ok(names.length > 0, `${title}: queries no stripecache metric`);
    for (const n of names) assert.ok(live.has(n), `${title}: ${n} is not in /metrics`);
    const labels = new Set(names.flatMap((n) => [...live.get(n)!]));
    const used = [
      ...[...expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim())),
      ...[...expr.matchAll(/([a-z_]+)(?:=~|!=|=)"/g)].map((m) => m[1]!),
    ];
    for (const l of used)
      assert.ok(scrape.has(l) || labels.has(l), `${title}: no series of ${names} has label ${l}`);
  }
});

async function healthcheck(port: number): Promise<number | null> {
  const hc = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).find(
    (i) => i.keyword === 'HEALTHCHECK',
  )!.rest;
  const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
  assert.equal(cmd[0], 'node');
  const p = spawn(process.execPath, cmd.slice(1), {
    env: { ...process.env, STRIPECACHE_PORT: String(port) },
    stdio: 'ignore',
  });
  const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
  const [code] = (await once(p, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

test('Dockerfile HEALTHCHECK: exit 0 against a serving node, 1 where nothing listens', async () => {
  assert.equal(await healthcheck(node.port), 0);
  assert.equal(await healthcheck(await freePort()), 1);
});
