export function simulateLru(opts: {
  keys: number;
  s: number;
  capacity: number;
  fill: number;
  warm?: number;
  requests: number;
  writes?: number;
  seed?: number;
}): { gets: number; hits: number; hitRatio: number; entries: number };
