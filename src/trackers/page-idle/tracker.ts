import type { PhysPages } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../idle-pages/decode.js';
import { PageType } from '../idle-pages/types.js';
import { TierdError } from '../../util/errors.js';
import { StreamWriter } from '../stream-writer.js';
import type { Tracker, WalkResult } from '../tracker.js';

/**
 * Pages per pagemap read, and the unit of the frame sort: a chunk's frames are read from the
 * bitmap once, so frames of one process interleaved across chunks cost one extra read each.
 */
const CHUNK = 1 << 18;
/** frames per kpageflags read (8 bytes each) */
const FLAG_PIECE = 1 << 16;
const PRESENT = 0x80000000; // bit 63 in the high word
const EXCLUSIVE = 0x01000000; // bit 56: mapped by this process only
const PFN_HI = 0x007fffff; // bits 32..54
const KPF_COMPOUND_HEAD = 1 << 15;
const KPF_COMPOUND_TAIL = 1 << 16;
const KPF_THP = 1 << 22;
const UNKNOWN = 2;

/**
 * The upstream page_idle tracker: virtual pages → frames through /proc/PID/pagemap, then the
 * idle flags of those frames in /sys/kernel/mm/page_idle/bitmap. A frame still idle since the
 * last walk marked it was not accessed. Pages shared with another process are left unknown
 * (never counted as the target's), and a THP is one 2 MiB page. The tail pages of a large folio
 * mapped by PTEs are left unknown: page_idle keeps the flag on the head only and reports every
 * tail as "not idle" on every read, which would make them look hot.
 */
export class PageIdleTracker implements Tracker {
  readonly name = 'page_idle' as const;
  private readonly pm = new Uint32Array(2 * CHUNK);
  private readonly flags = new Uint32Array(2);
  private readonly writer = new StreamWriter();
  private readonly dec = new IdlePagesDecoder();
  // per chunk: the pages we can say something about
  private readonly unitVa = new Float64Array(CHUNK);
  private readonly unitPfn = new Float64Array(CHUNK);
  private readonly unitHuge = new Uint8Array(CHUNK);
  private readonly idle = new Uint8Array(CHUNK);
  private readonly order = new Uint32Array(CHUNK);
  private readonly keys = new Float64Array(CHUNK);
  private readonly keep = new Uint8Array(CHUNK);
  private readonly words = new Uint32Array(2 * (CHUNK + 1));
  private readonly flagBuf = new Uint32Array(2 * FLAG_PIECE);

  private refused = 0;
  private lastRefusal = '';

  constructor(private readonly phys: PhysPages) {}

  async walk(pid: number, ranges: Float64Array, heat: HeatTable | null): Promise<WalkResult> {
    const res: WalkResult = { status: 'ok', reads: 0, bytes: 0, stalls: 0, refused: 0 };
    this.refused = 0;
    this.dec.reset();
    heat?.beginWalk(false);
    try {
      for (let r = 0; r < ranges.length; r += 2) {
        for (let va = ranges[r]!; va < ranges[r + 1]!; ) {
          const count = Math.min(CHUNK, (ranges[r + 1]! - va) / 4096);
          const n = this.phys.pagemap(pid, va, count, this.pm);
          res.reads++;
          if (n === 0) break;
          this.chunk(va, n, heat);
          res.bytes += n * 8;
          va += n * 4096;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } catch (e) {
      if (e instanceof TierdError && e.code === 'PROCESS_GONE') res.status = 'gone';
      else throw e;
    } finally {
      heat?.endWalk();
    }
    res.refused = this.refused;
    if (this.refused > 0) res.refusal = this.lastRefusal;
    return res;
  }

  private chunk(base: number, n: number, heat: HeatTable | null): void {
    const units = this.collectUnits(base, n);
    if (units === 0) return;
    const order = this.byFrame(units);
    this.idle.fill(UNKNOWN, 0, units);
    // runs of units whose bitmap words are adjacent: each run is read, its tails dropped and its
    // frames marked idle with one call per file, and no word of the bitmap is read twice
    for (let i = 0; i < units; ) {
      let j = i + 1;
      while (j < units && Math.floor(this.unitPfn[order[j]!]! / 64) <= Math.floor(this.unitPfn[order[j - 1]!]! / 64) + 1) j++;
      this.readRun(order, i, j);
      i = j;
    }
    const w = this.writer;
    w.clear();
    for (let u = 0; u < units; u++) {
      if (this.idle[u] === UNKNOWN) continue;
      const huge = this.unitHuge[u] === 1;
      const type = this.idle[u] === 1 ? (huge ? PageType.PMD_IDLE : PageType.PTE_IDLE) : huge ? PageType.PMD_ACCESSED : PageType.PTE_ACCESSED;
      w.add(this.unitVa[u]!, type, 1);
    }
    if (heat) heat.ingest(this.dec, w.buf, w.length);
  }

  /** The pages of a pagemap chunk we can say something about (present, exclusive), a THP as one unit. */
  private collectUnits(base: number, n: number): number {
    const pm = this.pm;
    let units = 0;
    for (let i = 0; i < n; i++) {
      const hi = pm[2 * i + 1]!;
      if ((hi & PRESENT) === 0 || (hi & EXCLUSIVE) === 0) continue;
      const pfn = (hi & PFN_HI) * 4294967296 + pm[2 * i]!;
      const va = base + i * 4096;
      // a 2 MiB-aligned run of 512 consecutive frames may be a THP: ask kpageflags once
      const huge = va % 2097152 === 0 && pfn % 512 === 0 && i + 512 <= n && this.consecutive(i, pfn) && this.isThpHead(pfn);
      this.unitVa[units] = va;
      this.unitPfn[units] = pfn;
      this.unitHuge[units++] = huge ? 1 : 0;
      if (huge) i += 511;
    }
    return units;
  }

  private consecutive(i: number, pfn: number): boolean {
    const pm = this.pm;
    for (let k = 1; k < 512; k++) {
      const hi = pm[2 * (i + k) + 1]!;
      if ((hi & PRESENT) === 0 || (hi & PFN_HI) * 4294967296 + pm[2 * (i + k)]! !== pfn + k) return false;
    }
    return true;
  }

  private isThpHead(pfn: number): boolean {
    if (this.refusable(() => this.phys.kpageflags(pfn, 1, this.flags), 0) === 0) return false;
    const f = this.flags[0]!;
    return (f & KPF_THP) !== 0 && (f & KPF_COMPOUND_HEAD) !== 0;
  }

  /** Unit indices in ascending frame order (one numeric sort of frame × CHUNK + index). */
  private byFrame(units: number): Uint32Array {
    const order = this.order.subarray(0, units);
    let maxPfn = 0;
    for (let u = 0; u < units; u++) maxPfn = Math.max(maxPfn, this.unitPfn[u]!);
    if (maxPfn * CHUNK + CHUNK <= Number.MAX_SAFE_INTEGER) {
      const keys = this.keys.subarray(0, units);
      for (let u = 0; u < units; u++) keys[u] = this.unitPfn[u]! * CHUNK + u;
      keys.sort();
      for (let u = 0; u < units; u++) order[u] = keys[u]! % CHUNK;
    } else {
      for (let u = 0; u < units; u++) order[u] = u;
      order.sort((a, b) => this.unitPfn[a]! - this.unitPfn[b]!);
    }
    return order;
  }

  /**
   * One run of units (order[i..j), ascending frames in adjacent bitmap words): drop the
   * compound tails, read the idle flags, then set them again for the next walk.
   */
  private readRun(order: Uint32Array, i: number, j: number): void {
    const first = Math.floor(this.unitPfn[order[i]!]! / 64);
    const words = Math.floor(this.unitPfn[order[j - 1]!]! / 64) - first + 1;
    const keep = this.dropTails(order, i, j);
    const buf = this.words.subarray(0, 2 * words);
    const got = this.refusable(() => this.phys.idleRead(first, words, buf), 0);
    for (let k = i; k < j; k++) {
      const u = order[k]!;
      const w = Math.floor(this.unitPfn[u]! / 64) - first;
      if (keep[k - i] === 0 || w >= got) continue;
      const bit = this.unitPfn[u]! % 64;
      this.idle[u] = (buf[2 * w + (bit >= 32 ? 1 : 0)]! >>> (bit % 32)) & 1;
    }
    // set the idle flag of our frames (a 0 bit leaves other frames alone)
    buf.fill(0);
    for (let k = i; k < j; k++) {
      if (keep[k - i] === 0) continue;
      const pfn = this.unitPfn[order[k]!]!;
      buf[2 * (Math.floor(pfn / 64) - first) + (pfn % 64 >= 32 ? 1 : 0)]! |= 1 << pfn % 32;
    }
    this.refusable(() => this.phys.idleWrite(first, words, buf), undefined);
  }

  /**
   * keep[k - i] = 0 for a unit of the run whose frame is a compound tail (the kernel never marks
   * it idle) or whose flags the kernel would not give: unknown this walk. The flags are read
   * over the run's frames only, in pieces of at most FLAG_PIECE frames.
   */
  private dropTails(order: Uint32Array, i: number, j: number): Uint8Array {
    const keep = this.keep.subarray(0, j - i).fill(1);
    let k = i;
    while (k < j) {
      const from = this.unitPfn[order[k]!]!;
      let end = k;
      while (end < j && this.unitPfn[order[end]!]! < from + FLAG_PIECE) end++;
      const count = this.unitPfn[order[end - 1]!]! - from + 1;
      const got = this.refusable(() => this.phys.kpageflags(from, count, this.flagBuf), 0);
      for (; k < end; k++) {
        const u = order[k]!;
        const f = this.unitPfn[u]! - from;
        if (f >= got || (this.unitHuge[u] === 0 && (this.flagBuf[2 * f]! & KPF_COMPOUND_TAIL) !== 0)) keep[k - i] = 0;
      }
    }
    return keep;
  }

  /**
   * Bitmap I/O the kernel refuses (an I/O error on a span) leaves that span unknown for this
   * walk and is counted for the daemon to log: a tracker never takes the daemon down.
   */
  private refusable<T>(io: () => T, fallback: T): T {
    try {
      return io();
    } catch (e) {
      // only the kernel's refusals (an fs error with an errno code): a bug must still surface
      const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
      if (e instanceof TierdError || typeof code !== 'string') throw e;
      this.refused++;
      this.lastRefusal = e instanceof Error ? e.message : String(e);
      return fallback;
    }
  }
}
