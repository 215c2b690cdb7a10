import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cluster.js';
import { parseDockerfile, splitFlags } from '../helpers/deploy-files.js';

/** No Docker engine here: the Dockerfile's instructions are parsed and what they name is checked. */

const KEYWORDS = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]);

const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const ins = parseDockerfile(text);
const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

test('Dockerfile: known instructions, multi-stage, every --from names an earlier stage', () => {
  for (const i of ins) assert.ok(KEYWORDS.has(i.keyword), `line ${i.line}: unknown instruction ${i.keyword}`);
  const stages: string[] = [];
  for (const i of ins) {
    if (i.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.rest);
      assert.ok(m, `line ${i.line}: FROM image [AS name]`);
      stages.push(m[2] ?? '');
    }
    if (i.keyword === 'COPY') {
      const from = splitFlags(i.rest).flags.get('from');
      if (from !== undefined)
        assert.ok(stages.slice(0, -1).includes(from), `line ${i.line}: no stage ${from}`);
    }
  }
  assert.ok(stages.length >= 2, 'not multi-stage');
});

test('Dockerfile: COPY sources from the context exist and are not excluded by .dockerignore', () => {
  const copies = ins.filter((i) => i.keyword === 'COPY' && !splitFlags(i.rest).flags.has('from'));
  assert.ok(copies.length > 0);
  for (const c of copies) {
    const { words } = splitFlags(c.rest);
    for (const src of words.slice(0, -1)) {
      assert.ok(
        existsSync(path.join(ROOT, src)),
        `line ${c.line}: COPY ${src}: no such file in the repository`,
      );
      const top = src.replace(/^\.\//, '').split('/')[0]!;
      assert.ok(!ignore.includes(top), `line ${c.line}: COPY ${src} is excluded by .dockerignore`);
    }
  }
});

test('Dockerfile: production install, non-root, init for signals, node-only healthcheck, EXPOSE', () => {
  const runs = ins.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
  assert.ok(
    runs.some((r) => /npm ci .*--omit=dev/.test(r)),
    'no npm ci --omit=dev',
  );
  const users = ins.filter((i) => i.keyword === 'USER');
  assert.ok(users.length > 0 && !/^(root|0)(:|$)/.test(users.at(-1)!.rest), 'the final user is root');
  const entry = JSON.parse(ins.find((i) => i.keyword === 'ENTRYPOINT')!.rest) as string[];
  assert.ok(/tini$/.test(entry[0]!), 'PID 1 is not an init that forwards signals');
  assert.ok(
    runs.some((r) => /apt-get install .*\btini\b/.test(r)),
    'tini is not installed',
  );
  assert.ok(entry.includes('dist/main.js'));
  const hc = ins.find((i) => i.keyword === 'HEALTHCHECK')!.rest;
  assert.doesNotMatch(hc, /curl|wget/);
  const cmd = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
  assert.deepEqual(cmd.slice(0, 2), ['node', '-e']);
  assert.match(cmd[2]!, /\/healthz/);
  const port = /STRIPECACHE_PORT=(\d+)/.exec(
    ins
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.rest)
      .join(' '),
  );
  assert.ok(port, 'no STRIPECACHE_PORT in ENV');
  assert.ok(
    ins.some((i) => i.keyword === 'EXPOSE' && i.rest.split(/\s+/).includes(port[1]!)),
    'EXPOSE misses the port',
  );
});
