import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOY, which } from '../helpers/cluster.js';
import { durationMs, parseUnit } from '../helpers/deploy-files.js';

/** deploy/systemd/stripecache.service: hardening and a stop that lets the node drain. */

const FILE = path.join(DEPLOY, 'systemd/stripecache.service');
const unit = parseUnit(readFileSync(FILE, 'utf8'));
const service = unit.get('Service')!;
const one = (key: string): string => {
  const v = service.get(key);
  assert.ok(v && v.length > 0, `[Service] has no ${key}=`);
  return v.at(-1)!;
};

test('systemd unit: sections, ExecStart runs dist/main.js, restarts on failure, hardened', () => {
  assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
  assert.match(one('ExecStart'), /^\/\S*node \S*\/dist\/main\.js/);
  assert.equal(one('Restart'), 'on-failure');
  assert.equal(one('DynamicUser'), 'yes');
  assert.equal(one('ProtectSystem'), 'strict');
  assert.equal(one('NoNewPrivileges'), 'yes');
  assert.ok(Number(one('LimitNOFILE')) > 10000, 'LimitNOFILE below the default --max-connections');
  // WebAssembly and the JIT need W+X pages: MemoryDenyWriteExecute=yes would crash node at start.
  assert.notEqual(service.get('MemoryDenyWriteExecute')?.at(-1), 'yes');
  assert.equal(unit.get('Install')!.get('WantedBy')?.[0], 'multi-user.target');
});

test('systemd unit: SIGTERM to node, TimeoutStopSec above --shutdown-timeout', () => {
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.equal(one('KillMode'), 'mixed');
  const env = new Map((service.get('Environment') ?? []).map((e) => e.split('=', 2) as [string, string]));
  const shutdown = env.get('STRIPECACHE_SHUTDOWN_TIMEOUT');
  assert.ok(shutdown, 'the unit does not pin STRIPECACHE_SHUTDOWN_TIMEOUT');
  assert.ok(durationMs(one('TimeoutStopSec')) > durationMs(shutdown), 'TimeoutStopSec <= --shutdown-timeout');
});

test('systemd unit: systemd-analyze verify accepts it', (t) => {
  const analyze = which('systemd-analyze');
  if (analyze === null) {
    t.skip('systemd-analyze is not installed: only the parse above checked the unit');
    return;
  }
  const r = spawnSync(analyze, ['verify', FILE], { encoding: 'utf8' });
  // The one thing that depends on the machine, not the file: where node is installed.
  const node = one('ExecStart').split(' ')[0]!;
  const lines = (r.stdout + r.stderr)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes(`Command ${node} is not executable`));
  assert.deepEqual(lines, [], `systemd-analyze verify:\n${r.stdout}${r.stderr}`);
});
