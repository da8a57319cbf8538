import type { DamonRegion } from '../../kernel/types.js';
import { PageType } from '../../formats/idle-pages/types.js';
import type { StreamWriter } from '../../formats/idle-pages/stream-writer.js';

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
 * The trackable ranges cut by the accessed regions: [start, end, accessed] triples in address
 * order covering every byte of the ranges. Parts no region covers were idle: the kernel lists
 * only the regions with a sampled access (the stat scheme's access pattern), and vaddr regions
 * cover every mapping.
 */
function segments(regions: readonly DamonRegion[], ranges: Float64Array): number[] {
  const sorted = [...regions].filter((g) => g.nrAccesses > 0).sort((a, b) => a.start - b.start);
  const out: number[] = [];
  let g = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const end = ranges[r + 1]!;
    let pos = ranges[r]!;
    while (g < sorted.length && sorted[g]!.end <= pos) g++;
    for (let k = g; k < sorted.length && sorted[k]!.start < end; k++) {
      const from = Math.max(pos, sorted[k]!.start);
      const to = Math.min(end, sorted[k]!.end);
      if (from > pos) out.push(pos, from, 0);
      if (to > from) out.push(from, to, 1);
      pos = Math.max(pos, to);
    }
    if (pos < end) out.push(pos, end, 0);
  }
  return out;
}

/**
 * DAMON's accessed regions as an idle_pages stream over the trackable ranges: a page in a region
 * with a sampled access is accessed, every other page idle. A PMD-mapped THP becomes one 2 MiB
 * record (accessed when any accessed region overlaps it), because move_pages moves the whole
 * folio whichever of its addresses it is given: planning it as 512 small pages would count one
 * and see the other 511 fail as busy.
 */
export function writeRegions(w: StreamWriter, regions: readonly DamonRegion[], ranges: Float64Array, huge: Float64Array | null): void {
  const seg = segments(regions, ranges);
  const units = hugeUnits(huge);
  const hot = new Uint8Array(units.length);
  let u = 0;
  for (let i = 0; i < seg.length; i += 3) {
    if (seg[i + 2] === 0) continue;
    while (u < units.length && units[u]! + PMD <= seg[i]!) u++;
    for (let k = u; k < units.length && units[k]! < seg[i + 1]!; k++) hot[k] = 1;
  }
  u = 0;
  let emitted = 0; // everything below has been written
  for (let i = 0; i < seg.length; i += 3) {
    const to = seg[i + 1]!;
    const type = seg[i + 2] === 1 ? PageType.PTE_ACCESSED : PageType.PTE_IDLE;
    let p = Math.max(seg[i]!, emitted);
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
