import { Bit, type WalkableSpace } from './address-space.js';
import type { Phase, ScenarioProcess } from './scenario.js';
import { Prng } from './prng.js';
import { phaseRates } from './workload.js';

export const ABSENT = 255;
const PMD = 2 ** 21;
const BASE = 0x7f0000000000;

/**
 * A simulated process: VMAs laid out with gaps, one entry per page (4 KiB or 2 MiB), each with
 * its node, its access rate, and the time its accessed bit was last cleared. A page's bit is
 * set with probability 1 − exp(−rate·Δt) since that clear, drawn when the bit is read.
 */
export class SimProcess implements WalkableSpace {
  readonly pid: number;
  readonly starttime: number;
  readonly comm: string;
  alive = true;
  readonly vStart: Float64Array;
  readonly vEnd: Float64Array;
  readonly vHuge: Uint8Array;
  readonly vBase: Int32Array;
  readonly pages: number;
  readonly node: Uint8Array;
  readonly units: Uint16Array;
  readonly rate: Float32Array;
  readonly lastClear: Float64Array;
  readonly sticky: Uint8Array;
  readonly shared: Uint8Array;
  readonly phases: Phase[];
  phaseIndex = -1;
  /** sum of page access rates per node id, kept as pages move and phases change */
  readonly rateOnNode = new Float64Array(256);
  readonly exitAt: number | undefined;
  private readonly rng: Prng;
  private readonly seed: number;
  /** current virtual time in seconds, set by the kernel before each read */
  nowSec = 0;

  constructor(spec: ScenarioProcess, pid: number, starttime: number, seed: number) {
    this.pid = pid;
    this.starttime = starttime;
    this.comm = spec.name;
    this.phases = spec.phases;
    this.exitAt = spec.exitAt;
    this.seed = seed;
    this.rng = new Prng(seed);
    const n = spec.memory.length;
    this.vStart = new Float64Array(n);
    this.vEnd = new Float64Array(n);
    this.vHuge = new Uint8Array(n);
    this.vBase = new Int32Array(n);
    let addr = BASE;
    let pages = 0;
    spec.memory.forEach((m, i) => {
      const huge = m.pageSize === PMD;
      if (huge) addr = Math.ceil(addr / PMD) * PMD;
      this.vStart[i] = addr;
      this.vEnd[i] = addr + m.size;
      this.vHuge[i] = huge ? 1 : 0;
      this.vBase[i] = pages;
      pages += m.size / m.pageSize;
      // a gap after every VMA, not 2 MiB-aligned for 4 KiB VMAs so PMDs can be shared
      addr += m.size + PMD + (huge ? 0 : 64 * 1024);
    });
    this.pages = pages;
    this.node = new Uint8Array(pages);
    this.units = new Uint16Array(pages);
    this.rate = new Float32Array(pages);
    this.lastClear = new Float64Array(pages);
    this.sticky = new Uint8Array(pages);
    this.shared = new Uint8Array(pages);
    spec.memory.forEach((m, i) => {
      const from = this.vBase[i]!;
      const to = from + m.size / m.pageSize;
      this.node.fill(m.node, from, to);
      this.units.fill(m.pageSize / 4096, from, to);
      if (m.shared > 0) for (let p = from; p < to; p++) this.shared[p] = this.rng.next() < m.shared ? 1 : 0;
    });
  }

  /** Switch to the phase in force at time t (seconds); true when the rates changed. */
  updatePhase(tSec: number): boolean {
    let idx = -1;
    for (let i = 0; i < this.phases.length; i++) if (this.phases[i]!.at / 1000 <= tSec) idx = i;
    if (idx === this.phaseIndex) return false;
    this.phaseIndex = idx;
    if (idx < 0) this.rate.fill(0);
    else phaseRates(this.phases[idx]!, this.units, this.seed + idx, this.rate);
    this.recomputeRates();
    return true;
  }

  recomputeRates(): void {
    this.rateOnNode.fill(0);
    for (let i = 0; i < this.pages; i++) if (this.node[i] !== ABSENT) this.rateOnNode[this.node[i]!]! += this.rate[i]!;
  }

  /** Record that page i now lives on node `to`. */
  place(i: number, to: number): void {
    const r = this.rate[i]!;
    this.rateOnNode[this.node[i]!]! -= r;
    this.rateOnNode[to]! += r;
    this.node[i] = to;
  }

  /** Next phase start after t (seconds), or Infinity. */
  nextPhaseAt(tSec: number): number {
    for (const p of this.phases) if (p.at / 1000 > tSec) return p.at / 1000;
    return Infinity;
  }

  pageIndex(addr: number): number {
    let lo = 0;
    let hi = this.vStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vEnd[mid]! > addr) hi = mid;
      else lo = mid + 1;
    }
    if (lo >= this.vStart.length || this.vStart[lo]! > addr) return -1;
    const size = this.vHuge[lo] ? PMD : 4096;
    return this.vBase[lo]! + Math.floor((addr - this.vStart[lo]!) / size);
  }

  pageAddr(idx: number): number {
    let v = 0;
    while (v + 1 < this.vBase.length && this.vBase[v + 1]! <= idx) v++;
    return this.vStart[v]! + (idx - this.vBase[v]!) * (this.vHuge[v] ? PMD : 4096);
  }

  // WalkableSpace
  get vmaCount(): number {
    return this.vStart.length;
  }
  vmaStart(i: number): number {
    return this.vStart[i]!;
  }
  vmaEnd(i: number): number {
    return this.vEnd[i]!;
  }
  vmaHuge(i: number): boolean {
    return this.vHuge[i] === 1;
  }
  vmaSkipped(): boolean {
    return false;
  }
  pmdPopulated(v: number, pmdStart: number): boolean {
    const from = Math.max(pmdStart, this.vStart[v]!);
    const to = Math.min(pmdStart + PMD, this.vEnd[v]!);
    const base = this.vBase[v]!;
    const i0 = base + (from - this.vStart[v]!) / 4096;
    const i1 = base + (to - this.vStart[v]!) / 4096;
    for (let i = i0; i < i1; i++) if (this.node[i] !== ABSENT) return true;
    return false;
  }
  testAndClear(v: number, addr: number): number {
    const i = this.vBase[v]! + Math.floor((addr - this.vStart[v]!) / (this.vHuge[v] ? PMD : 4096));
    if (this.node[i] === ABSENT) return Bit.ABSENT;
    const now = this.nowSec;
    const dt = now - this.lastClear[i]!;
    this.lastClear[i] = now;
    if (this.sticky[i] === 1) {
      this.sticky[i] = 0;
      return Bit.ACCESSED;
    }
    const r = this.rate[i]!;
    if (r === 0 || dt <= 0) return Bit.IDLE;
    return this.rng.next() < 1 - Math.exp(-r * dt) ? Bit.ACCESSED : Bit.IDLE;
  }
  restore(v: number, addr: number): void {
    const i = this.vBase[v]! + Math.floor((addr - this.vStart[v]!) / (this.vHuge[v] ? PMD : 4096));
    this.sticky[i] = 1;
  }
}
