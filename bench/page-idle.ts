import { performance } from 'node:perf_hooks';
import type { PhysPages } from '../src/kernel/types.js';
import { PageIdleTracker } from '../src/trackers/page-idle/tracker.js';
import { HeatTable } from '../src/heat/heat-table.js';
import { StateSpace } from '../src/heat/states.js';
import { Prng } from '../src/kernel/sim/prng.js';
import { fmt, stat, table, type Stat } from './util.js';

/**
 * Processes whose pages sit on frames scattered over a node twice their size (a random
 * permutation, as after migrations; several processes' frames interleave), with an idle bitmap
 * in memory. It counts what the kernel
 * would do for each call: a frame in a bitmap read or write costs an rmap walk when it is on the
 * LRU (every frame here is), a frame in a kpageflags read costs a flags lookup.
 */
class ScatteredPhys implements PhysPages {
  /** per process (pid 1, 2, ...): its pages' frames */
  readonly pfn: Float64Array[];
  private readonly idle: Uint8Array;
  calls = 0;
  bitmapFrames = 0;
  flagFrames = 0;

  constructor(readonly pages: number, accessed: number, processes = 1) {
    const frames = 2 * pages * processes;
    const perm = new Prng(7).permutation(frames);
    this.pfn = Array.from({ length: processes }, (_, p) => Float64Array.from(perm.subarray(p * pages, (p + 1) * pages)));
    this.idle = new Uint8Array(frames);
    this.accessedShare = accessed;
  }

  private readonly accessedShare: number;

  /** the workload runs between two walks: a share of its frames lose their idle flag */
  touch(rng: Prng): void {
    for (const pfn of this.pfn) for (let i = 0; i < this.pages; i++) if (rng.next() < this.accessedShare) this.idle[pfn[i]!] = 0;
  }

  pagemap(pid: number, vaddr: number, count: number, out: Uint32Array): number {
    this.calls++;
    const pfn = this.pfn[pid - 1]!;
    const first = vaddr / 4096;
    const n = Math.max(0, Math.min(count, this.pages - first));
    for (let i = 0; i < n; i++) {
      out[2 * i] = pfn[first + i]!;
      out[2 * i + 1] = 0x81000000; // present, exclusive
    }
    return n;
  }

  kpageflags(_pfn: number, count: number, out: Uint32Array): number {
    this.calls++;
    this.flagFrames += count;
    out.fill(0, 0, 2 * count);
    return count;
  }

  /** the workload's accesses inside a walk's window: run at the first read after a mark */
  beforeRead: (() => void) | null = null;
  private marked = false;

  idleRead(word: number, count: number, out: Uint32Array): number {
    this.calls++;
    if (this.marked) {
      this.marked = false;
      this.beforeRead?.();
    }
    this.bitmapFrames += 64 * count;
    out.fill(0, 0, 2 * count);
    for (let f = word * 64; f < (word + count) * 64 && f < this.idle.length; f++) {
      if (this.idle[f] === 1) out[2 * (Math.floor(f / 64) - word) + (f % 64 >= 32 ? 1 : 0)]! |= 1 << f % 32;
    }
    return count;
  }

  idleWrite(word: number, count: number, data: Uint32Array): void {
    this.calls++;
    this.marked = true;
    for (let w = 0; w < count; w++) {
      for (let half = 0; half < 2; half++) {
        const bits = data[2 * w + half]!;
        if (bits === 0) continue;
        for (let b = 0; b < 32; b++) {
          if ((bits >>> b) & 1) {
            this.idle[(word + w) * 64 + half * 32 + b] = 1;
            this.bitmapFrames++;
          }
        }
      }
    }
  }
}

export interface PageIdleResult {
  pages: number;
  walk: Stat;
  nsPerPage: number;
  callsPerWalk: number;
  /** frames whose idle flag the kernel looks at (each an rmap walk) per page of the target */
  bitmapFramesPerPage: number;
  flagFramesPerPage: number;
}

/** N walks of a target of `pages` 4 KiB pages, 30% of them accessed between walks. */
export async function benchPageIdle(pages: number, walks: number): Promise<PageIdleResult> {
  const phys = new ScatteredPhys(pages, 0.3);
  const tracker = new PageIdleTracker(phys);
  tracker.setInterval(0); // the window's wait is not the tracker's CPU
  const heat = new HeatTable(new StateSpace({ walks, coldPeriods: 1, tiers: 2 }));
  const ranges = Float64Array.of(0, pages * 4096);
  const rng = new Prng(11);
  await tracker.walk(1, ranges, null);
  const times: number[] = [];
  const c0 = { calls: phys.calls, bitmap: phys.bitmapFrames, flags: phys.flagFrames };
  phys.beforeRead = (): void => phys.touch(rng);
  for (let w = 0; w < walks; w++) {
    const t0 = performance.now();
    await tracker.walk(1, ranges, heat);
    times.push((performance.now() - t0) / 1000);
  }
  const s = stat(times);
  return {
    pages,
    walk: s,
    nsPerPage: (s.median * 1e9) / pages,
    callsPerWalk: (phys.calls - c0.calls) / walks,
    bitmapFramesPerPage: (phys.bitmapFrames - c0.bitmap) / walks / pages,
    flagFramesPerPage: (phys.flagFrames - c0.flags) / walks / pages,
  };
}

export function pageIdleTable(r: PageIdleResult): string {
  return table(
    `page_idle walk, ${r.pages} scattered 4 KiB pages (tracker CPU; kernel work as frames per page of the target, ideal 1 + 1 writes, 1 flag)`,
    ['pages', 'walk (median)', 'ns/page', 'syscalls/walk', 'bitmap frames/page', 'kpageflags frames/page'],
    [[String(r.pages), fmt.range(r.walk, (x) => `${fmt.n(x * 1000, 0)} ms`), fmt.n(r.nsPerPage, 0), fmt.n(r.callsPerWalk, 0), fmt.n(r.bitmapFramesPerPage, 2), fmt.n(r.flagFramesPerPage, 2)]],
  );
}

export interface PageIdleTargetsResult {
  processes: number;
  pages: number;
  /** bitmap frames the kernel looks at per page of the targets: one walk per target, one walk of all */
  apart: number;
  together: number;
  apartMs: number;
  togetherMs: number;
}

/**
 * Several processes whose frames interleave on one node: the kernel work of walking them one
 * by one (each pays for the others' frames in the words it reads) against one walk of all.
 */
export async function benchPageIdleTargets(processes: number, pages: number, walks: number): Promise<PageIdleTargetsResult> {
  const pids = Array.from({ length: processes }, (_, p) => p + 1);
  const ranges = Float64Array.of(0, pages * 4096);
  const measure = async (together: boolean): Promise<{ frames: number; ms: number }> => {
    const phys = new ScatteredPhys(pages, 0.3, processes);
    const tracker = new PageIdleTracker(phys);
    tracker.setInterval(0);
    const space = new StateSpace({ walks, coldPeriods: 1, tiers: 2 });
    const items = pids.map((pid) => ({ pid, ranges, heat: new HeatTable(space) }));
    const rng = new Prng(11);
    await tracker.walkMany(items.map((i) => ({ ...i, heat: null })));
    phys.beforeRead = (): void => phys.touch(rng);
    const f0 = phys.bitmapFrames;
    const times: number[] = [];
    for (let w = 0; w < walks; w++) {
      const t0 = performance.now();
      if (together) await tracker.walkMany(items);
      else for (const i of items) await tracker.walk(i.pid, i.ranges, i.heat);
      times.push(performance.now() - t0);
    }
    return { frames: (phys.bitmapFrames - f0) / walks / (pages * processes), ms: stat(times).median };
  };
  const apart = await measure(false);
  const together = await measure(true);
  return { processes, pages, apart: apart.frames, together: together.frames, apartMs: apart.ms, togetherMs: together.ms };
}

export function pageIdleTargetsTable(r: PageIdleTargetsResult): string {
  return table(
    `page_idle walk of ${r.processes} processes of ${r.pages} 4 KiB pages whose frames interleave (kernel work as bitmap frames per page of the targets; tracker CPU per walk of all)`,
    ['walks', 'bitmap frames/page', 'walk of all (median)'],
    [
      ['one per process', fmt.n(r.apart, 2), `${fmt.n(r.apartMs, 0)} ms`],
      ['one of all (walkMany)', fmt.n(r.together, 2), `${fmt.n(r.togetherMs, 0)} ms`],
    ],
  );
}
