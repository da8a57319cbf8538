import { abortableDelay } from '../delay.js';
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import type { AccessFile, Kernel, ProcessInfo, RawTopology, TrackerSupport, WorkerOpener } from '../types.js';
import { MPOL_MF_MOVE, MPOL_MF_SW_YOUNG } from '../types.js';
import type { Vma } from '../proc-text.js';
import { TierdError, SyscallError, ERRNO } from '../../util/errors.js';
import { readNodeFree, readZones, readTopology } from './sysfs-topology.js';
import { listProcesses, readMaps, readProcess } from './procfs.js';
import { ProcessWatch } from './process-watch.js';
import { detectTrackers, openIdlePages } from './idle-pages-file.js';
import { MovePagesCall } from './move-pages.js';
import { LinuxPhysPages } from './phys-pages.js';
import { LinuxDamon } from './damon.js';
import { LinuxDamos } from './damos.js';
import { hugeMappedRanges } from './pagemap-scan.js';
import { placeSelf } from './self-policy.js';
import type { Damon, Damos, PhysPages } from '../types.js';
import { existsSync } from 'node:fs';

export interface LinuxKernelOptions {
  /** where procfs is mounted (a fixture directory in tests) */
  procRoot?: string;
  sysRoot?: string;
}

/** How long the slow-changing facts of the topology are kept (free memory is always fresh). */
const TOPOLOGY_TTL_MS = 30_000;

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
  private damosCtl: Damos | null = null;
  private topo: RawTopology | null = null;
  private topoAt = 0;
  private readonly watch: ProcessWatch;

  constructor(opts: LinuxKernelOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.watch = new ProcessWatch(this.procRoot);
  }

  now(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return abortableDelay(ms, signal);
  }

  cpuMs(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }

  /**
   * Nodes, tiers, distances, HMAT and watermarks change with hotplug or an admin's write, not
   * from one period to the next: they are read in full at most every TOPOLOGY_TTL_MS (a few
   * dozen files per read were a tenth of tierd's CPU in the VM profile), while free memory is
   * read fresh on every call, from one file: /proc/zoneinfo, which lists the online nodes.
   */
  topology(): RawTopology {
    const now = performance.now();
    if (this.topo === null || now - this.topoAt > TOPOLOGY_TTL_MS) {
      this.topo = readTopology(this.sysRoot, this.procRoot);
      this.topoAt = now;
      return this.topo;
    }
    // a node missing from zoneinfo is offline; without zoneinfo, each node's meminfo says it
    const zones = readZones(this.procRoot);
    const nodes = this.topo.nodes.map((n) => {
      if (zones === null) {
        const free = readNodeFree(this.sysRoot, n.id);
        return free === undefined ? { ...n, online: false, memFreeBytes: 0 } : { ...n, memFreeBytes: free };
      }
      const z = zones.get(n.id);
      return z === undefined ? { ...n, online: false, memFreeBytes: 0 } : { ...n, memFreeBytes: z.free, reservedBytes: z.reserved, slackBytes: z.slack };
    });
    // a node that went away is worth a full read at once
    if (nodes.some((n, i) => n.online !== this.topo!.nodes[i]!.online)) {
      this.topo = null;
      return this.topology();
    }
    return { ...this.topo, nodes };
  }

  selfPid(): number {
    return process.pid;
  }

  processes(): ProcessInfo[] {
    return listProcesses(this.procRoot);
  }

  process(pid: number): ProcessInfo | null {
    return readProcess(this.procRoot, pid);
  }

  identity(pid: number): { pid: number; starttime: number } | null {
    return this.watch.identity(pid);
  }

  release(pid: number): void {
    this.watch.release(pid);
  }

  maps(pid: number): Vma[] | null {
    return readMaps(this.procRoot, pid);
  }

  trackers(): TrackerSupport {
    this.trackerCache ??= detectTrackers(this.procRoot, this.sysRoot);
    return this.trackerCache;
  }

  idlePagesOpener(): WorkerOpener | null {
    const variant = this.trackers().idlePages;
    if (variant === null) return null;
    return { module: new URL('./idle-pages-file.js', import.meta.url).href, name: 'openIdlePages', args: [this.procRoot, variant] };
  }

  usableCpus(): number {
    return availableParallelism();
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

  damos(): Damos | null {
    if (!existsSync(`${this.sysRoot}/kernel/mm/damon/admin`)) return null;
    this.damosCtl ??= new LinuxDamos(this.sysRoot);
    return this.damosCtl;
  }

  hugeRanges(pid: number, ranges: Float64Array): Float64Array | null {
    return hugeMappedRanges(this.procRoot, pid, ranges);
  }

  placeSelf(prefer: number[], from: number[]): string | null {
    return placeSelf(prefer, from);
  }

  swYoungSupported(): boolean {
    if (this.swYoung === null) {
      // count 0 on ourselves: only the flag check runs; an unpatched kernel answers EINVAL
      try {
        this.mp.call(0, 0, new Float64Array(1), new Int32Array(1), new Int32Array(1), MPOL_MF_MOVE | MPOL_MF_SW_YOUNG);
        this.swYoung = true;
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ERRNO.EINVAL) this.swYoung = false;
        else if (e instanceof SyscallError && e.errno === ERRNO.EPERM) throw movePagesForbidden();
        else throw e;
      }
    }
    return this.swYoung;
  }
}

/**
 * move_pages refused on tierd's own memory, where no ptrace check applies: a seccomp filter
 * forbids the call. Docker's and podman's default profiles refuse it to every container, whatever
 * its capabilities (test/container/build-and-run.sh met it).
 */
function movePagesForbidden(): TierdError {
  return new TierdError(
    'PERMISSION',
    'move_pages is forbidden to tierd (EPERM on its own memory: a seccomp filter, such as a container engine\'s default profile)',
    'run the container with a seccomp profile that allows move_pages (the README\'s "Container" section) and CAP_SYS_NICE',
  );
}
