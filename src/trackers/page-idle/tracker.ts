import type { PhysPages } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../../formats/idle-pages/decode.js';
import { PageType } from '../../formats/idle-pages/types.js';
import { TierdError } from '../../util/errors.js';
import { StreamWriter } from '../../formats/idle-pages/stream-writer.js';
import type { Tracker, WalkItem, WalkResult } from '../tracker.js';
import { FrameOrder } from './frame-order.js';

/**
 * Pages per pagemap read, and per batch: the unit of the frame sort. A batch's frames are read
 * from the bitmap once, so frames interleaved across batches cost one extra read each.
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

/** A piece of one target's address space, at most CHUNK pages: one pagemap read. */
interface Chunk {
  item: number;
  va: number;
  count: number;
}

/**
 * Chunks of one or more targets, at most CHUNK pages in all, whose frames are marked together
 * and read back together once the window has passed since `at`: a bitmap word holding frames
 * of several targets is read once for all of them.
 */
interface Batch {
  chunks: Chunk[];
  pages: number;
  at: number;
  /** the chunks, as the next walk will find them if the targets' ranges did not change */
  key: string;
  /** first unit of each chunk at the last collect, and one past the last */
  bounds: number[];
}

/** What one walk of several targets carries from stage to stage. */
interface WalkState {
  items: readonly WalkItem[];
  results: WalkResult[];
  decoders: IdlePagesDecoder[];
}

/**
 * The upstream page_idle tracker: virtual pages → frames through /proc/PID/pagemap, then the
 * idle flags of those frames in /sys/kernel/mm/page_idle/bitmap. A frame still idle since the
 * last walk marked it was not accessed. Pages shared with another process are left unknown
 * (never counted as the target's), and a THP is one 2 MiB page. The tail pages of a large folio
 * mapped by PTEs are left unknown: page_idle keeps the flag on the head only and reports every
 * tail as "not idle" on every read, which would make them look hot.
 *
 * All targets are walked in one pass (walkMany). The kernel reads the bitmap a 64-frame word at
 * a time and walks the rmap of every idle-flagged frame in a word read, whoever owns it: with
 * the frames of several processes interleaved (processes that fault in at the same time on one
 * node), a walk per target made each target pay for the others' frames too (`npm run bench`:
 * 7.30 bitmap frames per page for three interleaved processes walked apart, 3.30 together).
 * Marking and reading batches that hold several targets' chunks reads each shared word once.
 */
export class PageIdleTracker implements Tracker {
  readonly name = 'page_idle' as const;
  readonly grain = 'page' as const;
  readonly primesItself = true;
  private readonly pm = new Uint32Array(2 * CHUNK);
  private readonly flags = new Uint32Array(2);
  private readonly writer = new StreamWriter();
  // per batch: the pages we can say something about
  private readonly unitVa = new Float64Array(CHUNK);
  private readonly unitPfn = new Float64Array(CHUNK);
  private readonly unitHuge = new Uint8Array(CHUNK);
  private readonly idle = new Uint8Array(CHUNK);
  private readonly frames = new FrameOrder(CHUNK);
  private readonly keep = new Uint8Array(CHUNK);
  private readonly words = new Uint32Array(2 * (CHUNK + 1));
  private readonly flagBuf = new Uint32Array(2 * FLAG_PIECE);

  private refused = 0;
  private lastRefusal = '';
  /** per batch key: when its accessed frames were marked idle again at their read */
  private armed = new Map<string, number>();

  constructor(private readonly phys: PhysPages) {}

  /** the window a page's accessed bit is looked at for: the daemon's interval */
  private windowMs = 500;

  setInterval(ms: number): void {
    this.windowMs = ms;
  }

  walk(pid: number, ranges: Float64Array, heat: HeatTable | null): Promise<WalkResult> {
    return this.walkMany([{ pid, ranges, heat }]).then((r) => r[0]!);
  }

  /**
   * One walk of every item. Each batch's frames are marked idle, and read back once the window
   * has passed since their mark, while later batches are being marked: so a page is reported
   * accessed when it was used within the window, however long the walk takes. (Read-then-mark
   * in one pass made the window the whole walk plus the interval: 5–10 s for 1 GiB under TCG,
   * where the bitmap costs an rmap walk per frame, and every warm page looked hot.) An item
   * with heat = null is only marked.
   */
  async walkMany(items: readonly WalkItem[]): Promise<WalkResult[]> {
    const st: WalkState = {
      items,
      results: items.map(() => ({ status: 'ok', reads: 0, bytes: 0, stalls: 0, refused: 0 })),
      decoders: items.map(() => new IdlePagesDecoder()),
    };
    this.dropStaleArms();
    for (const it of items) it.heat?.beginWalk(false);
    try {
      await this.markAndRead(st);
    } finally {
      for (const it of items) it.heat?.endWalk();
    }
    return st.results;
  }

  /** Arms older than a window are never used (armBatch): forget them. */
  private dropStaleArms(): void {
    const now = performance.now();
    for (const [key, at] of this.armed) if (now - at > this.windowMs) this.armed.delete(key);
  }

  /** The pipeline: batches marked in turn, each read when its window is over. */
  private async markAndRead(st: WalkState): Promise<void> {
    const pending: Batch[] = [];
    const readReady = (): void => {
      while (pending.length > 0 && performance.now() - pending[0]!.at >= this.windowMs) this.readBatch(st, pending.shift()!);
    };
    for (const batch of this.batches(st)) {
      if (this.armBatch(st, batch) && st.items[batch.chunks[0]!.item]!.heat) pending.push(batch);
      readReady();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (pending.length > 0) {
      const wait = pending[0]!.at + this.windowMs - performance.now();
      if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
      readReady();
    }
  }

  /**
   * The items' chunks in order, cut into batches of at most CHUNK pages; an item that is only
   * marked (heat = null) is never batched with one that is read.
   */
  private *batches(st: WalkState): Generator<Batch> {
    let b: Batch | null = null;
    for (let item = 0; item < st.items.length; item++) {
      const { ranges, heat } = st.items[item]!;
      for (let r = 0; r < ranges.length; r += 2) {
        for (let va = ranges[r]!; va < ranges[r + 1]!; ) {
          const count = Math.min(CHUNK, (ranges[r + 1]! - va) / 4096);
          const mixed = b !== null && (st.items[b.chunks[0]!.item]!.heat === null) !== (heat === null);
          if (b !== null && (b.pages + count > CHUNK || mixed)) {
            yield b;
            b = null;
          }
          b ??= { chunks: [], pages: 0, at: 0, key: '', bounds: [] };
          b.chunks.push({ item, va, count });
          b.pages += count;
          b.key += `${st.items[item]!.pid}:${va}:${count};`;
          va += count * 4096;
        }
      }
    }
    if (b !== null) yield b;
  }

  /**
   * Start a batch's window: marked afresh, or not at all when the last walk read and re-armed
   * the same chunks less than a window ago. A frame that read idle then still has its idle
   * flag, and the read's rmap walk cleared its accessed bits, as a mark would have; the frames
   * it read accessed were marked again right then. So the window starts at that arm, and the
   * walk skips the pagemap read and the bitmap write of the idle frames, the larger half of a
   * walk's kernel work on a mostly idle target. Older arms are not used: the window would be
   * longer than the interval. Returns false when every target of the batch has exited.
   */
  private armBatch(st: WalkState, b: Batch): boolean {
    const arm = this.armed.get(b.key);
    if (arm !== undefined && performance.now() - arm <= this.windowMs) {
      b.at = arm;
      return true;
    }
    const refusedBefore = this.refused;
    const units = this.collect(st, b, false);
    if (units > 0) {
      this.frames.sort(this.unitPfn, units);
      this.forEachRun(units, (i, j) => this.markRun(i, j, false));
    }
    this.countRefusals(st, b, refusedBefore);
    b.at = performance.now();
    return b.chunks.some((c) => st.results[c.item]!.status === 'ok');
  }

  /**
   * Read a marked batch's idle flags (its frames read afresh: a page may have moved), mark its
   * accessed frames idle again (the batch is armed for the next walk), and give each chunk's
   * pages to its target's heat.
   */
  private readBatch(st: WalkState, b: Batch): void {
    const refusedBefore = this.refused;
    const units = this.collect(st, b, true);
    if (units > 0) {
      this.frames.sort(this.unitPfn, units);
      this.idle.fill(UNKNOWN, 0, units);
      this.forEachRun(units, (i, j) => this.readRun(i, j));
      this.forEachRun(units, (i, j) => this.markRun(i, j, true));
    }
    this.armed.set(b.key, performance.now());
    b.chunks.forEach((c, ci) => this.emit(st, c, b.bounds[ci]!, b.bounds[ci + 1]!));
    this.countRefusals(st, b, refusedBefore);
  }

  /** Refusals since `before` go to every target of the batch: a refused span may hold frames of any of them. */
  private countRefusals(st: WalkState, b: Batch, before: number): void {
    if (this.refused === before) return;
    for (const item of new Set(b.chunks.map((c) => c.item))) {
      const r = st.results[item]!;
      r.refused = (r.refused ?? 0) + this.refused - before;
      r.refusal = this.lastRefusal;
    }
  }

  /**
   * The units of a batch's chunks, chunk after chunk (b.bounds[k] is chunk k's first). A target
   * that exited is marked gone and its chunks give nothing; the others go on.
   */
  private collect(st: WalkState, b: Batch, counted: boolean): number {
    let units = 0;
    b.bounds.length = 0;
    for (const c of b.chunks) {
      b.bounds.push(units);
      const res = st.results[c.item]!;
      if (res.status === 'gone') continue;
      let n: number;
      try {
        n = this.phys.pagemap(st.items[c.item]!.pid, c.va, c.count, this.pm);
      } catch (e) {
        if (!(e instanceof TierdError) || e.code !== 'PROCESS_GONE') throw e;
        res.status = 'gone';
        continue;
      }
      res.reads++;
      if (counted) res.bytes += n * 8;
      units = this.collectUnits(c.va, n, units);
    }
    b.bounds.push(units);
    return units;
  }

  /** One chunk's pages, read idle or accessed, into its target's heat (unknown ones skipped). */
  private emit(st: WalkState, c: Chunk, from: number, to: number): void {
    const heat = st.items[c.item]!.heat;
    if (heat === null || from === to) return;
    const w = this.writer;
    w.clear();
    for (let u = from; u < to; u++) {
      if (this.idle[u] === UNKNOWN) continue;
      const huge = this.unitHuge[u] === 1;
      const type = this.idle[u] === 1 ? (huge ? PageType.PMD_IDLE : PageType.PTE_IDLE) : huge ? PageType.PMD_ACCESSED : PageType.PTE_ACCESSED;
      w.add(this.unitVa[u]!, type, 1);
    }
    heat.ingest(st.decoders[c.item]!, w.buf, w.length);
  }

  /**
   * Runs of units whose bitmap words are adjacent (sorted k in [i, j)): one call per file per
   * run, and no word of the bitmap is read twice.
   */
  private forEachRun(units: number, f: (i: number, j: number) => void): void {
    const pfn = this.frames.pfn;
    for (let i = 0; i < units; ) {
      let j = i + 1;
      while (j < units && Math.floor(pfn[j]! / 64) <= Math.floor(pfn[j - 1]! / 64) + 1) j++;
      f(i, j);
      i = j;
    }
  }

  /**
   * The pages of a pagemap chunk we can say something about (present, exclusive), a THP as one
   * unit, appended from unit `units`; returns the units after them.
   */
  private collectUnits(base: number, n: number, from: number): number {
    const pm = this.pm;
    let units = from;
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

  /** Read one run's idle flags into idle[] (compound tails and refused words stay unknown). */
  private readRun(i: number, j: number): void {
    const pfn = this.frames.pfn;
    const first = Math.floor(pfn[i]! / 64);
    const words = Math.floor(pfn[j - 1]! / 64) - first + 1;
    const keep = this.dropTails(i, j);
    const buf = this.words.subarray(0, 2 * words);
    const got = this.refusable(() => this.phys.idleRead(first, words, buf), 0);
    for (let k = i; k < j; k++) {
      const w = Math.floor(pfn[k]! / 64) - first;
      if (keep[k - i] === 0 || w >= got) continue;
      const bit = pfn[k]! % 64;
      this.idle[this.frames.order[k]!] = (buf[2 * w + (bit >= 32 ? 1 : 0)]! >>> (bit % 32)) & 1;
    }
  }

  /**
   * Set the idle flag of one run's frames, or (accessedOnly) of those just read accessed. A 0 bit
   * leaves its frame alone, and costs the kernel nothing: its rmap walk is per set bit.
   */
  private markRun(i: number, j: number, accessedOnly: boolean): void {
    const pfn = this.frames.pfn;
    const first = Math.floor(pfn[i]! / 64);
    const words = Math.floor(pfn[j - 1]! / 64) - first + 1;
    const buf = this.words.subarray(0, 2 * words).fill(0);
    let bits = 0;
    for (let k = i; k < j; k++) {
      if (accessedOnly && this.idle[this.frames.order[k]!] !== 0) continue;
      const w = Math.floor(pfn[k]! / 64) - first;
      const bit = pfn[k]! % 64;
      buf[2 * w + (bit >= 32 ? 1 : 0)]! |= 1 << bit % 32;
      bits++;
    }
    if (bits > 0) this.refusable(() => this.phys.idleWrite(first, words, buf), undefined);
  }

  /**
   * keep[k - i] = 0 for a unit of the run whose frame is a compound tail (the kernel never marks
   * it idle) or whose flags the kernel would not give: unknown this walk. The flags are read
   * over the run's frames only, in pieces of at most FLAG_PIECE frames.
   */
  private dropTails(i: number, j: number): Uint8Array {
    const pfn = this.frames.pfn;
    const keep = this.keep.subarray(0, j - i).fill(1);
    let k = i;
    while (k < j) {
      const from = pfn[k]!;
      let end = k;
      while (end < j && pfn[end]! < from + FLAG_PIECE) end++;
      const count = pfn[end - 1]! - from + 1;
      const got = this.refusable(() => this.phys.kpageflags(from, count, this.flagBuf), 0);
      for (; k < end; k++) {
        const f = pfn[k]! - from;
        if (f >= got || (this.unitHuge[this.frames.order[k]!] === 0 && (this.flagBuf[2 * f]! & KPF_COMPOUND_TAIL) !== 0)) keep[k - i] = 0;
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
