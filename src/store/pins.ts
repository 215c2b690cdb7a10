/**
 * Pinned zero-copy reads. A large value (one that spans whole 64 KiB pages: over ~64 KiB) can
 * leave as views of the SharedArrayBuffer instead of a copy: `get` pins the entry under the
 * stripe lock (no bytes are copied under it) and the caller unpins once the socket write of the
 * views completed, or the connection died.
 *
 * A pin is a slot of the shared pin table (owner + 1, entry ref), so a dead thread's pins are
 * found and dropped by `reclaimOwner`, plus a count in the entry's E_PINS word. Unlinking a
 * pinned entry (overwrite, delete, expiry, eviction) happens at once; its memory is freed by the
 * last unpin. While it waits it is a zombie: tagged with the pseudo-stripe (like a reservation,
 * so no eviction or stripe reset frees it) with no owner; its bytes count in bytes used.
 *
 * Free protocol: pins are only taken under the stripe lock, so a remover that reads 0 pins frees
 * at once; otherwise it sets PIN_UNLINKED with one atomic OR, and whichever of the remover (the
 * OR found no pins left) or the last unpin (its decrement left exactly PIN_UNLINKED) is second
 * frees the entry: exactly one of them does.
 */
import type { ReadResult } from './api.js';
import type { Entries } from './entries.js';
import type { Geometry } from './geometry.js';
import { E_OLDER, E_PINS, E_TAG, PAGE, PAGE_SHIFT, PIN_SLOTS, PIN_UNLINKED } from './layout.js';
import type { Views } from './views.js';

const COUNT = ~PIN_UNLINKED >>> 0;

export class Pins {
  private cursor = 0;
  private readonly w0: number;

  constructor(
    private readonly v: Views,
    private readonly entries: Entries,
  ) {
    this.w0 = v.L.pinTable >>> 2;
  }

  /**
   * Pins large entry `ref` (its stripe lock held) and fills `out.views` with views of value bytes
   * [start, start + len); false (nothing pinned) when the pin table is full: the caller copies.
   */
  pinLocked(ref: number, g: Geometry, start: number, len: number, out: ReadResult): boolean {
    const v = this.v;
    const u32 = v.u32;
    const i32 = v.i32;
    let slot = -1;
    for (let i = 0; i < PIN_SLOTS; i++) {
      const k = (this.cursor + i) & (PIN_SLOTS - 1);
      if (Atomics.compareExchange(i32, this.w0 + k * 2, 0, v.me) === 0) {
        slot = k;
        break;
      }
    }
    if (slot < 0) return false;
    this.cursor = (slot + 1) & (PIN_SLOTS - 1);
    Atomics.store(u32, this.w0 + slot * 2 + 1, ref);
    Atomics.add(u32, ref * 2 + E_PINS, 1);
    const views = out.views;
    const buf = v.u8.buffer;
    const eb = ref * 8;
    let pos = start;
    const end = start + len;
    // whole pages, merged into one view where the pages happen to be adjacent in the buffer
    let runAt = -1;
    let runLen = 0;
    while (pos < end && pos < g.tailStart) {
      const pi = pos >>> PAGE_SHIFT;
      const at = v.alloc.pageByte(u32[((eb + g.valueOff) >>> 2) + pi]!) + (pos - pi * PAGE);
      const n = Math.min(end, g.tailStart, (pi + 1) * PAGE) - pos;
      if (runAt >= 0 && runAt + runLen === at) runLen += n;
      else {
        if (runAt >= 0) views.push(new Uint8Array(buf, runAt, runLen));
        runAt = at;
        runLen = n;
      }
      pos += n;
    }
    if (runAt >= 0) views.push(new Uint8Array(buf, runAt, runLen));
    if (pos < end) views.push(new Uint8Array(buf, eb + g.tailOff + (pos - g.tailStart), end - pos));
    out.pin = slot + 1;
    return true;
  }

  /** Releases pin `id` (from `get`); frees the entry when it was unlinked and this was its last pin. */
  unpin(id: number): void {
    const slot = id - 1;
    const v = this.v;
    if (!(slot >= 0 && slot < PIN_SLOTS)) throw new RangeError(`unpin: no pin ${id}`);
    const owner = Atomics.load(v.i32, this.w0 + slot * 2);
    if (owner !== v.me) throw new RangeError(`unpin: pin ${id} is not this thread's`);
    const ref = Atomics.load(v.u32, this.w0 + slot * 2 + 1);
    Atomics.store(v.u32, this.w0 + slot * 2 + 1, 0);
    Atomics.store(v.i32, this.w0 + slot * 2, 0);
    this.drop(ref, false);
  }

  private drop(ref: number, allocLocked: boolean): boolean {
    const old = Atomics.sub(this.v.u32, ref * 2 + E_PINS, 1);
    if (old !== (PIN_UNLINKED | 1) >>> 0) return false;
    if (!allocLocked) this.entries.freeEntry(ref);
    return true;
  }

  /**
   * For `Entries.removeLocked` of a large entry (its stripe lock held, already unlinked from the
   * index and list): true when pinned, and then the last unpin frees it; false: free it now.
   */
  deferFreeLocked(ref: number, pseudo: number, retag: (ref: number, stripe: number) => void): boolean {
    const u32 = this.v.u32;
    if (Atomics.load(u32, ref * 2 + E_PINS) === 0) return false;
    retag(ref, pseudo);
    u32[ref * 2 + E_OLDER] = 0; // a zombie has no owner: no reclaim frees it, only the last unpin
    const old = Atomics.or(u32, ref * 2 + E_PINS, PIN_UNLINKED);
    return (old & COUNT) !== 0;
  }

  /**
   * Crash reclaim, allocator lock held, before the allocator rebuild: drops every pin of owner
   * `dead` (returns the zombies that pin was the last of: free them after the rebuild), and turns
   * entries of reset stripes that live owners still pin into zombies, so the rebuild keeps them.
   */
  reclaimLocked(dead: number, reset: Uint8Array, retag: (ref: number, stripe: number) => void): number[] {
    const v = this.v;
    const u32 = v.u32;
    const free: number[] = [];
    const pseudo = reset.length - 1;
    for (let k = 0; k < PIN_SLOTS; k++) {
      const owner = Atomics.load(v.i32, this.w0 + k * 2);
      if (owner === 0) continue;
      const ref = u32[this.w0 + k * 2 + 1]!;
      if (ref === 0) continue;
      if (owner === dead) {
        u32[this.w0 + k * 2 + 1] = 0;
        Atomics.store(v.i32, this.w0 + k * 2, 0);
        const tag = Atomics.load(u32, ref * 2 + E_TAG);
        // an entry of a reset stripe is freed by the rebuild anyway (unless another pin keeps it)
        if (this.drop(ref, true) && !(tag - 1 < pseudo && reset[tag - 1] === 1)) free.push(ref);
        continue;
      }
      const tag = Atomics.load(u32, ref * 2 + E_TAG);
      if (tag !== 0 && tag - 1 < pseudo && reset[tag - 1] === 1) {
        retag(ref, pseudo);
        u32[ref * 2 + E_OLDER] = 0;
        Atomics.or(u32, ref * 2 + E_PINS, PIN_UNLINKED);
      }
    }
    return free;
  }
}
