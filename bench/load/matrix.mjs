#!/usr/bin/env node
// npm run bench:matrix: stripecache's tuning matrix, --threads x --stripes x --concurrency-limit
// (server side, one server start per combination and workload) x wrk connections x pipelining
// depth (client side, measured against the same running server). Prints the best configuration
// per workload and writes bench/results/matrix-latest.{md,json,svg} and matrix-history.jsonl.
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { WORKLOADS, WORKLOAD_IDS } from '../lib/workloads.mjs';
import { SERVER_NAMES, ensurePeers, unavailableReason, ROOT } from '../lib/servers.mjs';
import { wrkMissing } from '../lib/wrk.mjs';
import { machineInfo, cpuSplit, shellJoin } from '../lib/machine.mjs';
import { launch, measureLoad } from '../lib/measure.mjs';
import { heatMaps, fmt } from '../lib/svg.mjs';
import { NOT_SHOWN } from '../lib/stats.mjs';

const MODES = {
  quick: {
    threads: [1, 2],
    stripes: [1, 256],
    climit: [250],
    connections: [64],
    pipeline: [1, 16],
    workloads: ['get64', 'mixed'],
    durationS: 2,
    warmupS: 1,
  },
  full: {
    threads: [1, 2],
    stripes: [1, 16, 256],
    climit: [32, 250],
    connections: [16, 64, 256],
    pipeline: [1, 16],
    workloads: ['get64', 'mixed', 'zipf'],
    durationS: 3,
    warmupS: 1,
  },
};

const HELP = `usage: npm run bench:matrix -- [--quick] [options]

  --quick                  small grid, under 3 minutes on 2 cores (default: full grid, under 20 minutes)
  --threads 1,2            stripecache --threads values
  --stripes 1,16,256       stripecache --stripes values
  --concurrency-limit L    stripecache --concurrency-limit values, e.g. 32,250
  --connections 16,64,256  wrk connection counts
  --pipeline 1,16          pipelining depths (get64 and mixed; other workloads run at depth 1)
  --workloads a,b          subset of: ${WORKLOAD_IDS.join(', ')}
  --duration S             measured seconds per cell (quick 2, full 3)
  --warmup S               warm-up seconds per cell (1)
  --server NAME            run the client-side grid against a peer instead (server flags ignored)
  --no-pin, --server-cpus LIST, --wrk-cpus LIST, --wrk-threads N   as for npm run bench
  --out DIR, --no-save, --note TEXT`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      threads: { type: 'string' },
      stripes: { type: 'string' },
      'concurrency-limit': { type: 'string' },
      connections: { type: 'string' },
      pipeline: { type: 'string' },
      workloads: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      server: { type: 'string', default: 'stripecache' },
      'no-pin': { type: 'boolean', default: false },
      'server-cpus': { type: 'string' },
      'wrk-cpus': { type: 'string' },
      'wrk-threads': { type: 'string' },
      note: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results') },
      'no-save': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const mode = values.quick ? 'quick' : 'full';
  const m = MODES[mode];
  const nums = (v, d, what) => {
    if (v === undefined) return d;
    const xs = v.split(',').map(Number);
    if (xs.some((x) => !(x > 0))) throw new Error(`--${what} needs positive numbers, got "${v}"`);
    return xs;
  };
  const workloads = values.workloads ? values.workloads.split(',') : m.workloads;
  for (const w of workloads) if (!WORKLOAD_IDS.includes(w)) throw new Error(`unknown workload "${w}"`);
  if (!SERVER_NAMES.includes(values.server)) throw new Error(`unknown server "${values.server}"`);
  return {
    help: values.help,
    mode,
    threads: nums(values.threads, m.threads, 'threads'),
    stripes: nums(values.stripes, m.stripes, 'stripes'),
    climit: nums(values['concurrency-limit'], m.climit, 'concurrency-limit'),
    connections: nums(values.connections, m.connections, 'connections'),
    pipeline: nums(values.pipeline, m.pipeline, 'pipeline'),
    workloads,
    durationS: values.duration ? Number(values.duration) : m.durationS,
    warmupS: values.warmup ? Number(values.warmup) : m.warmupS,
    server: values.server,
    pin: !values['no-pin'],
    serverCpus: values['server-cpus'],
    wrkCpus: values['wrk-cpus'],
    wrkThreads: values['wrk-threads'] ? Number(values['wrk-threads']) : null,
    note: values.note,
    out: path.resolve(values.out),
    save: !values['no-save'],
  };
}

const PIPELINABLE = new Set(['get64', 'mixed', 'pipelined', 'get4k']);

async function main() {
  let o;
  try {
    o = options();
  } catch (e) {
    console.error(`bench:matrix: ${e.message}\n\n${HELP}`);
    process.exit(2);
  }
  if (o.help) return console.log(HELP);
  const missing = wrkMissing();
  if (missing) {
    console.error(`bench:matrix: ${missing}`);
    process.exit(1);
  }
  const split = cpuSplit(o);
  if (split?.error) {
    console.error(`bench:matrix: ${split.error}`);
    process.exit(2);
  }
  if (o.server !== 'stripecache') ensurePeers();
  const why = unavailableReason(o.server);
  if (why) {
    console.error(`bench:matrix: cannot run ${o.server}: ${why}`);
    process.exit(1);
  }
  const machine = machineInfo();
  const wrkThreads = o.wrkThreads ?? (split ? split.wrk.length : Math.max(1, Math.floor(machine.cores / 2)));
  const product = o.server === 'stripecache';
  const serverConfigs = [];
  for (const t of product ? o.threads : [1])
    for (const s of product ? o.stripes : [0])
      for (const c of product ? o.climit : [0]) serverConfigs.push({ threads: t, stripes: s, climit: c });
  const sLabel = (x) =>
    product ? `threads ${x.threads}, stripes ${x.stripes}, limit ${x.climit}` : o.server;
  const cLabel = (x) => `c${x.connections} p${x.pipeline}`;
  const started = Date.now();
  const cellCount = o.workloads.reduce(
    (a, w) => a + serverConfigs.length * o.connections.length * (PIPELINABLE.has(w) ? o.pipeline.length : 1),
    0,
  );
  console.log(
    `bench:matrix (${o.mode}): ${cellCount} cells, ${o.durationS} s each; ${machine.cores} cores, Node ${machine.node}; ` +
      (split
        ? `server on CPU ${split.server.join(',')}, wrk on CPU ${split.wrk.join(',')} (taskset)`
        : 'no pinning'),
  );
  const cells = [];
  let n = 0;
  for (const wid of o.workloads) {
    const w = WORKLOADS.find((x) => x.id === wid);
    const pipelines = PIPELINABLE.has(wid) ? o.pipeline : [1];
    for (const sc of serverConfigs) {
      const serverArgs = product
        ? ['--stripes', String(sc.stripes), '--concurrency-limit', String(sc.climit)]
        : [];
      let srv;
      try {
        srv = await launch(o.server, w, { cpus: split?.server ?? null, threads: sc.threads, serverArgs });
      } catch (e) {
        console.log(`${wid} ${sLabel(sc)}: skipped: ${e.message.split('\n')[0]}`);
        for (const connections of o.connections)
          for (const pipeline of pipelines)
            cells.push({
              workload: wid,
              ...sc,
              connections,
              pipeline,
              ok: false,
              reason: e.message.slice(0, 200),
            });
        continue;
      }
      try {
        for (const connections of o.connections) {
          for (const pipeline of pipelines) {
            n++;
            const cfg = { workload: wid, ...sc, connections, pipeline };
            try {
              const r = await measureLoad(srv, w, {
                connections,
                depth: pipeline,
                durationS: o.durationS,
                warmupS: o.warmupS,
                wrkThreads,
                wrkCpus: split?.wrk ?? null,
                seed: n,
              });
              cells.push({ ...cfg, ...r });
              console.log(
                `[${n}/${cellCount}] ${wid} ${sLabel(sc)}, ${cLabel(cfg)}: ${fmt(r.rps)} req/s, p99 ${r.p99ms.toFixed(2)} ms` +
                  (r.errors + r.non2xx ? `, errors ${r.errors} non-2xx ${r.non2xx}` : ''),
              );
            } catch (e) {
              console.log(`[${n}/${cellCount}] ${wid} ${sLabel(sc)}, ${cLabel(cfg)}: failed: ${e.message}`);
              cells.push({ ...cfg, ok: false, reason: e.message.slice(0, 200) });
            }
          }
        }
      } finally {
        await srv.stop();
      }
    }
  }
  const elapsedS = Math.round((Date.now() - started) / 1000);
  const date = new Date().toISOString();
  const lines = [];
  const panels = [];
  const best = [];
  for (const wid of o.workloads) {
    const w = WORKLOADS.find((x) => x.id === wid);
    const mine = cells.filter((c) => c.workload === wid && c.ok);
    if (mine.length === 0) continue;
    mine.sort((a, b) => b.rps - a.rps);
    const top = mine[0];
    const close = mine.filter((c) => c !== top && c.rps >= top.rps * (1 - NOT_SHOWN));
    best.push({ workload: wid, title: w.title, ...pick(top), equivalent: close.map(pick) });
    lines.push(`## ${w.title}\n`);
    lines.push(
      `Best: **${sLabel(top)}, ${cLabel(top)}**: ${fmt(top.rps)} req/s, p99 ${top.p99ms.toFixed(2)} ms` +
        (close.length
          ? ` (${close.length} other configuration(s) within 15%, i.e. not shown to differ)`
          : '') +
        '\n',
    );
    lines.push(
      '| server configuration | client | req/s | p50 ms | p99 ms | server CPU s /100k | errors | non-2xx |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of mine) {
      lines.push(
        `| ${sLabel(c)} | ${cLabel(c)} | ${fmt(c.rps)} | ${c.p50ms.toFixed(2)} | ${c.p99ms.toFixed(2)} | ${c.cpuPer100k.toFixed(2)} | ${c.errors} | ${c.non2xx} |`,
      );
    }
    lines.push('');
    const cols = [];
    for (const connections of o.connections)
      for (const pipeline of PIPELINABLE.has(wid) ? o.pipeline : [1]) cols.push({ connections, pipeline });
    panels.push({
      title: w.title,
      rows: serverConfigs.map(sLabel),
      cols: cols.map(cLabel),
      values: serverConfigs.map((sc) =>
        cols.map((cc) => {
          const c = mine.find(
            (x) =>
              x.threads === sc.threads &&
              x.stripes === sc.stripes &&
              x.climit === sc.climit &&
              x.connections === cc.connections &&
              x.pipeline === cc.pipeline,
          );
          return c ? c.rps : NaN;
        }),
      ),
    });
  }
  console.log(
    '\nBest configuration per workload (highest req/s; others within 15% are not shown to differ):',
  );
  for (const b of best) {
    console.log(
      `  ${b.workload.padEnd(9)} ${product ? `--threads ${b.threads} --stripes ${b.stripes} --concurrency-limit ${b.climit}` : o.server}` +
        `, wrk -c ${b.connections}, pipeline ${b.pipeline}: ${fmt(b.rps)} req/s, p99 ${b.p99ms.toFixed(2)} ms` +
        (b.equivalent.length ? ` (+${b.equivalent.length} within 15%)` : ''),
    );
  }
  console.log(`matrix took ${elapsedS} s`);
  if (!o.save) return;
  mkdirSync(o.out, { recursive: true });
  const header = [
    `# Tuning matrix (${o.mode})`,
    '',
    `- Date: ${date}; took ${elapsedS} s`,
    `- Machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.kernel}; load average at start ${machine.loadavg.join(' / ')}`,
    `- Command: \`npm run bench:matrix${process.argv.length > 2 ? ' -- ' + shellJoin(process.argv.slice(2)) : ''}\``,
    `- ${o.durationS} s per cell after ${o.warmupS} s warm-up, one repeat: single cells swing ±20-35%, so rank only what differs by more than 15%; ` +
      (split
        ? `server on CPU ${split.server.join(',')}, wrk on CPU ${split.wrk.join(',')} (taskset)`
        : 'no pinning') +
      `; wrk ${wrkThreads} thread(s)`,
    o.note ? `- Note: ${o.note}` : '',
    '',
    '![matrix heat map](matrix-latest.svg)',
    '',
  ].join('\n');
  writeFileSync(path.join(o.out, 'matrix-latest.md'), header + '\n' + lines.join('\n') + '\n');
  writeFileSync(
    path.join(o.out, 'matrix-latest.json'),
    JSON.stringify({ date, machine, mode: o.mode, best, cells }, null, 1) + '\n',
  );
  writeFileSync(
    path.join(o.out, 'matrix-latest.svg'),
    heatMaps({
      title: `stripecache tuning matrix (${o.mode}): req/s`,
      subtitle: `${date.slice(0, 16).replace('T', ' ')} UTC, ${machine.cores} cores ${machine.cpu}, Node ${machine.node}; rows: server flags, columns: wrk connections (c) and pipelining (p); best outlined`,
      unit: 'req/s',
      panels,
    }),
  );
  appendFileSync(
    path.join(o.out, 'matrix-history.jsonl'),
    JSON.stringify({ date, machine, mode: o.mode, elapsedS, best }) + '\n',
  );
  console.log(
    `wrote ${['matrix-latest.md', 'matrix-latest.json', 'matrix-latest.svg', 'matrix-history.jsonl'].map((f) => path.relative(process.cwd(), path.join(o.out, f))).join(', ')}`,
  );
}

function pick(c) {
  return {
    threads: c.threads,
    stripes: c.stripes,
    climit: c.climit,
    connections: c.connections,
    pipeline: c.pipeline,
    rps: c.rps,
    p99ms: c.p99ms,
  };
}

await main();
