import type { Damon, DamonAttrs, DamonRegion } from '../../kernel/types.js';
import type { HeatTable } from '../../heat/heat-table.js';
import { IdlePagesDecoder } from '../../formats/idle-pages/decode.js';
import { StreamWriter } from '../../formats/idle-pages/stream-writer.js';
import { TierdError } from '../../util/errors.js';
import { writeRegions } from './regions-stream.js';
import type { Tracker, WalkResult } from '../tracker.js';

/**
 * tierd's kdamond. DAMON adapts its regions, but it merges neighbours whose access counts
 * differ by at most a tenth of the maximum, and with DAMON's defaults (at least 10 regions)
 * the 1 GiB VM workload was watched as 10–40 regions of 20–60 MiB: a walk's accessed regions
 * covered 81% of its hot pages and 55% of its cold ones. At least 128 regions (8 MiB each per
 * GiB) cover 97% and 16%. A kdamond's cost is regions × samples per second, so the sampling is
 * half DAMON's default rate (20 ms, 20 samples per 400 ms aggregation): under TCG it took 14.5%
 * of a CPU, where 10 ms took 19.8% for the same picture and 40 ms saw 25% of the cold pages.
 * (`GUEST_SUITES=damon-probe` with `tierd.damon_configs=` measures other choices.)
 */
export const DEFAULT_DAMON_ATTRS: DamonAttrs = { sampleUs: 20_000, aggrUs: 400_000, updateUs: 1_000_000, minRegions: 128, maxRegions: 1000 };

/** how often a walk looks again for a late aggregation */
const POLL_MS = 25;

/**
 * The upstream DAMON tracker (sysfs, vaddr): tierd's own kdamond per target. A walk reads the
 * regions accessed in the aggregations since the previous walk (the tracepoint), or in the last
 * one (sysfs); a page counts as accessed when any such region covered it. DAMON samples one page
 * per region per sample interval, so this is region-level information, coarser than a per-page
 * walk, and a region's "accessed in the walk interval" has the meaning a per-page walk gives. THPs are reported as 2 MiB pages, found with
 * `hugeRanges` (PAGEMAP_SCAN) on every walk.
 */
export class DamonTracker implements Tracker {
  readonly name = 'damon' as const;
  readonly grain = 'region' as const;
  private readonly writer = new StreamWriter();
  private readonly dec = new IdlePagesDecoder();
  private pids: number[] = [];
  /** when each target's results were last taken (performance.now() ms) */
  private readonly taken = new Map<number, number>();

  constructor(
    private readonly damon: Damon,
    private readonly hugeRanges: (pid: number, ranges: Float64Array) => Float64Array | null,
    private readonly attrs: DamonAttrs = DEFAULT_DAMON_ATTRS,
  ) {}

  setTargets(pids: number[]): void {
    const next = [...pids].sort((a, b) => a - b);
    if (this.damon.running && next.length === this.pids.length && next.every((p, i) => p === this.pids[i])) return;
    this.pids = next;
    if (next.length === 0) this.damon.stop();
    else this.damon.start(next, this.attrs);
    // fresh kdamonds: nothing is known about any target until an aggregation ends
    this.taken.clear();
    for (const p of next) this.taken.set(p, performance.now());
  }

  /**
   * A walk reports what DAMON aggregated since the previous one, so it waits until at least one
   * aggregation interval has passed: earlier, a target whose regions all went unsampled would
   * look idle only because no aggregation had ended yet.
   */
  private async awaitAggregation(pid: number): Promise<void> {
    const wait = (this.taken.get(pid) ?? 0) + this.attrs.aggrUs / 1000 - performance.now();
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
    this.taken.set(pid, performance.now());
  }

  /**
   * The regions since the last walk. From the tracepoint, none at all usually means that the
   * kdamond, late under load, has not ended an aggregation yet (a target in use has some
   * accessed region in every one): wait for one, up to two more aggregation intervals, before
   * reading the target as idle.
   */
  private async takeRegions(pid: number): Promise<DamonRegion[] | null> {
    const regions = this.damon.regions(pid);
    if (regions === null || regions.length > 0 || !this.damon.streaming) return regions;
    const until = performance.now() + (2 * this.attrs.aggrUs) / 1000;
    while (performance.now() < until) {
      await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
      const more = this.damon.regions(pid);
      if (more === null || more.length > 0) return more;
    }
    return [];
  }

  async walk(pid: number, ranges: Float64Array, heat: HeatTable | null): Promise<WalkResult> {
    const res: WalkResult = { status: 'ok', reads: 1, bytes: 0, stalls: 0 };
    if (!this.pids.includes(pid)) this.setTargets([...this.pids, pid]);
    await this.awaitAggregation(pid);
    const regions = await this.takeRegions(pid);
    if (regions === null) return { ...res, status: 'gone' };
    if (!heat) return res;
    let huge: Float64Array | null;
    try {
      huge = this.hugeRanges(pid, ranges);
    } catch (e) {
      if (e instanceof TierdError && e.code === 'PROCESS_GONE') return { ...res, status: 'gone' };
      throw e;
    }
    const w = this.writer;
    w.clear();
    writeRegions(w, regions, ranges, huge);
    res.bytes = w.length;
    this.dec.reset();
    heat.beginWalk(false);
    try {
      heat.ingest(this.dec, w.buf, w.length);
    } finally {
      heat.endWalk();
    }
    return res;
  }

  source(): string {
    return this.damon.source();
  }

  close(): void {
    this.damon.close();
    this.pids = [];
  }
}
