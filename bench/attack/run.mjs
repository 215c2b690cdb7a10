// npm run bench:attack: hostile clients against stripecache (and nginx as the reference), one
// attack at a time on a fresh server, while a probe times fresh `GET /` requests and a sampler
// records the server's resident memory every 100 ms. See bench/attack/README.md.
//
//   node bench/attack/run.mjs [--attack NAME[,NAME]|all] [--duration 40] [--quick]
//     [--server stripecache|nginx|stripecache,nginx] [--nginx-attacks slowloris]
//     [--threads 2] [--node PATH] [--memory SIZE] [--server-arg=ARG]... [--after 20]
//     [--server-cpu 0] [--client-cpu 1] [--rss-limit 4GiB] [--out bench/results/attack-latest]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../lib/servers.mjs';
import { cpuModel } from '../lib/machine.mjs';
import { HOST, bigValue, startNginx, startStripecache } from './servers.mjs';
import { startSampler } from './rss.mjs';
import { parseProbeLines, probePhase, rssSummary } from './stats.mjs';
import { documentedBound, verdict } from './bound.mjs';
import { renderMarkdown } from './report.mjs';
import * as slowloris from './slowloris.mjs';
import * as slowread from './slowread.mjs';
import * as pipeline from './pipeline.mjs';
import * as slowbody from './slowbody.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ATTACKS = { slowloris, slowread, pipeline, slowbody };
const VALUE_BYTES = 1 << 20;

const { values: o } = parseArgs({
  options: {
    attack: { type: 'string', default: 'all' },
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    server: { type: 'string', default: 'stripecache,nginx' },
    'nginx-attacks': { type: 'string', default: 'slowloris' },
    threads: { type: 'string', default: '2' },
    node: { type: 'string', default: process.execPath },
    memory: { type: 'string' },
    'server-arg': { type: 'string', multiple: true, default: [] },
    idle: { type: 'string' },
    after: { type: 'string' },
    'server-cpu': { type: 'string', default: '0' },
    'client-cpu': { type: 'string', default: '1' },
    'rss-limit': { type: 'string', default: '4GiB' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/attack-latest') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (o.help) {
  // The usage is the comment block at the top of this file.
  const usage = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    .split('\n')
    .slice(4, 8);
  console.log(usage.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}

function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`bad size "${text}" (e.g. 64MiB)`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult = { b: 1, kib: 1024, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 }[unit];
  return Math.round(Number(m[1]) * mult);
}

function fail(msg) {
  console.error(`bench:attack: ${msg}`);
  process.exit(2);
}

const durationS = Number(o.duration ?? (o.quick ? 10 : 40));
const idleS = Number(o.idle ?? (o.quick ? 2 : 3));
const afterS = Number(o.after ?? (o.quick ? 5 : 20));
const threads = Number(o.threads);
const serverCpu = Number(o['server-cpu']);
const clientCpu = Number(o['client-cpu']);
if (![durationS, idleS, afterS].every((n) => n > 0 && n <= 600))
  fail('--duration, --idle, --after: 1 to 600 s');
if (!(Number.isInteger(threads) && threads > 0 && threads <= 64)) fail('--threads: 1 to 64');
const attackNames = o.attack === 'all' ? Object.keys(ATTACKS) : o.attack.split(',');
for (const a of attackNames)
  if (!ATTACKS[a]) fail(`unknown attack "${a}" (known: ${Object.keys(ATTACKS).join(', ')}, all)`);
const servers = o.server.split(',');
for (const s of servers)
  if (s !== 'stripecache' && s !== 'nginx') fail(`unknown server "${s}" (stripecache, nginx)`);
const nginxAttacks = o['nginx-attacks'] === 'all' ? Object.keys(ATTACKS) : o['nginx-attacks'].split(',');
const rssLimitKiB = parseSize(o['rss-limit']) / 1024;
// The store's budget: the server's own default (1 GiB) unless --memory is passed on.
const memoryBytes = o.memory ? parseSize(o.memory) : 2 ** 30;
const serverArgs = [...(o.memory ? ['--memory', o.memory] : []), ...o['server-arg']];
if (servers.includes('stripecache') && !existsSync(path.join(ROOT, 'dist/main.js')))
  fail('dist/main.js missing: run `npm run build` first (npm run bench:attack does)');
if (!existsSync(o.node)) fail(`--node ${o.node}: no such file`);

const log = (msg) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const version = (cmd, args) => {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    }).trim();
  } catch (e) {
    return ((e.stdout ?? '') + (e.stderr ?? '')).trim().split('\n')[0] || null;
  }
};

// Taken before the harness pins itself: availableParallelism() then reports one core.
const cores = os.availableParallelism();
// The harness itself (sampler, bookkeeping) shares the client core with the attackers and probe.
try {
  execFileSync('taskset', ['-pc', String(clientCpu), String(process.pid)], { stdio: 'ignore' });
} catch {
  log(`could not pin the harness to CPU ${clientCpu}; continuing unpinned`);
}

function startProbe(port) {
  const args = ['-c', String(clientCpu), process.execPath, path.join(HERE, 'probe.mjs')];
  args.push('--host', HOST, '--port', String(port), '--interval', '50', '--timeout', '2000');
  args.push('--max-seconds', String(idleS + durationS + afterS + 60));
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err = (err + c).slice(-2000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    async stop() {
      child.kill('SIGTERM');
      const t = new Promise((r) => setTimeout(r, 5000, 'timeout'));
      if ((await Promise.race([exited, t])) === 'timeout') child.kill('SIGKILL');
      await exited;
      if (err) log(`probe stderr: ${err.trim()}`);
      return parseProbeLines(out);
    },
  };
}

async function runOne(serverName, attackName) {
  const attack = ATTACKS[attackName];
  const value = bigValue(VALUE_BYTES);
  const loadBefore = os.loadavg()[0];
  const server =
    serverName === 'stripecache'
      ? await startStripecache({ node: o.node, threads, serverCpu, extraArgs: serverArgs, value })
      : await startNginx({ threads, serverCpu, value });
  log(`${serverName} / ${attackName}: ${server.banner} (pid ${server.pid})`);
  let serverExit = null;
  server.exited.then((e) => (serverExit = e));
  let aborted = null;
  let attacker = null;
  const sampler = startSampler(server.pid, 100, ([, kib]) => {
    if (!aborted && kib > rssLimitKiB) {
      aborted = `server RSS ${Math.round(kib / 1024)} MiB passed --rss-limit ${o['rss-limit']}: attack stopped early`;
      log(aborted);
      attacker?.stop();
    }
  });
  await sleep(1000); // let the preload settle before the idle window
  const probe = startProbe(server.port);
  await sleep(1000); // probe start-up and warm-up: its first probes pay for its own JIT
  const idleFrom = Date.now();
  await sleep(idleS * 1000);
  const attackFrom = Date.now();
  attacker = attack.start({ host: HOST, port: server.port, durationS, clientCpu });
  log(`  attack: ${attacker.command}`);
  // Bounded: the attack ends at its duration (the tools stop themselves too), earlier on abort
  // or if the attacker exits.
  const attackDeadline = attackFrom + durationS * 1000;
  let attackerExitedEarly = false;
  attacker.exited.then(() => (attackerExitedEarly = Date.now() < attackDeadline - 500));
  while (Date.now() < attackDeadline && !aborted && !attackerExitedEarly && !serverExit) await sleep(100);
  const attackSummary = await attacker.stop();
  const attackTo = Date.now();
  log(`  attack over after ${((attackTo - attackFrom) / 1000).toFixed(1)} s; ${afterS} s to settle`);
  const afterTo = attackTo + afterS * 1000;
  while (Date.now() < afterTo && !serverExit) await sleep(100);
  const probes = await probe.stop();
  const hwmKiB = sampler.hwmKiB();
  sampler.stop();
  const stderrTail = server.stderrTail();
  const exitedDuringRun = serverExit;
  await server.stop();
  const base = sampler.t0 - performance.now() + Date.now();
  const samples = sampler.samples.map(([t, kib]) => [Math.round(base + t), kib]);
  const windows = { idleFrom, attackFrom, attackTo, afterTo };
  const rss = { ...rssSummary(samples, windows), hwmKiB };
  const row = {
    server: serverName,
    attack: attackName,
    title: attack.title,
    params: attack.defaults,
    attacker: attackSummary,
    attackSeconds: (attackTo - attackFrom) / 1000,
    aborted,
    serverExit: exitedDuringRun ? { ...exitedDuringRun, stderrTail } : null,
    probe: {
      idle: probePhase(probes, idleFrom, attackFrom),
      attack: probePhase(probes, attackFrom, attackTo),
      after: probePhase(probes, attackTo, afterTo),
    },
    rss,
    bound:
      serverName === 'stripecache'
        ? documentedBound({ attack: attackName, params: attack.defaults, memoryBytes, threads, durationS })
        : null,
    loadavg1: { before: loadBefore, after: os.loadavg()[0] },
    // Relative to the attack's start, for plotting: [ms, KiB] and [ms, outcome, latency ms].
    rssSeries: samples.map(([t, k]) => [t - attackFrom, k]),
    probeSeries: probes.map((p) => [Math.round(p.at - attackFrom), p.outcome, p.latency]),
  };
  row.verdict = verdict(row);
  const a = row.probe.attack;
  log(
    `  probes ${a.probes}: ok ${a.ok}, timeout ${a.timeout}, failed ${a.failed}, p99 ${a.p99Ms} ms; ` +
      `RSS idle ${Math.round(rss.idleKiB / 1024)} / peak ${Math.round(rss.peakKiB / 1024)} / +${afterS}s ${Math.round(rss.afterKiB / 1024)} MiB`,
  );
  return row;
}

const startedAt = new Date();
const plan = [];
for (const a of attackNames)
  for (const s of servers) if (s === 'stripecache' || nginxAttacks.includes(a)) plan.push([s, a]);
if (plan.length === 0) fail('nothing to run (nginx only runs --nginx-attacks)');
const serverNode = version(o.node, ['--version']);
log(
  `bench:attack: ${plan.length} runs x (${idleS} s idle + ${durationS} s attack + ${afterS} s after); server Node ${serverNode}`,
);
const rows = [];
for (const [s, a] of plan) {
  try {
    rows.push(await runOne(s, a));
  } catch (e) {
    log(`${s} / ${a}: ${e.message}`);
    rows.push({ server: s, attack: a, title: ATTACKS[a].title, error: e.message });
  }
}

const result = {
  date: startedAt.toISOString(),
  command: `node bench/attack/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    cpu: cpuModel(),
    cores,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
  serverNode,
  harnessNode: process.version,
  slowhttptest: version('slowhttptest', ['-h'])?.match(/version (\S+)/)?.[1] ?? null,
  nginx: servers.includes('nginx') ? version('nginx', ['-v'])?.replace('nginx version: ', '') : null,
  options: {
    durationS,
    idleS,
    afterS,
    threads,
    serverCpu,
    clientCpu,
    memoryBytes,
    serverArgs,
    probe: { intervalMs: 50, timeoutMs: 2000, path: '/' },
    rssPeriodMs: 100,
  },
  rows,
};
mkdirSync(path.dirname(o.out), { recursive: true });
writeFileSync(`${o.out}.json`, JSON.stringify(result) + '\n');
writeFileSync(`${o.out}.md`, renderMarkdown(result));
log(`wrote ${path.relative(ROOT, o.out)}.{json,md}`);
console.log('\n' + renderMarkdown(result));
