export function mulberry32(seed: number): () => number;
export function zipfSampler(n: number, s: number, rand?: () => number): () => number;
export function zipfPmf(n: number, s: number): Float64Array;
