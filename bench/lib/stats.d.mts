export function median(xs: number[]): number;
export function spread(xs: number[]): number;
export const NOT_SHOWN: number;
export function compare(
  a: number,
  b: number,
  opts?: { lowerIsBetter?: boolean },
): { ratio: number; verdict: 'better' | 'worse' | 'not shown' | 'n/a' };
