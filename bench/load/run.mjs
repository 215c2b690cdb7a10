#!/usr/bin/env node
// npm run bench: stripecache and its peers under the seven workloads of issue 5, interleaved and
// repeated; prints the comparison table and writes bench/results/latest.{md,json}, SVG charts and
// history.jsonl. See bench/README.md for every option.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WORKLOADS, WORKLOAD_IDS } from '../lib/workloads.mjs';
import {
  SERVER_NAMES,
  ensurePeers,
  unavailableReason,
  serverVersion,
  stripecacheNodeVersion,
  ROOT,
} from '../lib/servers.mjs';
import { wrkMissing } from '../lib/wrk.mjs';
import { machineInfo, cpuSplit } from '../lib/machine.mjs';
import { launch, measureLoad } from '../lib/measure.mjs';
import { aggregate, consoleTable, writeRunResults, NOISE_NOTE } from '../lib/report.mjs';
import { fmt } from '../lib/svg.mjs';
import { shellJoin } from '../lib/machine.mjs';

const HELP = `usage: npm run bench -- [options]

  --quick               one repeat, 2 s per cell, 1 s warm-up (about 3 minutes for everything)
  --repeat N            repeats of every (workload, server) cell, interleaved (default 3; claims need 5+)
  --duration S          measured seconds per cell (default 5)
  --warmup S            unmeasured seconds before each measurement (default 1)
  --workloads a,b       subset of: ${WORKLOAD_IDS.join(', ')}
  --servers a,b         subset of: ${SERVER_NAMES.join(', ')}
  --connections N       wrk connections for every workload (default: per workload)
  --threads N           stripecache --threads (default: the number of server CPUs)
  --sc-args "FLAGS"     extra stripecache flags, e.g. "--stripes 64 --concurrency-limit 500"
  --sc-node PATH        the Node binary stripecache runs on (default: this one; the peers always
                        run on this one, e.g. uWebSockets.js, which has no Node 24 build)
  --no-pin              do not pin with taskset (machines with more cores, or no taskset)
  --server-cpus LIST    CPUs for the server when pinning (default: lower half, "0" on 2 cores)
  --wrk-cpus LIST       CPUs for wrk when pinning (default: upper half, "1" on 2 cores)
  --wrk-threads N       wrk threads (default: number of wrk CPUs)
  --seed N              seed of the request streams (default 1)
  --note TEXT           remark stored with the results (e.g. "machine busy with builds")
  --out DIR             results folder (default bench/results)
  --no-save             print only
  --rerender            rebuild latest.{md,json} and the SVGs from latest.json's run and its
                        raw/<run>.jsonl cells (after a change to the report format), without running
  -h, --help`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      repeat: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      workloads: { type: 'string' },
      servers: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      'sc-args': { type: 'string', default: '' },
      'sc-node': { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      'server-cpus': { type: 'string' },
      'wrk-cpus': { type: 'string' },
      'wrk-threads': { type: 'string' },
      seed: { type: 'string', default: '1' },
      note: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results') },
      'no-save': { type: 'boolean', default: false },
      rerender: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const list = (v, all, what) => {
    if (!v) return all;
    const xs = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const x of xs)
      if (!all.includes(x)) throw new Error(`unknown ${what} "${x}" (known: ${all.join(', ')})`);
    return xs;
  };
  const int = (v, d, what) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${what} needs a positive number, got "${v}"`);
    return n;
  };
  return {
    help: values.help,
    repeat: int(values.repeat, values.quick ? 1 : 3, 'repeat'),
    durationS: int(values.duration, values.quick ? 2 : 5, 'duration'),
    warmupS: values.warmup === '0' ? 0 : int(values.warmup, 1, 'warmup'),
    workloads: list(values.workloads, WORKLOAD_IDS, 'workload'),
    servers: list(values.servers, SERVER_NAMES, 'server'),
    connections: values.connections ? int(values.connections, 0, 'connections') : null,
    threads: values.threads ? int(values.threads, 1, 'threads') : null,
    scArgs: values['sc-args'].split(/\s+/).filter(Boolean),
    scNode: values['sc-node'],
    pin: !values['no-pin'],
    serverCpus: values['server-cpus'],
    wrkCpus: values['wrk-cpus'],
    wrkThreads: values['wrk-threads'] ? int(values['wrk-threads'], 1, 'wrk-threads') : null,
    seed: int(values.seed, 1, 'seed'),
    note: values.note,
    out: path.resolve(values.out),
    save: !values['no-save'],
    rerender: values.rerender,
  };
}

function rerender(out) {
  const { run } = JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8'));
  const cells = readFileSync(path.join(out, 'raw', `${run.id}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const servers = SERVER_NAMES.filter((s) => cells.some((c) => c.server === s));
  const workloads = WORKLOADS.filter((w) => cells.some((c) => c.workload === w.id));
  const rows = aggregate(cells, workloads, servers);
  console.log(consoleTable(rows));
  const files = writeRunResults(out, run, cells, rows, workloads, servers, { history: false });
  console.log(`\nrewrote:\n  ${files.map((f) => path.relative(process.cwd(), f)).join('\n  ')}`);
}

function peerVersions() {
  const v = {};
  try {
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'bench/peers/package-lock.json'), 'utf8'));
    v.fastify = lock.packages['node_modules/fastify']?.version;
    v.uws = lock.packages['node_modules/@trufflesuite/uws-js-unofficial']?.version;
  } catch {
    // versions are informative only
  }
  return v;
}

async function main() {
  let o;
  try {
    o = options();
  } catch (e) {
    console.error(`bench: ${e.message}\n\n${HELP}`);
    process.exit(2);
  }
  if (o.help) {
    console.log(HELP);
    return;
  }
  if (o.rerender) return rerender(o.out);
  const missing = wrkMissing();
  if (missing) {
    console.error(`bench: ${missing}`);
    process.exit(1);
  }
  const split = cpuSplit(o);
  if (split?.error) {
    console.error(`bench: ${split.error}`);
    process.exit(2);
  }
  const machine = machineInfo();
  const threads = o.threads ?? (split ? split.server.length : machine.cores);
  const wrkThreads = o.wrkThreads ?? (split ? split.wrk.length : Math.max(1, Math.floor(machine.cores / 2)));
  const skips = [];
  if (o.servers.some((s) => s !== 'stripecache')) {
    const err = ensurePeers();
    if (err) console.log(`bench: ${err}; peers will be skipped`);
  }
  let servers = [];
  for (const s of o.servers) {
    const why = unavailableReason(s);
    if (why) {
      console.log(`bench: skipping ${s}: ${why}`);
      skips.push(`${s}: ${why}`);
    } else servers.push(s);
  }
  const workloads = WORKLOADS.filter((w) => o.workloads.includes(w.id));
  if (o.scNode) process.env.STRIPECACHE_BENCH_NODE = path.resolve(o.scNode);
  const versions = {
    ...peerVersions(),
    bun: servers.includes('bun') ? serverVersion('bun') : null,
    stripecacheNode: stripecacheNodeVersion(),
  };
  const run = {
    id: new Date().toISOString().replace(/[:.]/g, '-'),
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + shellJoin(process.argv.slice(2)) : ''}`,
    machine,
    versions,
    config: {
      repeat: o.repeat,
      durationS: o.durationS,
      warmupS: o.warmupS,
      pin: split,
      threads,
      wrkThreads,
      scArgs: o.scArgs,
      seed: o.seed,
      connections: Object.fromEntries(workloads.map((w) => [w.id, o.connections ?? w.connections])),
    },
    skips,
    noisy: [
      o.note,
      machine.loadavg[0] > 0.5 ? `load average ${machine.loadavg[0]} at start: other work was running` : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
  console.log(
    `bench: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.kernel}; ` +
      (split
        ? `server pinned to CPU ${split.server.join(',')}, wrk to CPU ${split.wrk.join(',')} (taskset)`
        : 'no pinning') +
      `; stripecache --threads ${threads}; wrk -t${wrkThreads}`,
  );
  console.log(
    `bench: ${workloads.length} workloads × ${servers.length} servers × ${o.repeat} repeats, ${o.durationS} s each (+${o.warmupS} s warm-up)`,
  );
  const cells = [];
  const dead = new Map(); // server -> reason it could not start at all
  const total = workloads.length * servers.length * o.repeat;
  let n = 0;
  for (let rep = 1; rep <= o.repeat; rep++) {
    for (const [wi, w] of workloads.entries()) {
      // Rotate the order each time so that no server always runs first (or last) on a warm machine.
      const k = (rep + wi) % servers.length;
      const order = [...servers.slice(k), ...servers.slice(0, k)];
      for (const s of order) {
        n++;
        const tag = `[${n}/${total}] ${w.id.padEnd(9)} ${s.padEnd(11)} rep ${rep}`;
        if (dead.has(s)) {
          cells.push({ server: s, workload: w.id, rep, ok: false, reason: dead.get(s) });
          continue;
        }
        let srv;
        const t0 = performance.now();
        try {
          srv = await launch(s, w, {
            cpus: split?.server ?? null,
            threads,
            serverArgs: s === 'stripecache' ? o.scArgs : [],
          });
        } catch (e) {
          const reason = e.message.split('\n')[0].slice(0, 300);
          console.log(`${tag}: skipped: ${reason}`);
          if (/exited|listening/.test(reason)) dead.set(s, reason);
          cells.push({ server: s, workload: w.id, rep, ok: false, reason });
          continue;
        }
        try {
          const cell = await measureLoad(srv, w, {
            connections: o.connections ?? w.connections,
            durationS: o.durationS,
            warmupS: o.warmupS,
            wrkThreads,
            wrkCpus: split?.wrk ?? null,
            seed: o.seed + rep,
          });
          Object.assign(cell, {
            server: s,
            workload: w.id,
            rep,
            setupS: (performance.now() - t0) / 1000 - cell.seconds,
          });
          cells.push(cell);
          const hit = Number.isFinite(cell.hitRatio) ? ` hit ${(cell.hitRatio * 100).toFixed(1)}%` : '';
          const bad = cell.errors + cell.non2xx > 0 ? ` errors ${cell.errors} non-2xx ${cell.non2xx}` : '';
          console.log(
            `${tag}: ${fmt(cell.rps)} req/s, p99 ${cell.p99ms.toFixed(2)} ms, server CPU ${(cell.serverCpuUtil * 100).toFixed(0)}%, wrk CPU ${(cell.wrkCpuUtil * 100).toFixed(0)}%${hit}${bad} (cell ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
          );
        } catch (e) {
          console.log(`${tag}: failed: ${e.message}`);
          cells.push({ server: s, workload: w.id, rep, ok: false, reason: e.message.slice(0, 300) });
        } finally {
          await srv.stop();
        }
      }
    }
  }
  for (const [s, why] of dead) skips.push(`${s}: ${why}`);
  const rows = aggregate(cells, workloads, servers);
  console.log('\n' + consoleTable(rows) + '\n');
  console.log(NOISE_NOTE);
  if (run.noisy) console.log(`Noisy: ${run.noisy}`);
  if (o.save) {
    const files = writeRunResults(o.out, run, cells, rows, workloads, servers);
    console.log(`\nwrote:\n  ${files.map((f) => path.relative(process.cwd(), f)).join('\n  ')}`);
  }
  if (!cells.some((c) => c.ok)) process.exit(1);
}

await main();
