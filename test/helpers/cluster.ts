import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Helpers for the deploy tests: cache nodes, balancers and the shipped files they run unchanged. */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = path.join(ROOT, 'deploy');
const MAIN = path.join(ROOT, 'dist/main.js');

export interface Proc {
  readonly proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or the given signal), SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface CacheNode extends Proc {
  readonly host: string;
  readonly port: number;
  readonly addr: string;
}

function wrap(proc: ChildProcess): Proc {
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = proc.exitCode !== null ? Promise.resolve() : once(proc, 'exit').then(() => undefined);
  return {
    proc,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts `node dist/main.js --port 0 ...`, resolves once it printed the address it listens on. */
export async function startNode(args: readonly string[] = [], timeoutMs = 15000): Promise<CacheNode> {
  const proc = spawn(process.execPath, [MAIN, '--port', '0', '--threads', '1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = wrap(proc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /listening on (\S+):(\d+)/.exec(p.output());
    if (m) {
      const host = m[1]!.replace(/^\[|\]$/g, '');
      const port = Number(m[2]);
      return { ...p, host, port, addr: `${host}:${port}` };
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await p.stop('SIGKILL');
      throw new Error(`cache node did not start:\n${p.output()}`);
    }
    await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A loopback port that was free a moment ago. Balancers cannot report a port they picked themselves,
 * so the caller binds this one and retries with a new port if another process took it meanwhile.
 */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  srv.close();
  await once(srv, 'close');
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** Absolute path of an executable on PATH (plus the sbin directories Debian puts daemons in), or null. */
export function which(name: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const r = spawnSync('test', ['-x', path.join(dir, name)]);
    if (r.status === 0) return path.join(dir, name);
  }
  return null;
}

/** Starts a long-running process (a balancer) and keeps its output for error messages. */
export function startProc(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd = ROOT,
): Proc {
  return wrap(
    spawn(cmd, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }),
  );
}

/**
 * Starts a load balancer listening on a free loopback port (`start` gets the address). A port
 * taken between freePort() and bind ends the process at once: then other ports are tried, three
 * times in all. Resolves once the process stayed up for a moment.
 */
export async function startOnFreePort(
  name: string,
  start: (listen: string) => Promise<Proc> | Proc,
): Promise<{ proc: Proc; listen: string }> {
  for (let attempt = 0; ; attempt++) {
    const listen = `127.0.0.1:${await freePort()}`;
    const proc = await start(listen);
    await sleep(300);
    if (proc.proc.exitCode === null) return { proc, listen };
    if (attempt === 2) throw new Error(`${name} did not start:\n${proc.output()}`);
  }
}

/** Polls `url` until it answers `status`, bounded by `timeoutMs`. */
export async function waitForStatus(url: string, status: number, timeoutMs: number, why: () => string) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === status) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (${last}):\n${why()}`);
}

export interface Answer {
  status: number;
  body: string;
}

export async function request(url: string, method = 'GET', body?: string): Promise<Answer> {
  const r = await fetch(url, { method, body, signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.text() };
}

/** The 300 hierarchical keys of the tests: similar strings, the case a weak hash spreads badly. */
export function videoKeys(count = 300): string[] {
  const keys: string[] = [];
  for (let i = 0; i < count; i++)
    keys.push(`videos/${Math.floor(i / 10)}/chunk-${String(i % 10).padStart(4, '0')}`);
  return keys;
}

/**
 * The scenario every balancer recipe must pass: keys with '/' stored and read back through the
 * balancer, each held by exactly one node (asked directly), spread over all nodes; then one node is
 * killed and every key of the others still reads back through the balancer.
 */
export async function checkBalancer(
  front: string,
  nodes: readonly CacheNode[],
  assert: {
    equal: (a: unknown, b: unknown, m?: string) => void;
    ok: (v: unknown, m?: string) => void;
  },
): Promise<void> {
  const keys = videoKeys();
  for (const key of keys) {
    const put = await request(`${front}/store/${key}`, 'PUT', `value of ${key}`);
    assert.equal(put.status, 201, `PUT ${key} through the balancer`);
  }
  for (const key of keys) {
    const get = await request(`${front}/get/${key}`);
    assert.equal(get.status, 200, `GET ${key} through the balancer`);
    assert.equal(get.body, `value of ${key}`, `value of ${key} through the balancer`);
  }
  const owner = new Map<string, number>();
  const perNode = nodes.map(() => 0);
  for (const key of keys) {
    const holders: number[] = [];
    for (const [i, node] of nodes.entries()) {
      const r = await request(`http://${node.addr}/get/${key}`);
      if (r.status === 200) holders.push(i);
      else assert.equal(r.status, 404, `GET ${key} on node ${i + 1}`);
    }
    assert.equal(holders.length, 1, `${key} is on nodes [${holders.map((i) => i + 1).join(', ')}]`);
    owner.set(key, holders[0]!);
    perNode[holders[0]!]!++;
  }
  for (const [i, n] of perNode.entries()) {
    assert.ok(
      n >= keys.length / (2 * nodes.length),
      `node ${i + 1} holds ${n} of ${keys.length} keys (spread: ${perNode.join('/')})`,
    );
  }

  const dead = 0;
  await nodes[dead]!.stop('SIGKILL');
  for (const key of keys) {
    if (owner.get(key) === dead) continue;
    const get = await request(`${front}/get/${key}`);
    assert.equal(get.status, 200, `GET ${key} (on node ${owner.get(key)! + 1}) after node ${dead + 1} died`);
    assert.equal(get.body, `value of ${key}`);
  }
}
