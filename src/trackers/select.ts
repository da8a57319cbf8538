import type { Kernel } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import { TierdError } from '../util/errors.js';
import { IdlePagesReader } from './idle-pages/reader.js';
import { IdlePagesPool } from './idle-pages/read-pool.js';
import { ScanFlag } from '../formats/idle-pages/types.js';
import { PageIdleTracker } from './page-idle/tracker.js';
import { DamonTracker } from './damon/tracker.js';
import type { Tracker, TrackerName } from './tracker.js';

/** The trackers this kernel offers, best first. */
export function availableTrackers(kernel: Kernel): TrackerName[] {
  const t = kernel.trackers();
  const out: TrackerName[] = [];
  if (t.idlePages !== null) out.push('idle_pages');
  if (t.pageIdle) out.push('page_idle');
  if (t.damon) out.push('damon');
  return out;
}

/**
 * SCAN_SKIM_IDLE is asked for unless the config says no or another clearer of PMD accessed bits
 * would make it miss accesses. A kernel that does not honour it walks every PTE as before, so
 * asking costs nothing there.
 */
function skimChoice(wanted: boolean, unsafe: string | null): { on: boolean; note: string } {
  if (!wanted) return { on: false, note: 'every PTE read (scan.skimIdle: false)' };
  if (unsafe !== null) return { on: false, note: `every PTE read: ${unsafe}; set scan.skimIdle: false to silence this, or echo 3 > /sys/kernel/mm/lru_gen/enabled to let tierd skim` };
  return { on: true, note: 'idle PMDs skimmed (SCAN_SKIM_IDLE)' };
}

/** scan.tracker: auto picks the best this kernel offers; a named one must exist. */
export function makeTracker(kernel: Kernel, scan: Config['scan']): Tracker {
  const have = availableTrackers(kernel);
  const missing = kernel.trackers().missing;
  const name = scan.tracker === 'auto' ? have[0] : scan.tracker;
  if (name === undefined) {
    const why = Object.entries(missing).map(([k, v]) => `${k}: ${v}`).join('; ');
    // a tracker the kernel has but the sandbox withholds is fixed by a profile, not a new kernel
    const hint = why.includes('tierd.service.d') ? 'add the profile named above (see README, "Installing", "Container", "Kubernetes")' : 'boot a kernel with one of them (see README, "Installing")';
    throw new TierdError('NO_TRACKER', `no access-bit tracker on this kernel (${why})`, hint);
  }
  if (!have.includes(name)) {
    throw new TierdError('NO_TRACKER', `scan.tracker: ${name} is not available: ${missing[name] ?? 'missing'}`, `use scan.tracker: auto${have.length > 0 ? ` (this kernel offers ${have.join(', ')})` : ''}`);
  }
  switch (name) {
    case 'idle_pages': {
      const skim = skimChoice(scan.skimIdle, kernel.trackers().skimUnsafe);
      const flags = (scan.hugePagesOnly ? ScanFlag.SCAN_HUGE_PAGE : 0) | (skim.on ? ScanFlag.SCAN_SKIM_IDLE : 0) | (scan.dirty ? ScanFlag.SCAN_DIRTY_PAGE : 0);
      const variant = kernel.trackers().idlePages!;
      const opener = kernel.idlePagesOpener();
      const workers = scan.workers === 'auto' ? Math.min(8, Math.max(1, Math.floor(kernel.usableCpus() / 2))) : scan.workers;
      if (opener !== null && workers > 0) return new IdlePagesPool(opener, { workers, bufferBytes: scan.bufferSize, flags, variant, skimNote: skim.note });
      return new IdlePagesReader(kernel, { bufferBytes: scan.bufferSize, flags, variant, skimNote: skim.note });
    }
    case 'page_idle':
      return new PageIdleTracker(kernel.physPages()!);
    case 'damon': {
      const d = kernel.damon()!;
      const busy = d.unavailable();
      if (busy !== null) throw new TierdError('NO_TRACKER', `scan.tracker: damon: ${busy}`, 'stop the other DAMON user or choose another tracker');
      return new DamonTracker(d, (pid, ranges) => kernel.hugeRanges(pid, ranges));
    }
  }
}
