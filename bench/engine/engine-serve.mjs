#!/usr/bin/env node
// The HTTP engine alone on this thread with the real store and 10,000 keys of 64 B preloaded
// (k64-0 .. k64-9999); prints "PORT n" and its CPU time ("CPU µs") every 250 ms. Used by floor.mjs.
import { startEngineInProcess } from './engine-inprocess.mjs';

const server = await startEngineInProcess();
console.log(`PORT ${server.port}`);
setInterval(() => {
  const u = process.cpuUsage();
  console.log(`CPU ${u.user + u.system}`);
}, 250);
process.on('SIGINT', () => process.exit(0));
