// Types of what the test helpers use from origin.mjs (the test origin process is this script).
/** Byte `i` of the object served at path `name`. */
export function originByte(name: string, i: number): number;
/** Fills `out` with bytes [start, start + out.length) of the object seeded `seed`. */
export function fillOriginBytes<T extends Uint8Array>(seed: number, start: number, out: T): T;
/** The content seed of the object served at path `name`. */
export function nameSeed(name: string): number;
