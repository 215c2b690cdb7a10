// The markdown report: one row per (server, attack), then what each attacker achieved.
import { PROBE_P99_LIMIT_MS, RECOVERY_FACTOR } from './bound.mjs';

const mib = (kib) => (Number.isFinite(kib) ? `${Math.round(kib / 1024)}` : '-');
const ms = (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));

export function renderMarkdown(r) {
  const lines = [];
  lines.push('# bench:attack: hostile clients', '');
  lines.push(`${r.date}, \`${r.command}\``, '');
  lines.push(
    `Server Node ${r.serverNode} (harness ${r.harnessNode}), slowhttptest ${r.slowhttptest ?? '?'}` +
      `${r.nginx ? `, nginx ${r.nginx}` : ''}; ${r.machine.cpu}, ${r.machine.cores} cores, ` +
      `${r.machine.memoryGiB} GiB, ${r.machine.kernel}. Server on CPU ${r.options.serverCpu} (--threads ${r.options.threads}), ` +
      `attackers, probe and harness on CPU ${r.options.clientCpu}. Each run: fresh server, ${r.options.idleS} s idle, ` +
      `${r.options.durationS} s attack, ${r.options.afterS} s after. Probe: fresh connection per \`GET /\` every ` +
      `${r.options.probe.intervalMs} ms, ${r.options.probe.timeoutMs} ms timeout. RSS: VmRSS every ${r.options.rssPeriodMs} ms.`,
    '',
  );
  lines.push(
    `Pass lines: probe never refused/reset/5xx or timed out during the attack and p99 < ${PROBE_P99_LIMIT_MS} ms; ` +
      `peak RSS <= bound (--memory + the README's overhead table); RSS ${r.options.afterS} s after <= ${RECOVERY_FACTOR} x idle.`,
    '',
  );
  lines.push(
    '| server | attack | attacker held (max) | probes | timed out | failed | p50 ms | p99 ms | max ms | idle p99 ms | RSS idle MiB | RSS peak MiB | bound MiB | RSS after MiB | probe | memory | recovery |',
  );
  lines.push(
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  );
  for (const row of r.rows) {
    if (row.error) {
      lines.push(
        `| ${row.server} | ${row.attack} | error: ${row.error.replace(/\|/g, '/')} |${' - |'.repeat(14)}`,
      );
      continue;
    }
    const a = row.probe.attack;
    lines.push(
      [
        '',
        row.server,
        row.attack,
        row.attacker.maxConnected,
        a.probes,
        a.timeout,
        a.failed,
        ms(a.p50Ms),
        ms(a.p99Ms),
        ms(a.maxMs),
        ms(row.probe.idle.p99Ms),
        mib(row.rss.idleKiB),
        mib(row.rss.peakKiB),
        row.bound ? mib(row.bound.totalKiB) : 'n/a',
        mib(row.rss.afterKiB),
        row.verdict.probe,
        row.verdict.memory,
        row.verdict.recovery,
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  lines.push('', '## Attackers', '');
  for (const row of r.rows) {
    if (row.error) continue;
    const s = row.attacker;
    const f = s.final ?? {};
    const detail =
      s.tool === 'slowhttptest'
        ? `max connected ${s.maxConnected}; at the end connected ${f.connected}, closed ${f.closed}, error ${f.error}; ` +
          `slowhttptest's own probe unavailable in ${s.ownProbeUnavailableBlocks} of ${s.blocks} status blocks; exit: ${s.exitStatus ?? s.exitCode}`
        : `opened ${f.opened}, connected ${f.connected}, bursts written ${f.written}, closed by server ${f.closedByServer}, ` +
          `errors ${f.errors}, still open at the end ${f.stillOpenAtEnd}`;
    const after = row.probe.after;
    lines.push(
      `- **${row.server} / ${row.attack}** (${row.title}): \`${s.command}\`, ran ${row.attackSeconds.toFixed(1)} s. ${detail}. ` +
        `Probe after the attack: ${after.probes} probes, ${after.timeout} timed out, ${after.failed} failed, p99 ${ms(after.p99Ms)} ms. ` +
        `VmHWM at the end ${mib(row.rss.hwmKiB)} MiB. Load average (1 min) ${row.loadavg1.before.toFixed(2)} before, ${row.loadavg1.after.toFixed(2)} after.` +
        (row.aborted ? ` **${row.aborted}.**` : '') +
        (row.serverExit ? ` **Server exited (${row.serverExit.code ?? row.serverExit.signal}).**` : ''),
    );
  }
  lines.push('', '## Probe timeline', '');
  lines.push(
    'Answered / timed out probes per 5 s window, by start time relative to the attack start (negative: idle).',
    '',
  );
  for (const row of r.rows) {
    if (row.error) continue;
    lines.push(`- **${row.server} / ${row.attack}**: ${timeline(row.probeSeries)}`);
  }
  lines.push('');
  return lines.join('\n');
}

function timeline(series) {
  const windows = new Map();
  for (const [t, outcome] of series) {
    const w = Math.floor(t / 5000) * 5;
    const c = windows.get(w) ?? { ok: 0, timeout: 0, failed: 0 };
    if (outcome === 'ok') c.ok++;
    else if (outcome === 'timeout') c.timeout++;
    else c.failed++;
    windows.set(w, c);
  }
  return [...windows]
    .sort(([a], [b]) => a - b)
    .map(([w, c]) => `${w} s ${c.ok}/${c.timeout}${c.failed ? ` (+${c.failed} failed)` : ''}`)
    .join(', ');
}
