// Aggregation of repeated cells into rows, and the Markdown / console / SVG / JSON-lines outputs.
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { median, spread, compare } from './stats.mjs';
import { barPanels, fmt } from './svg.mjs';
import { SERVER_LABELS } from './servers.mjs';

const METRICS = [
  'rps',
  'mbps',
  'p50ms',
  'p99ms',
  'p999ms',
  'cpuPer100k',
  'serverCpuUtil',
  'wrkCpuUtil',
  'peakRssMiB',
  'hitRatio',
  'lruHitRatio',
];

/** Groups cells by workload and server; medians over the repeats, min/max for req/s and p99. */
export function aggregate(cells, workloads, servers) {
  const rows = [];
  for (const w of workloads) {
    for (const s of servers) {
      const mine = cells.filter((c) => c.workload === w.id && c.server === s);
      const ok = mine.filter((c) => c.ok);
      const row = {
        workload: w.id,
        title: w.title,
        server: s,
        runs: ok.length,
        failed: mine.length - ok.length,
      };
      if (ok.length === 0) {
        row.skipped = mine.find((c) => !c.ok)?.reason ?? 'not run';
        rows.push(row);
        continue;
      }
      for (const m of METRICS) row[m] = median(ok.map((c) => c[m]));
      for (const m of ['rps', 'p99ms', 'cpuPer100k']) {
        const v = ok.map((c) => c[m]);
        row[`${m}Min`] = Math.min(...v);
        row[`${m}Max`] = Math.max(...v);
        row[`${m}Spread`] = spread(v);
      }
      row.errors = ok.reduce((a, c) => a + c.errors, 0);
      row.non2xx = ok.reduce((a, c) => a + c.non2xx, 0);
      row.notes = [...new Set(ok.flatMap((c) => c.notes ?? []))];
      rows.push(row);
    }
    const base = rows.find((r) => r.workload === w.id && r.server === 'node-http' && r.runs > 0);
    for (const r of rows.filter((x) => x.workload === w.id && x.runs > 0)) {
      r.vsNodeHttp = base ? compare(r.rps, base.rps) : { ratio: NaN, verdict: 'n/a' };
      // CPU per request is far less sensitive than req/s to a server that did not get its whole
      // core (a busy machine), so it is compared too.
      r.cpuVsNodeHttp = base
        ? compare(r.cpuPer100k, base.cpuPer100k, { lowerIsBetter: true })
        : { ratio: NaN, verdict: 'n/a' };
    }
  }
  return rows;
}

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '');
const num = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export const CLIENT_BOUND = 0.9;

function rpsCell(r) {
  const s = Number.isFinite(r.rpsSpread) ? ` ±${(r.rpsSpread * 50).toFixed(0)}%` : '';
  return `${fmt(r.rps)}${s}${r.wrkCpuUtil >= CLIENT_BOUND ? ' †' : ''}`;
}

function vsCell(c) {
  return (r) => {
    if (!r[c] || !Number.isFinite(r[c].ratio)) return '';
    if (r.server === 'node-http') return 'baseline';
    const x = `${r[c].ratio.toFixed(2)}×`;
    return r[c].verdict === 'not shown' ? `${x} (not shown)` : x;
  };
}

export const COLUMNS = [
  ['Workload', (r) => r.title],
  ['Server', (r) => SERVER_LABELS[r.server] ?? r.server],
  ['req/s (median ±half-range)', (r) => (r.runs ? rpsCell(r) : `skipped: ${r.skipped}`)],
  ['vs node:http', vsCell('vsNodeHttp')],
  ['p50 ms', (r) => (r.runs ? num(r.p50ms) : '')],
  ['p99 ms', (r) => (r.runs ? num(r.p99ms) : '')],
  ['p99.9 ms', (r) => (r.runs ? num(r.p999ms) : '')],
  ['MB/s', (r) => (r.runs ? num(r.mbps, 1) : '')],
  ['server CPU s /100k req', (r) => (r.runs ? num(r.cpuPer100k, 2) : '')],
  ['CPU/req vs node:http', vsCell('cpuVsNodeHttp')],
  ['server CPU', (r) => (r.runs ? pct(r.serverCpuUtil) : '')],
  ['wrk CPU', (r) => (r.runs ? pct(r.wrkCpuUtil) : '')],
  ['peak RSS MiB', (r) => (r.runs ? num(r.peakRssMiB, 0) : '')],
  ['errors', (r) => (r.runs ? String(r.errors) : '')],
  ['non-2xx', (r) => (r.runs ? String(r.non2xx) : '')],
  [
    'hit ratio (LRU sim)',
    (r) =>
      r.runs && Number.isFinite(r.hitRatio)
        ? `${pct(r.hitRatio)}${Number.isFinite(r.lruHitRatio) ? ` (${pct(r.lruHitRatio)})` : ''}`
        : '',
  ],
];

export function markdownTable(rows) {
  const head = `| ${COLUMNS.map((c) => c[0]).join(' | ')} |\n|${COLUMNS.map(() => ' --- ').join('|')}|\n`;
  return (
    head +
    rows
      .map((r) => `| ${COLUMNS.map((c) => String(c[1](r)).replace(/\|/g, '\\|')).join(' | ')} |`)
      .join('\n') +
    '\n'
  );
}

export function describeRun(run) {
  const m = run.machine;
  const pin = run.config.pin
    ? `server pinned to CPU ${run.config.pin.server.join(',')}, wrk to CPU ${run.config.pin.wrk.join(',')} (taskset)`
    : 'not pinned (--no-pin)';
  return [
    `- Date: ${run.date}`,
    `- Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB RAM, ${m.kernel} ${m.arch}, Node ${m.node}${run.versions.stripecacheNode && run.versions.stripecacheNode !== m.node ? ` (stripecache on Node ${run.versions.stripecacheNode}, the peers on Node ${m.node})` : ''}, wrk ${m.wrk}${run.versions.bun ? `, Bun ${run.versions.bun}` : ''}; load average at start ${m.loadavg.join(' / ')}`,
    `- Command: \`${run.command}\``,
    `- Configuration: ${run.config.repeat} repeat(s) × ${run.config.durationS} s measured after ${run.config.warmupS} s warm-up per cell, servers interleaved and restarted for every cell; ${pin}; wrk ${run.config.wrkThreads} thread(s); stripecache \`--threads ${run.config.threads}${run.config.scArgs.length ? ' ' + run.config.scArgs.join(' ') : ''}\``,
    `- Peers: node:http, fastify ${run.versions.fastify ?? '?'}, uWebSockets.js ${run.versions.uws ?? '?'}, Bun.serve, each over a \`Map\` (bench/peers/)`,
    ...run.skips.map((s) => `- Skipped: ${s}`),
  ].join('\n');
}

export const NOISE_NOTE =
  'Loopback figures swing ±20-35% between server restarts; differences under 15% are "not shown". ' +
  'A claim needs `--repeat 5` or more. "±" is half the min-max range of the repeats. ' +
  '† marks a client-bound cell (wrk used 90% or more of its CPU): the server may be faster than shown.';

export function markdownRun(run, rows) {
  return [
    `# Benchmark results`,
    '',
    describeRun(run),
    run.noisy ? `- **Noisy**: ${run.noisy}` : '',
    '',
    NOISE_NOTE,
    '',
    markdownTable(rows),
    'Columns: req/s and MB/s (request + response bytes) from wrk; latency percentiles from wrk (per pipelined batch for the pipelined workload); server CPU seconds per 100,000 requests and CPU use (100% = one core) from /proc utime+stime of the server process tree during the measured run (CPU/req vs node:http compares it, lower is better: it holds up better than req/s when the server did not get its whole core); wrk CPU near 100% means the client, not the server, was the limit; peak RSS is VmHWM (preload included); errors are socket errors and timeouts; non-2xx counts statuses ≥ 400 other than the 404 misses of the Zipf workload; hit ratio is 1 − 404s / GETs, with an exact LRU simulation of the same trace and capacity in parentheses (stripecache; for unbounded Map peers the simulation is unbounded).',
    '',
    '![req/s per server and workload](latest-rps.svg)',
    '![p99 latency per server and workload](latest-p99.svg)',
    '![server CPU per request, per server and workload](latest-cpu.svg)',
    '',
  ]
    .filter((l) => l !== null)
    .join('\n');
}

/**
 * Compact pivot for the top-level README: one row per workload, one column per server, each cell
 * "req/s · CPU s per 100k requests".
 */
export function summaryTable(run, rows, workloads, servers) {
  const head = `| Workload | ${servers.map((s) => SERVER_LABELS[s] ?? s).join(' | ')} |\n|${[0, ...servers].map(() => ' --- ').join('|')}|\n`;
  const body = workloads
    .map((w) => {
      const cells = servers.map((s) => {
        const r = rows.find((x) => x.workload === w.id && x.server === s);
        if (!r?.runs) return 'skipped';
        const hit = Number.isFinite(r.hitRatio) ? `, hit ${pct(r.hitRatio)}` : '';
        return `${fmt(r.rps)}${r.wrkCpuUtil >= CLIENT_BOUND ? ' †' : ''} · ${num(r.cpuPer100k)}${hit}`;
      });
      return `| ${w.title} | ${cells.join(' | ')} |`;
    })
    .join('\n');
  const m = run.machine;
  return (
    head +
    body +
    `\n\nreq/s (median of ${run.config.repeat}) · server CPU seconds per 100,000 requests; ${run.date.slice(0, 10)}, ` +
    `${m.cores} cores ${m.cpu}, Node ${m.node}, ${m.kernel}; \`${run.command}\`.\n`
  );
}

export function consoleTable(rows) {
  const cols = COLUMNS.filter((c) => !['MB/s'].includes(c[0]));
  const cells = [cols.map((c) => c[0]), ...rows.map((r) => cols.map((c) => String(c[1](r))))];
  const widths = cols.map((_, i) => Math.min(42, Math.max(...cells.map((row) => row[i].length))));
  return cells
    .map((row) =>
      row
        .map((v, i) => (v.length > widths[i] ? v.slice(0, widths[i] - 1) + '…' : v.padEnd(widths[i])))
        .join('  '),
    )
    .join('\n');
}

export function charts(run, rows, workloads, servers) {
  const labels = servers.map((s) => SERVER_LABELS[s] ?? s);
  const sub = `${run.date.slice(0, 16).replace('T', ' ')} UTC, ${run.machine.cores} cores ${run.machine.cpu}, Node ${run.machine.node}; medians of ${run.config.repeat}, whiskers min-max`;
  const groups = (metric, lo, hi) =>
    workloads.map((w) => ({
      title: w.title,
      bars: servers.map((s) => {
        const r = rows.find((x) => x.workload === w.id && x.server === s);
        return { label: SERVER_LABELS[s] ?? s, value: r?.runs ? r[metric] : NaN, lo: r?.[lo], hi: r?.[hi] };
      }),
    }));
  return {
    rps: barPanels({
      title: 'Requests per second (higher is better)',
      subtitle: sub,
      unit: 'req/s',
      labels,
      groups: groups('rps', 'rpsMin', 'rpsMax'),
    }),
    p99: barPanels({
      title: 'p99 latency, ms (lower is better)',
      subtitle: sub,
      unit: 'ms',
      labels,
      groups: groups('p99ms', 'p99msMin', 'p99msMax'),
    }),
    cpu: barPanels({
      title: 'Server CPU seconds per 100,000 requests (lower is better)',
      subtitle: sub,
      unit: 'CPU s',
      labels,
      groups: groups('cpuPer100k', 'cpuPer100kMin', 'cpuPer100kMax'),
    }),
  };
}

/** Writes latest.{json,md}, latest-{rps,p99}.svg, appends history.jsonl and raw/<id>.jsonl. */
export function writeRunResults(outDir, run, cells, rows, workloads, servers, { history = true } = {}) {
  mkdirSync(path.join(outDir, 'raw'), { recursive: true });
  const c = charts(run, rows, workloads, servers);
  writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ run, rows }, null, 1) + '\n');
  writeFileSync(path.join(outDir, 'latest.md'), markdownRun(run, rows));
  writeFileSync(path.join(outDir, 'latest-rps.svg'), c.rps);
  writeFileSync(path.join(outDir, 'latest-p99.svg'), c.p99);
  writeFileSync(path.join(outDir, 'latest-cpu.svg'), c.cpu);
  writeFileSync(path.join(outDir, 'latest-summary.md'), summaryTable(run, rows, workloads, servers));
  if (!history)
    return [
      'latest.md',
      'latest-summary.md',
      'latest.json',
      'latest-rps.svg',
      'latest-p99.svg',
      'latest-cpu.svg',
    ].map((f) => path.join(outDir, f));
  appendFileSync(
    path.join(outDir, 'history.jsonl'),
    rows
      .map((r) =>
        JSON.stringify({ run: run.id, date: run.date, machine: run.machine, config: run.config, ...r }),
      )
      .join('\n') + '\n',
  );
  writeFileSync(
    path.join(outDir, 'raw', `${run.id}.jsonl`),
    cells.map((x) => JSON.stringify(x)).join('\n') + '\n',
  );
  return [
    'latest.md',
    'latest-summary.md',
    'latest.json',
    'latest-rps.svg',
    'latest-p99.svg',
    'latest-cpu.svg',
    'history.jsonl',
    `raw/${run.id}.jsonl`,
  ].map((f) => path.join(outDir, f));
}
