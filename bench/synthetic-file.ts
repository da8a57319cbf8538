import type { AccessFile } from '../src/kernel/types.js';
import { Bit, type WalkableSpace } from '../src/kernel/sim/address-space.js';
import { IdlePagesEncoder } from '../src/kernel/sim/idle-encoder.js';

const BASE = 0x7f0000000000;

/**
 * One VMA of 4 KiB pages whose workload touches the same pages between every two walks: a page
 * is accessed when a hash of its number falls under the share. Nothing per page is stored, so
 * a terabyte costs nothing but the walk.
 */
class SteadySpace implements WalkableSpace {
  readonly vmaCount = 1;
  constructor(private readonly bytes: number, private readonly share: number) {}
  vmaStart(): number {
    return BASE;
  }
  vmaEnd(): number {
    return BASE + this.bytes;
  }
  vmaHuge(): boolean {
    return false;
  }
  vmaSkipped(): boolean {
    return false;
  }
  pmdPopulated(): boolean {
    return true;
  }
  testAndClear(_vma: number, addr: number): number {
    const page = (addr - BASE) / 4096;
    return ((Math.imul(page, 2654435761) >>> 0) % 1000) / 1000 < this.share ? Bit.ACCESSED : Bit.IDLE;
  }
  restore(): void {}
}

/**
 * A read worker's opener for the benchmark: the simulated kernel's idle_pages encoder over a
 * SteadySpace of `gib` GiB, so a read costs what the simulated kernel's walk costs, in whichever
 * thread opened the file.
 */
export function openSynthetic(gib: number, share: number): AccessFile {
  const space = new SteadySpace(gib * 2 ** 30, share);
  const enc = new IdlePagesEncoder({ variant: 'rfc', boundaryLoss: false, dupPmdSkip: false });
  return {
    pread: (buf, count, pos) => enc.read(space, pos, count, buf).ret,
    close: () => {},
  };
}

export const SYNTHETIC_BASE = BASE;
