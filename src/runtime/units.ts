/**
 * Sizes and durations as people write them on a command line. Binary units (KiB, MiB, GiB) are
 * powers of 1024, decimal ones (KB, MB, GB) powers of 1000; a bare number is bytes. Durations
 * take ms, s or m; a bare number is seconds. Returns NaN for anything else so the caller can name
 * the flag in its error.
 */
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
};

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

const NUMBER_WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/;

export function parseSize(text: string): number {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return NaN;
  const unit = m[2]!.toLowerCase();
  const scale = unit === '' ? 1 : SIZE_UNITS[unit];
  if (scale === undefined) return NaN;
  const bytes = Math.floor(Number(m[1]) * scale);
  return Number.isSafeInteger(bytes) ? bytes : NaN;
}

/** Milliseconds. */
export function parseDuration(text: string): number {
  const m = NUMBER_WITH_UNIT.exec(text);
  if (!m) return NaN;
  const unit = m[2]!.toLowerCase();
  const scale = unit === '' ? 1000 : DURATION_UNITS_MS[unit];
  if (scale === undefined) return NaN;
  const ms = Math.round(Number(m[1]) * scale);
  return Number.isSafeInteger(ms) ? ms : NaN;
}

/** Strict decimal integer (no sign, no exponent, no blanks inside). */
export function parseInteger(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
}
