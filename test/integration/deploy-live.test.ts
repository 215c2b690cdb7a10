import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  DEPLOY,
  ROOT,
  freePort,
  request,
  sleep,
  startNode,
  startProc,
  type CacheNode,
} from '../helpers/cluster.js';
import { parseDockerfile } from '../helpers/deploy-files.js';

/**
 * Shipped files checked against started nodes: the Grafana dashboard, the image's HEALTHCHECK and
 * the Kubernetes container command.
 */

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

test('kubernetes: the container command starts a node with --memory at 3/4 of the memory limit', async () => {
  const docs = parseAllDocuments(readFileSync(path.join(DEPLOY, 'kubernetes/stripecache.yaml'), 'utf8'));
  const sts = docs
    .map((d) => d.toJS() as { kind: string; spec: unknown })
    .find((d) => d.kind === 'StatefulSet')!;
  const c = (sts.spec as { template: { spec: { containers: { command: string[]; args: string[] }[] } } })
    .template.spec.containers[0]!;
  // tini is the image's PID 1; here the shell line runs directly, from the repository root like /app.
  const command = c.command[0]!.endsWith('tini') && c.command[1] === '--' ? c.command.slice(2) : c.command;
  // Loopback and a free port instead of 0.0.0.0:3000; every other flag as shipped.
  const args = [...c.args];
  args[args.indexOf('--host') + 1] = '127.0.0.1';
  args[args.indexOf('--port') + 1] = '0';
  const limit = 64 * 1024 * 1024;
  const p = startProc(
    command[0]!,
    [...command.slice(1), ...args],
    { MEMORY_LIMIT_BYTES: String(limit) },
    ROOT,
  );
  try {
    const deadline = Date.now() + 15000;
    let m: RegExpExecArray | null = null;
    while (
      !(m = /listening on (\S+):(\d+)/.exec(p.output())) &&
      Date.now() < deadline &&
      p.proc.exitCode === null
    ) {
      await sleep(20);
    }
    assert.ok(m, `the container command did not start a node:\n${p.output()}`);
    const metrics = (await request(`http://${m[1]}:${m[2]}/metrics`)).body;
    assert.match(metrics, new RegExp(`^stripecache_cache_memory_budget_bytes ${(limit / 4) * 3}$`, 'm'));
  } finally {
    await p.stop();
  }
});
