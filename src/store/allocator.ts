/**
 * The global page allocator and slab allocator, guarded by one allocator lock.
 *
 * Lock order: a stripe lock first, then the allocator lock; never the other way round. All
 * allocator calls here expect the caller to hold the allocator lock (`*Locked`).
 *
 * Crash safety: the truth is the page kind word (free / slab class / large page of stripe S) and
 * each slab slot's tag (0 or owning stripe + 1), both written while the owning stripe's lock is
 * held. Free lists, partial-page lists, the page pool and counts are derived data: `rebuildLocked`
 * recomputes them from the truth, so a worker dying mid-update only costs a rebuild.
 */
import {
  E_NEWER,
  E_OLDER,
  E_TAG,
  H_POOL_COUNT,
  H_POOL_HEAD,
  KIND_LARGE,
  KIND_SHIFT,
  KIND_SLAB,
  PAGE,
  PAGE_SHIFT,
  PM_BUMP,
  PM_FREE_COUNT,
  PM_FREE_HEAD,
  PM_META,
  PM_NEXT,
  PM_PREV,
  slabClasses,
  type Layout,
} from './layout.js';

export class Allocator {
  readonly classSize: Int32Array;
  readonly perPage: Int32Array;
  /** (bytes + 7) >> 3 -> class index, for sizes up to one page. */
  readonly classOfUnits: Uint8Array;
  /** Reservations the last rebuildLocked freed (a dead owner's). */
  freedReservations = 0;
  private readonly u32: Uint32Array;
  private readonly pm: number;
  private readonly n: number;
  private readonly heads: number;
  private readonly data: number;

  constructor(u32: Uint32Array, L: Layout) {
    this.u32 = u32;
    this.pm = L.pageMeta >>> 2;
    this.n = L.numPages;
    this.heads = L.classHeads >>> 2;
    this.data = L.data;
    const classes = slabClasses();
    this.classSize = Int32Array.from(classes);
    this.perPage = Int32Array.from(classes, (c) => Math.floor(PAGE / c));
    this.classOfUnits = new Uint8Array((PAGE >>> 3) + 1);
    let c = 0;
    for (let units = 0; units <= PAGE >>> 3; units++) {
      while (classes[c]! < units * 8) c++;
      this.classOfUnits[units] = c;
    }
  }

  classFor(bytes: number): number {
    return this.classOfUnits[(bytes + 7) >>> 3]!;
  }

  pageOfRef(ref: number): number {
    // byte offsets stay below 2^32 (memory is capped at 4 GiB): an unsigned shift floors
    return (ref * 8 - this.data) >>> PAGE_SHIFT;
  }

  /**
   * Slab class of a live slot whose stripe lock the caller holds: its page cannot be freed or
   * re-carved meanwhile, so a plain read of the page's meta word is enough.
   */
  classOfLiveRef(ref: number): number {
    return this.u32[this.pm + ((ref * 8 - this.data) >>> PAGE_SHIFT)]! & 0xffffff;
  }

  pageByte(page: number): number {
    return this.data + page * PAGE;
  }

  meta(page: number): number {
    return Atomics.load(this.u32, this.pm + page);
  }

  bump(page: number): number {
    return Atomics.load(this.u32, this.pm + PM_BUMP * this.n + page);
  }

  largeOwner(page: number): number {
    return Atomics.load(this.u32, this.pm + PM_FREE_HEAD * this.n + page);
  }

  slotRef(page: number, cls: number, j: number): number {
    return (this.data + page * PAGE + j * this.classSize[cls]!) / 8;
  }

  poolCount(): number {
    return Atomics.load(this.u32, H_POOL_COUNT);
  }

  private w(arr: number, page: number): number {
    return this.pm + arr * this.n + page;
  }

  private popPool(): number {
    const u = this.u32;
    const head = u[H_POOL_HEAD]!;
    if (head === 0) return -1;
    const p = head - 1;
    u[H_POOL_HEAD] = u[this.w(PM_NEXT, p)]!;
    u[H_POOL_COUNT] = u[H_POOL_COUNT]! - 1;
    return p;
  }

  private pushPool(p: number): void {
    const u = this.u32;
    Atomics.store(u, this.w(PM_META, p), 0);
    u[this.w(PM_NEXT, p)] = u[H_POOL_HEAD]!;
    u[H_POOL_HEAD] = p + 1;
    u[H_POOL_COUNT] = u[H_POOL_COUNT]! + 1;
  }

  private pushPartial(p: number, cls: number): void {
    const u = this.u32;
    const head = u[this.heads + cls]!;
    u[this.w(PM_PREV, p)] = 0;
    u[this.w(PM_NEXT, p)] = head;
    if (head !== 0) u[this.w(PM_PREV, head - 1)] = p + 1;
    u[this.heads + cls] = p + 1;
  }

  private removePartial(p: number, cls: number): void {
    const u = this.u32;
    const prev = u[this.w(PM_PREV, p)]!;
    const next = u[this.w(PM_NEXT, p)]!;
    if (prev !== 0) u[this.w(PM_NEXT, prev - 1)] = next;
    else u[this.heads + cls] = next;
    if (next !== 0) u[this.w(PM_PREV, next - 1)] = prev;
  }

  /** A slot of class `cls` tagged `tag` (stripe + 1); 0 when neither a slot nor a page is free. */
  allocSlotLocked(cls: number, tag: number): number {
    const u = this.u32;
    let head = u[this.heads + cls]!;
    if (head === 0) {
      const p = this.popPool();
      if (p < 0) return 0;
      u[this.w(PM_BUMP, p)] = 0;
      u[this.w(PM_FREE_COUNT, p)] = this.perPage[cls]!;
      u[this.w(PM_FREE_HEAD, p)] = 0;
      Atomics.store(u, this.w(PM_META, p), (KIND_SLAB << KIND_SHIFT) | cls);
      this.pushPartial(p, cls);
      head = p + 1;
    }
    const p = head - 1;
    const fh = u[this.w(PM_FREE_HEAD, p)]!;
    let ref: number;
    if (fh !== 0) {
      ref = this.slotRef(p, cls, fh - 1);
      u[this.w(PM_FREE_HEAD, p)] = u[ref * 2 + E_NEWER]!;
      Atomics.store(u, ref * 2 + E_TAG, tag);
    } else {
      const j = u[this.w(PM_BUMP, p)]!;
      ref = this.slotRef(p, cls, j);
      // tag before bump: a slot below bump always carries a valid tag for rebuildLocked
      Atomics.store(u, ref * 2 + E_TAG, tag);
      Atomics.store(u, this.w(PM_BUMP, p), j + 1);
    }
    const fc = u[this.w(PM_FREE_COUNT, p)]! - 1;
    u[this.w(PM_FREE_COUNT, p)] = fc;
    if (fc === 0) this.removePartial(p, cls);
    return ref;
  }

  freeSlotLocked(ref: number): void {
    const u = this.u32;
    const p = this.pageOfRef(ref);
    const cls = u[this.w(PM_META, p)]! & 0xffffff;
    const j = Math.round((ref * 8 - this.pageByte(p)) / this.classSize[cls]!);
    Atomics.store(u, ref * 2 + E_TAG, 0);
    u[ref * 2 + E_NEWER] = u[this.w(PM_FREE_HEAD, p)]!;
    u[this.w(PM_FREE_HEAD, p)] = j + 1;
    const fc = u[this.w(PM_FREE_COUNT, p)]! + 1;
    u[this.w(PM_FREE_COUNT, p)] = fc;
    if (fc === this.perPage[cls]!) {
      if (fc !== 1) this.removePartial(p, cls);
      this.pushPool(p);
    } else if (fc === 1) {
      this.pushPartial(p, cls);
    }
  }

  /** A whole page for a large value of `stripe`, owned by entry `owner`; -1 when none is free. */
  allocPageLocked(stripe: number, owner: number): number {
    const p = this.popPool();
    if (p < 0) return -1;
    const u = this.u32;
    u[this.w(PM_FREE_HEAD, p)] = owner;
    Atomics.store(u, this.w(PM_META, p), (KIND_LARGE << KIND_SHIFT) | stripe);
    return p;
  }

  /** Hands a slot and the large pages listed at `pages`..+n to `stripe` (a published reservation). */
  retagLocked(ref: number, stripe: number, pages: number, n: number): void {
    const u = this.u32;
    Atomics.store(u, ref * 2 + E_TAG, stripe + 1);
    for (let i = 0; i < n; i++) {
      const p = u[pages + i]!;
      if (p !== 0xffffffff) Atomics.store(u, this.w(PM_META, p), (KIND_LARGE << KIND_SHIFT) | stripe);
    }
  }

  freePageLocked(p: number): void {
    this.pushPool(p);
  }

  /**
   * Recomputes every derived structure from page kinds and slot tags, freeing whatever belongs
   * to a stripe flagged in `reset` (1 = reset). With `deadOwner` (ownerId + 1), the reservations
   * of that owner (pseudo-stripe `reset.length - 1`, owner in E_OLDER) are freed too; returns the
   * budget bytes those held. O(pages + used slots).
   */
  rebuildLocked(reset: Uint8Array, deadOwner = 0): number {
    const u = this.u32;
    const pseudo = reset.length - 1;
    let freedReserved = 0;
    this.freedReservations = 0;
    for (let c = 0; c < this.classSize.length; c++) u[this.heads + c] = 0;
    u[H_POOL_HEAD] = 0;
    u[H_POOL_COUNT] = 0;
    for (let p = this.n - 1; p >= 0; p--) {
      const meta = u[this.w(PM_META, p)]!;
      const kind = meta >>> KIND_SHIFT;
      const low = meta & 0xffffff;
      if (kind === KIND_LARGE && low < reset.length) {
        if (reset[low] === 1) this.pushPool(p);
        else if (
          low === pseudo &&
          deadOwner !== 0 &&
          u[u[this.w(PM_FREE_HEAD, p)]! * 2 + E_OLDER] === deadOwner
        ) {
          this.pushPool(p);
          freedReserved += PAGE;
        }
        continue;
      }
      if (kind !== KIND_SLAB || low >= this.classSize.length) {
        this.pushPool(p);
        continue;
      }
      const per = this.perPage[low]!;
      const bump = Math.min(u[this.w(PM_BUMP, p)]!, per);
      u[this.w(PM_BUMP, p)] = bump;
      let fc = per - bump;
      let fh = 0;
      for (let j = bump - 1; j >= 0; j--) {
        const ref = this.slotRef(p, low, j);
        const tag = u[ref * 2 + E_TAG]!;
        if (tag !== 0 && (tag - 1 >= reset.length || reset[tag - 1] !== 1)) {
          if (tag - 1 !== pseudo || deadOwner === 0 || u[ref * 2 + E_OLDER] !== deadOwner) continue;
          freedReserved += this.classSize[low]!;
          this.freedReservations++;
        }
        u[ref * 2 + E_TAG] = 0;
        u[ref * 2 + E_NEWER] = fh;
        fh = j + 1;
        fc++;
      }
      u[this.w(PM_FREE_HEAD, p)] = fh;
      u[this.w(PM_FREE_COUNT, p)] = fc;
      if (fc === per) this.pushPool(p);
      else if (fc > 0) this.pushPartial(p, low);
    }
    return freedReserved;
  }
}
