#!/usr/bin/env node
import { createRequire } from 'node:module';
import { parseCli, usage, UsageError } from './runtime/cli.js';
import { Logger } from './base/log.js';
import { StartError, Supervisor } from './runtime/supervisor.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

function die(message: string, code: number): never {
  process.stderr.write(`stripecache: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) die(`${e.message} (see --help)`, 2);
    throw e;
  }
  if (cli.action === 'help') {
    process.stdout.write(usage(version) + '\n');
    return;
  }
  if (cli.action === 'version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  const { config } = cli;
  const log = new Logger(config.logLevel, 'main');
  const supervisor = new Supervisor(config, log);
  let port: number;
  try {
    port = await supervisor.start();
  } catch (e) {
    if (e instanceof StartError) die(e.message, e.exitCode);
    throw e;
  }
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  process.stdout.write(`stripecache ${version} listening on ${host}:${port} (${config.threads} threads)\n`);
}

main().catch((e: unknown) => die(e instanceof Error ? (e.stack ?? e.message) : String(e), 1));
