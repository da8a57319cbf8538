import type { HeatTable } from '../heat/heat-table.js';
import type { ProcessIdentity } from '../kernel/proc-text.js';
import type { MoveHistory } from './history.js';
import { PAGE_BYTES } from '../util/units.js';

export const Reason = { HOT: 0, COLD: 1, EXCHANGE: 2, FILL: 3 } as const;
/**
 * exchange: a warm fast-tier page demoted to make room for a clearly hotter one;
 * fill: a warm page (accessed in some walks, not all) promoted into free room beyond the headroom
 */
export const REASON_NAMES = ['hot', 'cold', 'exchange', 'fill'] as const;

/** A process the daemon tracks: its identity, its heat and its recent moves. */
export interface Target {
  id: ProcessIdentity;
  comm: string;
  heat: HeatTable;
  history: MoveHistory;
  /** trackable ranges as of the last walk, [start, end) pairs */
  ranges: Float64Array;
  gone: boolean;
}

/** The planned moves of one process, as parallel typed arrays. */
export class PlanList {
  addrs: Float64Array;
  shift: Uint8Array;
  toNode: Int32Array;
  dir: Uint8Array;
  reason: Uint8Array;
  count: Uint8Array;
  length = 0;
  /** bytes listed per direction (Dir.PROMOTE, Dir.DEMOTE), summed as moves are pushed */
  private readonly dirBytes = new Float64Array(2);
  constructor(readonly target: Target, capacity = 256) {
    this.addrs = new Float64Array(capacity);
    this.shift = new Uint8Array(capacity);
    this.toNode = new Int32Array(capacity);
    this.dir = new Uint8Array(capacity);
    this.reason = new Uint8Array(capacity);
    this.count = new Uint8Array(capacity);
  }
  push(addr: number, shift: number, toNode: number, dir: number, reason: number, count: number): void {
    if (this.length === this.addrs.length) this.grow();
    const i = this.length++;
    this.addrs[i] = addr;
    this.shift[i] = shift;
    this.toNode[i] = toNode;
    this.dir[i] = dir;
    this.reason[i] = reason;
    this.count[i] = count;
    this.dirBytes[dir]! += PAGE_BYTES[shift]!;
  }
  private grow(): void {
    const cap = this.addrs.length * 2;
    const g = <T extends Float64Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.addrs = g(this.addrs, (n) => new Float64Array(n));
    this.shift = g(this.shift, (n) => new Uint8Array(n));
    this.toNode = g(this.toNode, (n) => new Int32Array(n));
    this.dir = g(this.dir, (n) => new Uint8Array(n));
    this.reason = g(this.reason, (n) => new Uint8Array(n));
    this.count = g(this.count, (n) => new Uint8Array(n));
  }
  /** bytes listed in direction `dir`: summed as the moves were pushed, since a sum over a list of a few hundred thousand moves was a fifth of a plan */
  bytes(dir: number): number {
    return this.dirBytes[dir]!;
  }
}

export interface Plan {
  period: number;
  walks: number;
  lists: PlanList[];
  promoteBytes: number;
  demoteBytes: number;
  /** per tier index (last entry: placement unknown) */
  hotBytes: number[];
  coldBytes: number[];
  trackedBytes: number[];
  /** bytes of pages hot in every walk (what the auto interval steers) */
  hotSetBytes: number;
  /** bytes of pages promotable at all this period: hot or fill candidates, on any tier */
  warmSetBytes: number;
  /** pages whose placement was looked up this period */
  placementQueries: number;
  /** bytes of pages seen in all N walks, by count (for the fill threshold's adaptation) */
  countBytes: number[];
  /** fast-tier bytes beyond the free reserve the plan left empty */
  spareBytes: number;
  /** the fast tier was short of room for hot pages, or an exchange ran */
  short: boolean;
  notes: string[];
}
