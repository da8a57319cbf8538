import type { PhysPages } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../idle-pages/decode.js';
import { PageType } from '../idle-pages/types.js';
import { TierdError } from '../../util/errors.js';
import { StreamWriter } from '../stream-writer.js';
import type { Tracker, WalkResult } from '../tracker.js';

const CHUNK = 1 << 16; // pages per pagemap read
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
    const pm = this.pm;
    let units = 0;
    for (let i = 0; i < n; i++) {
      const hi = pm[2 * i + 1]!;
      if ((hi & PRESENT) === 0 || (hi & EXCLUSIVE) === 0) continue;
      const pfn = (hi & PFN_HI) * 4294967296 + pm[2 * i]!;
      const va = base + i * 4096;
      // a 2 MiB-aligned run of 512 consecutive frames may be a THP: ask kpageflags once
      if (va % 2097152 === 0 && pfn % 512 === 0 && i + 512 <= n && this.consecutive(i, pfn)) {
        if (this.refusable(() => this.phys.kpageflags(pfn, 1, this.flags), 0) === 0) this.flags[0] = 0;
        const f = this.flags[0]!;
        if ((f & KPF_THP) !== 0 && (f & KPF_COMPOUND_HEAD) !== 0) {
          this.unitVa[units] = va;
          this.unitPfn[units] = pfn;
          this.unitHuge[units++] = 1;
          i += 511;
          continue;
        }
      }
      this.unitVa[units] = va;
      this.unitPfn[units] = pfn;
      this.unitHuge[units++] = 0;
    }
    // bitmap words (and kpageflags) are read in spans over the chunk's frames, computed once
    const spans = this.spans(units);
    units = this.dropTails(units, spans);
    if (units === 0) return;
    const idle = this.readIdle(units, spans);
    const w = this.writer;
    w.clear();
    for (let u = 0; u < units; u++) {
      if (idle[u] === UNKNOWN) continue;
      const huge = this.unitHuge[u] === 1;
      const type = idle[u] === 1 ? (huge ? PageType.PMD_IDLE : PageType.PTE_IDLE) : huge ? PageType.PMD_ACCESSED : PageType.PTE_ACCESSED;
      w.add(this.unitVa[u]!, type, 1);
    }
    if (heat) heat.ingest(this.dec, w.buf, w.length);
    this.markIdle(units, spans);
  }

  private consecutive(i: number, pfn: number): boolean {
    const pm = this.pm;
    for (let k = 1; k < 512; k++) {
      const hi = pm[2 * (i + k) + 1]!;
      if ((hi & PRESENT) === 0 || (hi & PFN_HI) * 4294967296 + pm[2 * (i + k)]! !== pfn + k) return false;
    }
    return true;
  }

  /** Spans of bitmap words that hold the units' frames, merged across small gaps. */
  private spans(units: number): [number, number][] {
    const words = new Float64Array(units);
    for (let u = 0; u < units; u++) words[u] = Math.floor(this.unitPfn[u]! / 64);
    words.sort();
    const out: [number, number][] = [];
    for (let u = 0; u < units; u++) {
      const w = words[u]!;
      const last = out[out.length - 1];
      if (last && w <= last[1] + 64) last[1] = Math.max(last[1], w);
      else out.push([w, w]);
    }
    return out;
  }

  /** Keep the units whose frame is not a compound tail; returns the new count. */
  private dropTails(units: number, spans: [number, number][]): number {
    let kept = 0;
    const tail = new Uint8Array(units);
    for (const [from, to] of spans) {
      const n = (to - from + 1) * 64;
      const flags = new Uint32Array(2 * n);
      // frames whose flags the kernel would not give are dropped like tails: unknown this walk
      const got = this.refusable(() => this.phys.kpageflags(from * 64, n, flags), 0);
      for (let u = 0; u < units; u++) {
        const i = this.unitPfn[u]! - from * 64;
        if (i >= 0 && i < n && (i >= got || (this.unitHuge[u] === 0 && (flags[2 * i]! & KPF_COMPOUND_TAIL) !== 0))) tail[u] = 1;
      }
    }
    for (let u = 0; u < units; u++) {
      if (tail[u] === 1) continue;
      this.unitVa[kept] = this.unitVa[u]!;
      this.unitPfn[kept] = this.unitPfn[u]!;
      this.unitHuge[kept++] = this.unitHuge[u]!;
    }
    return kept;
  }

  /**
   * idle[u] = 1 when unit u's frame still has its idle flag, UNKNOWN when the kernel did not
   * answer for its word (the top of physical memory, or a span it refused).
   */
  private readIdle(units: number, spans: [number, number][]): Uint8Array {
    const idle = new Uint8Array(units).fill(UNKNOWN);
    for (const [from, to] of spans) {
      const buf = new Uint32Array(2 * (to - from + 1));
      const got = this.refusable(() => this.phys.idleRead(from, to - from + 1, buf), 0);
      for (let u = 0; u < units; u++) {
        const pfn = this.unitPfn[u]!;
        const w = Math.floor(pfn / 64);
        if (w < from || w >= from + got) continue;
        const bit = pfn % 64;
        const word32 = buf[2 * (w - from) + (bit >= 32 ? 1 : 0)]!;
        idle[u] = (word32 >>> (bit % 32)) & 1;
      }
    }
    return idle;
  }

  /** Set the idle flag of our frames for the next walk (a 0 bit leaves other frames alone). */
  private markIdle(units: number, spans: [number, number][]): void {
    for (const [from, to] of spans) {
      const buf = new Uint32Array(2 * (to - from + 1));
      for (let u = 0; u < units; u++) {
        const pfn = this.unitPfn[u]!;
        const w = Math.floor(pfn / 64);
        if (w < from || w > to) continue;
        const bit = pfn % 64;
        buf[2 * (w - from) + (bit >= 32 ? 1 : 0)]! |= 1 << bit % 32;
      }
      this.refusable(() => this.phys.idleWrite(from, to - from + 1, buf), undefined);
    }
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
