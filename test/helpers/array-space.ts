import { Bit, type WalkableSpace } from '../../src/kernel/sim/address-space.js';

export interface TestVma {
  start: number;
  end: number;
  huge?: boolean;
  skipped?: boolean;
  /** one entry per page (4 KiB, or 2 MiB when huge): Bit.ABSENT / IDLE / ACCESSED */
  bits: number[];
}

/** A page table made of plain arrays, for encoder tests. */
export class ArraySpace implements WalkableSpace {
  constructor(readonly vmas: TestVma[]) {}
  get vmaCount(): number { return this.vmas.length; }
  vmaStart(i: number): number { return this.vmas[i]!.start; }
  vmaEnd(i: number): number { return this.vmas[i]!.end; }
  vmaHuge(i: number): boolean { return this.vmas[i]!.huge === true; }
  vmaSkipped(i: number): boolean { return this.vmas[i]!.skipped === true; }
  private idx(v: number, addr: number): number {
    const vma = this.vmas[v]!;
    return Math.floor((addr - vma.start) / (vma.huge ? 2 ** 21 : 4096));
  }
  pmdPopulated(v: number, pmdStart: number): boolean {
    const vma = this.vmas[v]!;
    const from = Math.max(vma.start, pmdStart);
    const to = Math.min(vma.end, pmdStart + 2 ** 21);
    for (let a = from; a < to; a += 4096) if (vma.bits[this.idx(v, a)] !== Bit.ABSENT) return true;
    return false;
  }
  testAndClear(v: number, addr: number): number {
    const vma = this.vmas[v]!;
    const i = this.idx(v, addr);
    const b = vma.bits[i] ?? Bit.ABSENT;
    if (b === Bit.ACCESSED) vma.bits[i] = Bit.IDLE;
    return b;
  }
  restore(v: number, addr: number): void {
    this.vmas[v]!.bits[this.idx(v, addr)] = Bit.ACCESSED;
  }
}

export function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}
