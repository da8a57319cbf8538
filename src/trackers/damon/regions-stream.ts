import type { DamonRegion } from '../../kernel/types.js';
import { PageType } from '../idle-pages/types.js';
import type { StreamWriter } from '../stream-writer.js';

const PMD = 2097152;
const PAGE = 4096;

/** 2 MiB-aligned units wholly inside the huge ranges, as unit start addresses. */
function hugeUnits(huge: Float64Array | null): Float64Array {
  if (!huge) return new Float64Array(0);
  let n = 0;
  for (let i = 0; i < huge.length; i += 2) n += Math.max(0, Math.floor(huge[i + 1]! / PMD) - Math.ceil(huge[i]! / PMD));
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < huge.length; i += 2) {
    for (let a = Math.ceil(huge[i]! / PMD) * PMD; a + PMD <= huge[i + 1]!; a += PMD) out[k++] = a;
  }
  return out;
}

/**
 * DAMON regions as an idle_pages stream, clipped to the trackable ranges. A region with any
 * sampled access is accessed for every page in it. A PMD-mapped THP becomes one 2 MiB record
 * (accessed when any region over it was), because move_pages moves the whole folio whichever
 * of its addresses it is given: planning it as 512 small pages would count one and see the
 * other 511 fail as busy.
 */
export function writeRegions(w: StreamWriter, regions: readonly DamonRegion[], ranges: Float64Array, huge: Float64Array | null): void {
  const sorted = [...regions].sort((a, b) => a.start - b.start);
  const units = hugeUnits(huge);
  const hot = new Uint8Array(units.length);
  // a unit is accessed when any region overlapping it was
  let u = 0;
  for (const g of sorted) {
    while (u < units.length && units[u]! + PMD <= g.start) u++;
    for (let k = u; k < units.length && units[k]! < g.end; k++) if (g.nrAccesses > 0) hot[k] = 1;
  }
  u = 0;
  let emitted = 0; // everything below has been written
  let r = 0;
  for (const g of sorted) {
    while (r < ranges.length && ranges[r + 1]! <= g.start) r += 2;
    const type = g.nrAccesses > 0 ? PageType.PTE_ACCESSED : PageType.PTE_IDLE;
    for (let k = r; k < ranges.length && ranges[k]! < g.end; k += 2) {
      const to = Math.min(g.end, ranges[k + 1]!);
      let p = Math.max(g.start, ranges[k]!, emitted);
      while (p < to) {
        while (u < units.length && units[u]! + PMD <= p) u++;
        if (u < units.length && units[u]! <= p) {
          w.add(units[u]!, hot[u] === 1 ? PageType.PMD_ACCESSED : PageType.PMD_IDLE, 1);
          p = emitted = units[u]! + PMD;
          u++;
          continue;
        }
        const next = u < units.length ? Math.min(to, units[u]!) : to;
        if (next > p) w.add(p, type, (next - p) / PAGE);
        p = emitted = next;
      }
    }
  }
}
