import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DEPLOY,
  checkBalancer,
  startNode,
  startOnFreePort,
  startProc,
  waitForStatus,
  which,
  type CacheNode,
  type Proc,
} from '../helpers/cluster.js';

/**
 * deploy/nginx/nginx.conf.template, filled by envsubst exactly as the file's header says, in front
 * of three nodes on loopback. nginx runs in the foreground with its prefix, pid and logs in a temp dir.
 */

const NGINX = which('nginx');
const ENVSUBST = which('envsubst');
const skip =
  NGINX === null
    ? 'nginx is not installed (CI installs it: apt-get install nginx-light)'
    : ENVSUBST === null
      ? 'envsubst is not installed (package gettext-base)'
      : false;

const VARS = '${STRIPECACHE_LISTEN} ${STRIPECACHE_NODE1} ${STRIPECACHE_NODE2} ${STRIPECACHE_NODE3}';
const TEMPLATE = path.join(DEPLOY, 'nginx/nginx.conf.template');

let nodes: CacheNode[] = [];
let nginx: Proc | undefined;
let front = '';
let dir = '';

function render(env: Record<string, string>): string {
  const r = spawnSync(ENVSUBST!, [VARS], { input: readFileSync(TEMPLATE), env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

async function startNginx(): Promise<void> {
  const started = await startOnFreePort('nginx', (listen) => {
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      render({
        STRIPECACHE_LISTEN: listen,
        STRIPECACHE_NODE1: nodes[0]!.addr,
        STRIPECACHE_NODE2: nodes[1]!.addr,
        STRIPECACHE_NODE3: nodes[2]!.addr,
      }),
    );
    return startProc(NGINX!, [
      '-p',
      dir,
      '-c',
      conf,
      '-e',
      'stderr',
      '-g',
      `daemon off; master_process on; pid ${path.join(dir, 'nginx.pid')}; error_log stderr warn;`,
    ]);
  });
  nginx = started.proc;
  front = `http://${started.listen}`;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'stripecache-nginx-'));
  nodes = await Promise.all([0, 1, 2].map(() => startNode(['--memory', '32MiB'])));
  await startNginx();
  await waitForStatus(`${front}/healthz`, 200, 10000, () => nginx!.output());
});

after(async () => {
  // SIGQUIT: nginx's graceful stop (SIGTERM is its fast stop); either ends master and workers.
  await nginx?.stop('SIGQUIT');
  await Promise.all(nodes.map((n) => n.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('nginx template: envsubst fills only the listed variables, nginx $variables survive', { skip }, () => {
  const text = render({
    STRIPECACHE_LISTEN: '192.0.2.1:8080',
    STRIPECACHE_NODE1: '192.0.2.11:3000',
    STRIPECACHE_NODE2: '192.0.2.12:3000',
    STRIPECACHE_NODE3: '192.0.2.13:3000',
  });
  assert.match(text, /listen 192\.0\.2\.1:8080;/);
  for (const n of [11, 12, 13]) assert.match(text, new RegExp(`server 192\\.0\\.2\\.${n}:3000 `));
  assert.match(text, /hash \$stripecache_key consistent;/);
  assert.match(text, /map \$request_uri \$stripecache_key/);
  assert.doesNotMatch(text, /\$\{STRIPECACHE_/);
});

test(
  'nginx template: keys spread over three nodes, one node each, survive the loss of another',
  { skip },
  async () => {
    await checkBalancer(front, nodes, assert);
  },
);
