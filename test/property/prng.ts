/**
 * A small seeded PRNG (sfc32) for the property tests: the same seed gives the same requests, the
 * same split offsets and the same checks, so a failure printed with its seed is replayed by
 * STRIPECACHE_PROP_SEED=<seed>.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A new generator whose stream depends on this one's (one per sequence, replayable alone). */
  fork(): Prng {
    return new Prng(this.u32());
  }
}

/** The run's seed: STRIPECACHE_PROP_SEED when set (to replay a failure), else a fresh one. */
export function runSeed(): number {
  const env = process.env.STRIPECACHE_PROP_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`bad STRIPECACHE_PROP_SEED ${env}`);
    return n;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
