export function fnv1a32(bytes: Uint8Array, start?: number, end?: number): number;
export function murmur3_32(bytes: Uint8Array, start?: number, end?: number, seed?: number): number;
export function xxhash32(bytes: Uint8Array, start?: number, end?: number, seed?: number): number;
