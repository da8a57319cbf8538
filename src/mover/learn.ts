import type { HeatTable } from '../heat/heat-table.js';
import type { Segment } from '../heat/segment.js';
import type { StateSpace } from '../heat/states.js';
import type { Target } from '../planner/plan.js';

/**
 * What the mover learns of a page's placement (its query before a batch, the move's status) goes
 * back into the page's heat state. A page found where its state already says is not written:
 * a write marks the page's chunk MIXED, and the period's passes then read that chunk page by
 * page. A batch's pages are in address order, so most fall in the segment of the page before:
 * that one is tried before the search over the target's segments.
 */
export class PlacementLearner {
  private heat: HeatTable | null = null;
  private seg: Segment | null = null;

  /** tierOf: the tier index per node id (-1 or absent: not a tier of this topology) */
  constructor(private readonly tierOf: ArrayLike<number>, private readonly space: StateSpace) {}

  learn(t: Target, addr: number, node: number): void {
    const tier = node < this.tierOf.length ? this.tierOf[node]! : -1;
    if (tier < 0) return;
    const seg = this.segmentOf(t.heat, addr);
    if (seg === null) return;
    const slot = seg.slotOf(addr);
    const s = seg.states[slot]!;
    const placed = this.space.withTier(s, tier + 1);
    if (placed !== s) seg.put(slot, placed);
  }

  private segmentOf(heat: HeatTable, addr: number): Segment | null {
    const last = this.seg;
    if (this.heat === heat && last !== null && addr >= last.start && addr < last.end) return last;
    const g = heat.segmentIndex(addr);
    this.heat = heat;
    this.seg = g < 0 ? null : heat.segments[g]!;
    return this.seg;
  }
}
