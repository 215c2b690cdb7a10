import { loadLibc } from '../socket/libc.js';

/**
 * --pin-threads: worker thread i runs on one core, the i-th of the cores this process may use
 * (round robin when there are more threads than cores). The supervisor thread stays unpinned.
 */

/** cpu_set_t of 1024 CPUs, glibc's size. */
const MASK_BYTES = 128;

function cpusOf(mask: Buffer): number[] {
  const cpus: number[] = [];
  for (let i = 0; i < MASK_BYTES * 8; i++) if ((mask[i >>> 3]! >>> (i & 7)) & 1) cpus.push(i);
  return cpus;
}

/** The cores the calling thread may run on. */
export function allowedCpus(): number[] {
  const c = loadLibc();
  const mask = Buffer.alloc(MASK_BYTES);
  if (c.schedGetaffinity(0, MASK_BYTES, mask) !== 0)
    throw new Error(`sched_getaffinity: ${c.strerror(c.errno())}`);
  return cpusOf(mask);
}

/** The core worker `threadIndex` is pinned to, from the supervisor's allowed set. */
export function cpuForThread(allowed: readonly number[], threadIndex: number): number {
  if (allowed.length === 0) throw new Error('no allowed CPU');
  return allowed[threadIndex % allowed.length]!;
}

/** Pins the calling thread to `cpu`; returns the mask read back and the thread's kernel id. */
export function pinThisThread(cpu: number): { cpus: number[]; tid: number } {
  const c = loadLibc();
  const mask = Buffer.alloc(MASK_BYTES);
  mask[cpu >>> 3] = 1 << (cpu & 7);
  if (c.schedSetaffinity(0, MASK_BYTES, mask) !== 0)
    throw new Error(`sched_setaffinity(${cpu}): ${c.strerror(c.errno())}`);
  return { cpus: allowedCpus(), tid: c.gettid() };
}
