// Runs Debian's slowhttptest (1.8.x) on the client core and reads its status blocks. It prints a
// block ("connected: N", "closed: N", ...) every few seconds and at the end, with ANSI colours
// even into a pipe; the colours are stripped and every block is kept so the report can show how
// many connections the attacker really held, not just how many it asked for.
import { spawn } from 'node:child_process';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const FIELDS = ['initializing', 'pending', 'connected', 'error', 'closed'];

export function parseStatus(text) {
  const clean = text.replace(ANSI, '');
  const blocks = [];
  for (const part of clean.split(/slow HTTP test status on /).slice(1)) {
    const second = Number(/^(\d+)/.exec(part)?.[1]);
    const b = { second };
    for (const f of FIELDS) b[f] = Number(new RegExp(`${f}:\\s+(\\d+)`).exec(part)?.[1] ?? NaN);
    b.serviceAvailable = /service available:\s*YES/.test(part);
    blocks.push(b);
  }
  const exit = /Exit status:\s*(.*)/.exec(clean)?.[1]?.trim() ?? null;
  return { blocks, exit };
}

/**
 * Starts slowhttptest with args (its own -l is the attack's duration) and resolves stop() to a
 * summary. stop() sends SIGINT, then SIGKILL after 3 s; the kernel closes what it still held.
 */
export function runSlowhttptest({ args, clientCpu, durationS }) {
  const full = ['-c', String(clientCpu), 'slowhttptest', ...args, '-l', String(durationS)];
  const child = spawn('taskset', full, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // Bounded: slowhttptest prints a few hundred bytes per block; keep the last 256 KiB.
  const keep = (c) => {
    out += c;
    if (out.length > 262144) out = out.slice(-262144);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const started = performance.now();
  let endedAt = null;
  exited.then(() => (endedAt = performance.now()));
  return {
    pid: child.pid,
    command: `slowhttptest ${args.join(' ')} -l ${durationS}`,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const t = new Promise((r) => setTimeout(r, 3000, 'timeout'));
        if ((await Promise.race([exited, t])) === 'timeout') child.kill('SIGKILL');
      }
      const { code, signal } = await exited;
      const { blocks, exit } = parseStatus(out);
      const num = (k) => blocks.map((b) => b[k]).filter(Number.isFinite);
      const last = blocks.at(-1) ?? {};
      return {
        tool: 'slowhttptest',
        command: this.command,
        exitCode: code,
        signal,
        exitStatus: exit,
        ranSeconds: Math.round((endedAt ?? performance.now()) - started) / 1000,
        maxConnected: Math.max(0, ...num('connected')),
        final: { connected: last.connected, error: last.error, closed: last.closed, pending: last.pending },
        ownProbeUnavailableBlocks: blocks.filter((b) => !b.serviceAvailable).length,
        blocks: blocks.length,
      };
    },
  };
}
