// The servers under test: stripecache (dist/main.js) and the peers in bench/peers/. Each prints
// "listening on HOST:PORT"; a server that cannot start is skipped with the reason printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PEERS = path.join(ROOT, 'bench/peers');
// The `bun` package's postinstall puts the binary in bun/bin/bun.exe; where install scripts are
// disabled, the platform package's own copy is used instead.
const BUN_CANDIDATES = [
  'node_modules/bun/bin/bun.exe',
  `node_modules/@oven/bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}/bin/bun`,
  `node_modules/@oven/bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}-baseline/bin/bun`,
].map((p) => path.join(PEERS, p));
let bunPath = null;

function findBun() {
  if (bunPath !== null) return bunPath;
  const tried = [];
  for (const p of BUN_CANDIDATES) {
    if (!existsSync(p)) continue;
    const r = spawnSync(p, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status === 0) return (bunPath = p);
    tried.push(`${path.relative(ROOT, p)}: ${r.error?.message ?? r.stderr.trim().split('\n')[0]}`);
  }
  throw new Error(tried.length ? `no bun binary runs here (${tried.join('; ')})` : 'no bun binary installed');
}

export const SERVER_NAMES = ['stripecache', 'node-http', 'fastify', 'uws', 'bun'];
/**
 * Probes: not peers (no full HTTP: `npm run bench` would refuse them at its route checks), floors
 * that say what part of a cost is the runtime's. Run by bench/load/cpu.mjs and cpu-compare.mjs
 * only, on stripecache's Node binary.
 */
export const PROBE_NAMES = ['node-net'];
export const SERVER_LABELS = {
  stripecache: 'stripecache',
  'node-net': 'node:net probe (SAB views)',
  'node-http': 'node:http + Map',
  fastify: 'fastify + Map',
  uws: 'uWebSockets.js + Map',
  bun: 'Bun.serve + Map',
};

/** Installs the peers' pinned devDependencies once (npm ci); returns an error text or null. */
export function ensurePeers(log = console.log) {
  if (existsSync(path.join(PEERS, 'node_modules/.package-lock.json'))) return null;
  log('bench: installing peer servers: npm ci --prefix bench/peers');
  const r = spawnSync('npm', ['ci', '--prefix', PEERS, '--no-audit', '--no-fund'], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  return r.status === 0 ? null : `npm ci --prefix bench/peers failed (exit ${r.status})`;
}

/** Why a server cannot run here, or null. Checks what can be checked without starting it. */
export function unavailableReason(name) {
  if (name === 'stripecache') {
    return existsSync(path.join(stripecacheTree(), 'dist/main.js'))
      ? null
      : 'dist/main.js missing: run `npm run build` first';
  }
  if (PROBE_NAMES.includes(name)) return null;
  if (!SERVER_NAMES.includes(name)) return `unknown server "${name}" (known: ${SERVER_NAMES.join(', ')})`;
  if (!existsSync(path.join(PEERS, 'node_modules')))
    return 'bench/peers/node_modules missing (npm ci failed?)';
  if (name === 'bun') {
    try {
      findBun();
    } catch (e) {
      return e.message;
    }
  }
  return null;
}

export function serverVersion(name) {
  if (name === 'bun') return spawnSync(findBun(), ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? null;
  return null;
}

/**
 * The Node binary stripecache runs on: STRIPECACHE_BENCH_NODE (set by `--sc-node`), else the
 * harness's own. The peers always run on the harness's Node: uWebSockets.js ships builds for
 * some Node ABIs only, so a comparison on a newer Node runs stripecache there and the peers here.
 */
export function stripecacheNode() {
  return process.env.STRIPECACHE_BENCH_NODE || process.execPath;
}

/**
 * The checkout whose dist/main.js runs as stripecache: STRIPECACHE_BENCH_TREE (another build, for
 * before/after comparisons in bench/load/cpu-compare.mjs), else this one.
 */
export function stripecacheTree() {
  return process.env.STRIPECACHE_BENCH_TREE || ROOT;
}

/** The version of stripecacheNode(), as `node --version` prints it. */
export function stripecacheNodeVersion() {
  const bin = stripecacheNode();
  if (bin === process.execPath) return process.version;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`--sc-node ${bin}: does not run (${r.error?.message ?? r.stderr.trim()})`);
  return r.stdout.trim();
}

function command(name, { threads, args }) {
  const common = ['--port', '0', '--host', '127.0.0.1'];
  switch (name) {
    case 'stripecache':
      return [
        stripecacheNode(),
        [
          ...(args.nodeFlags ?? []),
          path.join(stripecacheTree(), 'dist/main.js'),
          ...common,
          '--threads',
          String(threads),
          ...args.server,
        ],
      ];
    case 'bun':
      return [findBun(), [path.join(PEERS, 'bun.mjs'), ...common]];
    case 'node-net':
      return [stripecacheNode(), [...(args.nodeFlags ?? []), path.join(PEERS, 'node-net.mjs'), ...common]];
    default:
      return [process.execPath, [...(args.nodeFlags ?? []), path.join(PEERS, `${name}.mjs`), ...common]];
  }
}

// Servers started here, so that Ctrl-C (or a SIGTERM to the harness) takes them down too instead
// of leaving them holding a core.
const running = new Set();
let trapped = false;
function trapSignals() {
  if (trapped) return;
  trapped = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      for (const p of running) p.kill('SIGKILL');
      process.exit(130);
    });
  }
}

/**
 * Starts a server (pinned to `cpus` with taskset when given) and resolves once it printed its
 * address. Rejects with the server's own words when it exits or stays silent for `timeoutMs`.
 */
export function startServer(
  name,
  { cpus = null, threads = 1, args = { server: [] }, timeoutMs = 20_000 } = {},
) {
  let [cmd, argv] = command(name, { threads, args });
  if (cpus) {
    argv = ['-c', cpus.join(','), cmd, ...argv];
    cmd = 'taskset';
  }
  trapSignals();
  const proc = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => {
    if (err.length < 64 * 1024) err += d;
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" line within ${timeoutMs} ms. ${err.trim()}`)),
      timeoutMs,
    );
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /listening on (\S+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) });
      }
      if (out.length > 64 * 1024) out = out.slice(-1024);
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening. ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  const stop = async (graceMs = 5000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return ready.then(
    (addr) => ({ ...addr, pid: proc.pid, proc, stop, stderr: () => err, exited }),
    async (e) => {
      proc.kill('SIGKILL');
      await exited;
      throw e;
    },
  );
}
