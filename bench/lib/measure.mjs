// One measurement cell: start a server, check it answers the contract the workload relies on,
// preload, warm up, then measure with wrk while reading the server's CPU time and peak RSS.
import { startServer } from './servers.mjs';
import { sendAll, fetchOne, httpRequest } from './client.mjs';
import { runWrk } from './wrk.mjs';
import { cpuSeconds, peakRssBytes } from './proc.mjs';
import { simulateLru } from './cachesim.mjs';

async function expect(srv, req, status, body, what) {
  const r = await fetchOne(srv.host, srv.port, req);
  if (r.status !== status) throw new Error(`${what}: status ${r.status}, expected ${status}`);
  if (body !== undefined && !r.body.equals(Buffer.from(body))) {
    throw new Error(`${what}: body "${r.body.toString('latin1', 0, 40)}", expected "${body}"`);
  }
  return r;
}

/** Checks the routes the workload uses; throws with the first difference from docs/http-api.md. */
export async function checkServer(srv, workload) {
  await expect(srv, httpRequest('GET', '/'), 200, 'Hello, World!', 'GET /');
  const created = await fetchOne(
    srv.host,
    srv.port,
    httpRequest('POST', '/store/bench-check', { body: Buffer.from('0123456789') }),
  );
  if (created.status !== 201 && created.status !== 200)
    throw new Error(`POST /store: status ${created.status}`);
  await expect(srv, httpRequest('GET', '/get/bench-check'), 200, '0123456789', 'GET /get/{key}');
  await expect(srv, httpRequest('GET', '/get/bench-missing'), 404, undefined, 'GET of a missing key');
  if (workload.check === 'range') {
    await expect(
      srv,
      httpRequest('GET', '/get/bench-check', { headers: { Range: 'bytes=2-5' } }),
      206,
      '2345',
      'Range bytes=2-5',
    );
  }
}

/** Starts, checks and preloads; returns the running server or throws with the reason. */
export async function launch(server, workload, { cpus, threads, serverArgs = [], nodeFlags = [] }) {
  const args = { server: [...serverArgs, ...(workload.serverArgs ?? [])], nodeFlags };
  const srv = await startServer(server, { cpus, threads, args });
  srv.name = server;
  try {
    await checkServer(srv, workload);
    if (workload.preload) {
      const { count, make } = workload.preload(workload);
      const t0 = performance.now();
      const statuses = await sendAll(srv.host, srv.port, count, make, { connections: 8, depth: 32 });
      const bad = Object.entries(statuses).filter(([s]) => s !== '200' && s !== '201');
      if (bad.length > 0 && workload.id !== 'zipf') {
        throw new Error(`preload answered ${bad.map(([s, n]) => `${n}× ${s}`).join(', ')}`);
      }
      srv.preload = { count, statuses, ms: Math.round(performance.now() - t0) };
    }
  } catch (e) {
    await srv.stop();
    throw e;
  }
  return srv;
}

async function scrapeEntries(srv) {
  try {
    const r = await fetchOne(srv.host, srv.port, httpRequest('GET', '/metrics'), 3000);
    if (r.status !== 200) return NaN;
    const m = /^\w*entries(?:\{\})?\s+([\d.e+]+)\s*$/m.exec(r.body.toString('latin1'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Warm-up then measured wrk run against a launched server. Returns the cell's figures.
 * load: { connections, depth, durationS, warmupS, wrkThreads, wrkCpus, seed }
 */
export async function measureLoad(srv, workload, load) {
  const url = `http://${srv.host.includes(':') ? `[${srv.host}]` : srv.host}:${srv.port}`;
  const args = { ...workload.args, seed: load.seed ?? 1 };
  if (load.depth && load.depth > 1) args.depth = load.depth;
  const base = {
    url,
    script: workload.script,
    threads: load.wrkThreads,
    connections: load.connections,
    cpus: load.wrkCpus,
    args,
  };
  let warm = null;
  if (load.warmupS > 0)
    warm = await runWrk({
      ...base,
      durationS: load.warmupS,
      args: { ...args, seed: (load.seed ?? 1) + 1000 },
    });
  const cpu0 = cpuSeconds(srv.pid);
  const w = await runWrk({ ...base, durationS: load.durationS });
  const cpu1 = cpuSeconds(srv.pid);
  const seconds = w.duration_us / 1e6;
  const e = w.errors;
  const cell = {
    ok: true,
    requests: w.requests,
    seconds,
    rps: w.requests / seconds,
    mbps: (w.bytes_in + w.bytes_out) / seconds / 1e6,
    p50ms: w.latency_us.p50 / 1000,
    p99ms: w.latency_us.p99 / 1000,
    p999ms: w.latency_us.p999 / 1000,
    maxms: w.latency_us.max / 1000,
    cpuPer100k: w.requests > 0 ? ((cpu1 - cpu0) / w.requests) * 1e5 : NaN,
    serverCpuUtil: (cpu1 - cpu0) / seconds,
    wrkCpuUtil: w.wrkCpuS / seconds / (load.wrkThreads ?? 1),
    peakRssMiB: peakRssBytes(srv.pid) / 2 ** 20,
    errors: e.connect + e.read + e.write + e.timeout,
    non2xx: e.status,
    notes: [],
    wrk: w.command,
    preload: srv.preload,
  };
  if (workload.id === 'range' && w.counters.other > 0)
    cell.notes.push(`${w.counters.other} answers were not 206`);
  if (workload.id === 'zipf') {
    const c = w.counters;
    cell.non2xx = e.status - c.misses;
    cell.hitRatio = c.gets > 0 ? 1 - c.misses / c.gets : NaN;
    cell.entries = await scrapeEntries(srv);
    // The same trace shape through an exact LRU: capacity from the server's entry count when it
    // reports one (stripecache), unbounded for the Map peers.
    const capacity = srv.name === 'stripecache' ? cell.entries : Infinity;
    if (!Number.isNaN(capacity)) {
      const sim = simulateLru({
        keys: workload.args.keys,
        s: workload.args.s,
        capacity,
        fill: workload.fill,
        warm: warm?.requests ?? 0,
        requests: w.requests,
        writes: workload.args.writes,
        seed: 7,
      });
      cell.lruHitRatio = sim.hitRatio;
    }
  }
  return cell;
}
