import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEPLOY, which } from '../helpers/cluster.js';
import { durationMs } from '../helpers/deploy-files.js';

/**
 * No cluster here: the manifests are parsed and their cross-references checked (what kubectl would
 * only find out at apply time, or what would silently route nothing).
 */

type Obj = Record<string, unknown>;

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(path.join(DEPLOY, 'kubernetes', file), 'utf8'));
  return docs.map((d) => {
    assert.deepEqual(d.errors, [], `${file}: YAML errors`);
    return d.toJS() as Obj;
  });
}

/** Walks a dotted path through nested objects; fails the test when a step is missing. */
function at<T = unknown>(o: unknown, p: string): T {
  let cur: unknown = o;
  for (const step of p.split('.')) {
    assert.ok(cur !== null && typeof cur === 'object' && step in cur, `missing ${p} (at ${step})`);
    cur = (cur as Obj)[step];
  }
  return cur as T;
}

function find(docs: Obj[], kind: string, name: string): Obj {
  const d = docs.find((x) => x['kind'] === kind && at(x, 'metadata.name') === name);
  assert.ok(d, `no ${kind} ${name}`);
  return d;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { resourceFieldRef?: Obj } }[];
  readinessProbe?: Obj;
  livenessProbe?: Obj;
  resources?: { limits?: Record<string, string> };
}

const cacheDocs = load('stripecache.yaml');
const lbDocs = load('haproxy.yaml');
const sts = find(cacheDocs, 'StatefulSet', 'stripecache');
const headless = find(cacheDocs, 'Service', at<string>(sts, 'spec.serviceName'));
const cache = at<Container[]>(sts, 'spec.template.spec.containers')[0]!;
const cachePort = (name: string) => cache.ports.find((p) => p.name === name)?.containerPort;

test('kubernetes: headless Service selects the StatefulSet pods on their http port', () => {
  assert.equal(at(headless, 'spec.clusterIP'), 'None');
  const labels = at<Record<string, string>>(sts, 'spec.template.metadata.labels');
  assert.ok(selects(at(sts, 'spec.selector.matchLabels'), labels), 'StatefulSet selector misses its pods');
  assert.ok(selects(at(headless, 'spec.selector'), labels), 'Service selector misses the pods');
  for (const p of at<{ targetPort: string | number }[]>(headless, 'spec.ports')) {
    const target = typeof p.targetPort === 'number' ? p.targetPort : cachePort(p.targetPort);
    assert.ok(
      cache.ports.some((c) => c.containerPort === target),
      `Service targets port ${p.targetPort}`,
    );
  }
});

test('kubernetes: probes ask /healthz on a declared port; Prometheus scrapes /metrics there', () => {
  for (const probe of [cache.readinessProbe, cache.livenessProbe]) {
    assert.equal(at(probe, 'httpGet.path'), '/healthz');
    assert.ok(cachePort(at(probe, 'httpGet.port')) !== undefined, 'probe port is not a container port');
  }
  const ann = at<Record<string, string>>(sts, 'spec.template.metadata.annotations');
  assert.equal(ann['prometheus.io/scrape'], 'true');
  assert.equal(ann['prometheus.io/path'], '/metrics');
  assert.equal(Number(ann['prometheus.io/port']), cachePort('http'));
  const args = cache.args ?? [];
  assert.equal(args[args.indexOf('--port') + 1], String(cachePort('http')), '--port is the container port');
});

test('kubernetes: grace period above --shutdown-timeout; --memory below the memory limit', () => {
  const args = cache.args ?? [];
  const i = args.indexOf('--shutdown-timeout');
  assert.ok(i >= 0, 'no --shutdown-timeout in the args');
  const shutdownMs = durationMs(args[i + 1]!);
  const graceS = at<number>(sts, 'spec.template.spec.terminationGracePeriodSeconds');
  assert.ok(graceS * 1000 > shutdownMs, `grace ${graceS}s <= --shutdown-timeout ${args[i + 1]}`);

  assert.ok(cache.resources?.limits?.['memory'], 'no memory limit');
  const env = (cache.env ?? []).find((e) => e.valueFrom?.resourceFieldRef?.['resource'] === 'limits.memory');
  assert.ok(env, 'no variable from limits.memory');
  assert.equal(env.valueFrom!.resourceFieldRef!['containerName'], cache.name);
  assert.equal(String(env.valueFrom!.resourceFieldRef!['divisor']), '1', 'the variable must be in bytes');
  const script = (cache.command ?? []).join(' ');
  assert.match(script, new RegExp(`--memory "\\$\\(\\(${env.name} / 4 \\* 3\\)\\)"`));
  assert.match(script, /exec node dist\/main\.js/);
});

test('kubernetes: the HAProxy ConfigMap names the StatefulSet pods and is a valid HAProxy config', (t) => {
  const cm = find(lbDocs, 'ConfigMap', 'stripecache-haproxy');
  const cfg = at<Record<string, string>>(cm, 'data')['haproxy.cfg'];
  assert.ok(cfg, 'no haproxy.cfg in the ConfigMap');
  const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+):(\d+)/gm)];
  assert.ok(servers.length >= at<number>(sts, 'spec.replicas'), 'fewer server lines than replicas');
  for (const [n, [, id, host, port]] of servers.entries()) {
    assert.equal(id, `node${n}`);
    assert.equal(
      host,
      `${at(sts, 'metadata.name')}-${n}.${at(headless, 'metadata.name')}.stripecache.svc.cluster.local`,
    );
    assert.equal(Number(port), cachePort('http'));
  }
  assert.match(cfg, /balance hash var\(txn\.stripecache_key\)/);
  assert.match(cfg, /hash-type consistent sdbm avalanche/);
  assert.match(cfg, /uri \/healthz/);

  const deploy = find(lbDocs, 'Deployment', 'stripecache-haproxy');
  const lbLabels = at<Record<string, string>>(deploy, 'spec.template.metadata.labels');
  assert.ok(selects(at(deploy, 'spec.selector.matchLabels'), lbLabels));
  assert.ok(!selects(at(headless, 'spec.selector'), lbLabels), 'the cache Service would select HAProxy pods');
  const svc = find(lbDocs, 'Service', 'stripecache-lb');
  assert.ok(selects(at(svc, 'spec.selector'), lbLabels));
  const lb = at<Container[]>(deploy, 'spec.template.spec.containers')[0]!;
  const lbPort = (name: string) => lb.ports.find((p) => p.name === name)?.containerPort;
  assert.match(cfg, new RegExp(`bind :${lbPort('http')}\\n`));
  assert.match(cfg, new RegExp(`bind :${lbPort('stats')}\\n`));
  for (const p of at<{ targetPort: string }[]>(svc, 'spec.ports')) assert.ok(lbPort(p.targetPort));
  const mount = at<{ name: string; mountPath: string }[]>(lb, 'volumeMounts')[0]!;
  assert.ok((lb as unknown as { args: string[] }).args.includes(`${mount.mountPath}/haproxy.cfg`));
  const vol = at<{ name: string; configMap: { name: string } }[]>(deploy, 'spec.template.spec.volumes')[0]!;
  assert.equal(vol.name, mount.name);
  assert.equal(vol.configMap.name, 'stripecache-haproxy');

  const haproxy = which('haproxy');
  if (haproxy === null) {
    t.skip('haproxy is not installed: the ConfigMap config was not checked with haproxy -c');
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'stripecache-k8s-'));
  try {
    writeFileSync(path.join(dir, 'haproxy.cfg'), cfg);
    const r = spawnSync(haproxy, ['-c', '-f', path.join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
