import { SyscallError, ERRNO } from '../../util/errors.js';
import {
  KERNEL_CHUNK, PAGE_SIZE_OF, PageType, ScanFlag, TASK_SIZE, VA_PER_BYTE, writeSetHva,
} from '../../formats/idle-pages/types.js';
import { Bit, type WalkableSpace } from './address-space.js';

export type KernelVariant = 'mod' | 'rfc';

export interface EncoderOptions {
  /** 'mod': Intel's out-of-tree module (the default); 'rfc': the 2018 in-tree patches. */
  variant?: KernelVariant;
  /** The page at a full chunk loses its accessed bit (spec §2.6.1). On by default, as in the kernel. */
  boundaryLoss?: boolean;
  /** Skip a PMD whose 2 MiB address equals the previous call's (spec §2.6.2). On by default. */
  dupPmdSkip?: boolean;
  /** Open flags of the file (ScanFlag bits). */
  flags?: number;
}

const OK = 0;
const KBUF_FULL = 1;
const BUF_FULL = 2;
const STOP = 3;
const PMD = 2 ** 21;
const PAGE = 4096;

function roundDown(a: number, sz: number): number {
  return a - (a % sz);
}
function roundUp(a: number, sz: number): number {
  const r = a % sz;
  return r === 0 ? a : a - r + sz;
}

export interface ReadResult {
  /** read(2)'s return value: bytes written (MOD's count=19 bug returns 1 and writes nothing). */
  ret: number;
  /** the file position after the read */
  pos: number;
}

/**
 * The kernel side of /proc/PID/idle_pages for a normal task, as the spec's §3 pseudocode
 * and §2.4 boundary rules describe it: 8000-byte chunks, runs of 1..15, SET_HVA when not
 * contiguous or first in a chunk, leading holes merged away, the tail marker, and
 * test-and-clear of every reported accessed bit.
 */
export class IdlePagesEncoder {
  readonly variant: KernelVariant;
  readonly boundaryLoss: boolean;
  readonly dupPmdSkip: boolean;
  readonly hugeScan: boolean;

  // per-read state (a read is synchronous, so one encoder serves one file)
  private out: Uint8Array = new Uint8Array(0);
  private count = 0;
  private copied = 0;
  private pieRead = 0;
  private pieReadMax = 0;
  private nextHva = 0;
  private restart = 0;
  private lastVa = -1;

  constructor(opts: EncoderOptions = {}) {
    this.variant = opts.variant ?? 'mod';
    this.boundaryLoss = opts.boundaryLoss ?? true;
    this.dupPmdSkip = opts.dupPmdSkip ?? true;
    this.hugeScan = ((opts.flags ?? 0) & ScanFlag.SCAN_HUGE_PAGE) !== 0;
  }

  /** pread(fd, out, count, pos). Throws SyscallError(EINVAL) as the kernel does. */
  read(space: WalkableSpace, pos: number, count: number, out: Uint8Array): ReadResult {
    if (pos >= TASK_SIZE) return { ret: 0, pos };
    if (pos % PAGE !== 0) throw new SyscallError('read', ERRNO.EINVAL, 'offset not 4 KiB-aligned');
    if (count < 19) throw new SyscallError('read', ERRNO.EINVAL, 'buffer smaller than 19 bytes');
    if (out.length < count) throw new RangeError('buffer shorter than count');
    const end = pos + count * VA_PER_BYTE;
    this.out = out;
    this.count = count;
    this.copied = 0;
    this.nextHva = 0;
    this.restart = pos;
    this.lastVa = -1;
    if (this.initChunk() !== OK) return { ret: 1, pos };
    let start = pos;
    while (start < end) {
      const vi = this.findVma(space, start);
      if (vi >= 0 && end > space.vmaStart(vi)) {
        this.walk(space, vi, start, end);
      } else if (vi >= 0) {
        this.restart = space.vmaStart(vi); // VMA-HOLE
      } else {
        this.restart = TASK_SIZE; // EOF
      }
      start = this.restart;
      if (this.copyUser(start, end) !== OK) break;
    }
    return { ret: this.copied, pos: this.nextHva };
  }

  private findVma(space: WalkableSpace, addr: number): number {
    let lo = 0;
    let hi = space.vmaCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (space.vmaEnd(mid) > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo < space.vmaCount ? lo : -1;
  }

  private initChunk(): number {
    this.pieRead = 0;
    this.pieReadMax = Math.min(KERNEL_CHUNK, this.count - this.copied) - 9;
    if (this.variant === 'mod' && this.pieReadMax <= 10) return KBUF_FULL;
    return OK;
  }

  private emitSetHva(addr: number): void {
    writeSetHva(this.out, this.copied + this.pieRead, addr);
    this.pieRead += 9;
  }

  private addPage(addr: number, nextIn: number, type: number): number {
    const sz = PAGE_SIZE_OF[type]!;
    const next = roundUp(nextIn, sz);
    if (this.pieRead === 0 || addr !== this.nextHva) {
      if (type === PageType.PTE_HOLE || type === PageType.PMD_HOLE) {
        this.restart = next;
        return OK;
      }
      if (this.pieRead + 10 >= this.pieReadMax) {
        this.restart = addr;
        return KBUF_FULL;
      }
      this.emitSetHva(roundDown(addr, sz));
    } else {
      const p = this.copied + this.pieRead - 1;
      const last = this.out[p]!;
      if (last >>> 4 === type && (last & 15) < 15) {
        this.out[p] = last + 1;
        this.nextHva = next;
        this.restart = next;
        return OK;
      }
      if (this.pieRead >= this.pieReadMax) {
        this.restart = addr;
        return KBUF_FULL;
      }
    }
    this.out[this.copied + this.pieRead] = (type << 4) | 1;
    this.pieRead++;
    this.nextHva = next;
    this.restart = next;
    return OK;
  }

  /** walk_page_range(start, end) over the VMAs from vi on; sets restart. */
  private walk(space: WalkableSpace, vi: number, start: number, end: number): void {
    let lastEnd = start;
    for (let v = vi; v < space.vmaCount && space.vmaStart(v) < end; v++) {
      const vs = Math.max(start, space.vmaStart(v));
      const ve = Math.min(end, space.vmaEnd(v));
      lastEnd = ve;
      if (space.vmaSkipped(v)) continue;
      for (let addr = vs; addr < ve;) {
        const next = Math.min(roundDown(addr, PMD) + PMD, ve);
        if (this.pmdEntry(space, v, addr, next) !== OK) return;
        addr = next;
      }
    }
    this.restart = lastEnd;
  }

  private pmdEntry(space: WalkableSpace, v: number, addr: number, next: number): number {
    const pmdStart = roundDown(addr, PMD);
    if (this.dupPmdSkip && this.lastVa >= 0 && roundDown(this.lastVa, PMD) === pmdStart) return OK;
    this.lastVa = addr;
    if (space.vmaHuge(v)) {
      const bit = space.testAndClear(v, pmdStart);
      if (bit === Bit.ABSENT) return OK; // pmd_none: silent gap
      const r = this.addPage(addr, next, bit === Bit.ACCESSED ? PageType.PMD_ACCESSED : PageType.PMD_IDLE);
      if (r !== OK && !this.boundaryLoss && bit === Bit.ACCESSED) space.restore(v, pmdStart);
      return r;
    }
    if (!space.pmdPopulated(v, pmdStart)) return OK;
    if (this.hugeScan) return this.addPage(addr, next, PageType.PMD_IDLE_PTES);
    for (let a = addr; a < next; a += PAGE) {
      const bit = space.testAndClear(v, a);
      const t = bit === Bit.ABSENT ? PageType.PTE_HOLE : bit === Bit.ACCESSED ? PageType.PTE_ACCESSED : PageType.PTE_IDLE;
      const r = this.addPage(a, a + PAGE, t);
      if (r !== OK) {
        if (!this.boundaryLoss && bit === Bit.ACCESSED) space.restore(v, a);
        return r;
      }
    }
    return OK;
  }

  private copyUser(startIn: number, end: number): number {
    let start = startIn;
    let last = false;
    if (this.pieRead === 0) {
      last = true; // no progress
      start = Math.max(start, end);
    }
    if (start >= end && start > this.nextHva) {
      this.emitSetHva(start); // the 9 bytes reserved at every chunk's end
      this.nextHva = start;
    }
    if (this.pieRead === 0) return STOP;
    this.copied += this.pieRead;
    this.pieRead = 0;
    if (this.copied >= this.count) return BUF_FULL;
    if (last) return STOP;
    return this.initChunk();
  }
}
