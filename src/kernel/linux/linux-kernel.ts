import { abortableDelay } from '../delay.js';
import { performance } from 'node:perf_hooks';
import type { AccessFile, Kernel, ProcessInfo, RawTopology, TrackerSupport } from '../types.js';
import { MPOL_MF_MOVE, MPOL_MF_SW_YOUNG } from '../types.js';
import type { Vma } from '../../targets/maps.js';
import { TierdError, SyscallError, ERRNO } from '../../util/errors.js';
import { readTopology } from './sysfs-topology.js';
import { listProcesses, readMaps, readProcess } from './procfs.js';
import { detectTrackers, openIdlePages } from './idle-pages-file.js';
import { MovePagesCall } from './move-pages.js';
import { LinuxPhysPages } from './phys-pages.js';
import { LinuxDamon } from './damon.js';
import { hugeMappedRanges } from './pagemap-scan.js';
import type { Damon, PhysPages } from '../types.js';

export interface LinuxKernelOptions {
  /** where procfs is mounted (a fixture directory in tests) */
  procRoot?: string;
  sysRoot?: string;
}

/** The real host: procfs, sysfs, and move_pages(2) through koffi. */
export class LinuxKernel implements Kernel {
  readonly kind = 'linux' as const;
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly mp = new MovePagesCall();
  private trackerCache: TrackerSupport | null = null;
  private swYoung: boolean | null = null;
  private phys: PhysPages | null = null;
  private damonCtl: Damon | null = null;

  constructor(opts: LinuxKernelOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
  }

  now(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableDelay(ms, signal);
  }

  topology(): RawTopology {
    return readTopology(this.sysRoot, this.procRoot);
  }

  processes(): ProcessInfo[] {
    return listProcesses(this.procRoot);
  }

  process(pid: number): ProcessInfo | null {
    return readProcess(this.procRoot, pid);
  }

  maps(pid: number): Vma[] | null {
    return readMaps(this.procRoot, pid);
  }

  trackers(): TrackerSupport {
    this.trackerCache ??= detectTrackers(this.procRoot, this.sysRoot);
    return this.trackerCache;
  }

  openIdlePages(pid: number, flags: number): AccessFile {
    const variant = this.trackers().idlePages;
    if (variant === null) {
      throw new TierdError('NO_FEATURE', this.trackers().missing.idle_pages ?? 'no idle_pages', 'use a kernel with idle_pages, or scan.tracker: auto');
    }
    return openIdlePages(this.procRoot, variant, pid, flags);
  }

  movePages(pid: number, count: number, addrs: Float64Array, nodes: Int32Array | null, status: Int32Array, flags: number): number {
    return this.mp.call(pid, count, addrs, nodes, status, flags);
  }

  physPages(): PhysPages | null {
    if (!this.trackers().pageIdle) return null;
    this.phys ??= new LinuxPhysPages(this.procRoot, this.sysRoot);
    return this.phys;
  }

  damon(): Damon | null {
    if (!this.trackers().damon) return null;
    this.damonCtl ??= new LinuxDamon(this.sysRoot);
    return this.damonCtl;
  }

  hugeRanges(pid: number, ranges: Float64Array): Float64Array | null {
    return hugeMappedRanges(this.procRoot, pid, ranges);
  }

  swYoungSupported(): boolean {
    if (this.swYoung === null) {
      // count 0 on ourselves: only the flag check runs; an unpatched kernel answers EINVAL
      try {
        this.mp.call(0, 0, new Float64Array(1), new Int32Array(1), new Int32Array(1), MPOL_MF_MOVE | MPOL_MF_SW_YOUNG);
        this.swYoung = true;
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ERRNO.EINVAL) this.swYoung = false;
        else throw e;
      }
    }
    return this.swYoung;
  }
}
