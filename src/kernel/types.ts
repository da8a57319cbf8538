import type { Vma } from '../targets/maps.js';

/** What sysfs says about one NUMA node; classification into tiers happens in src/topology. */
export interface NodeInfo {
  id: number;
  online: boolean;
  hasCpu: boolean;
  hasMemory: boolean;
  cpus: number[];
  memTotalBytes: number;
  memFreeBytes: number;
  /** distance to node id → value (from nodeN/distance) */
  distance: Record<number, number>;
  /** id of the kernel memory tier holding this node (memory_tierN), lower = faster */
  memoryTier?: number;
  /** the 2018 patch set's nodeN/type */
  type?: 'dram' | 'pmem';
  peerNode?: number;
  /** HMAT attributes of access class 0 */
  hmat?: { readLatencyNs?: number; writeLatencyNs?: number; readBandwidthMBps?: number; writeBandwidthMBps?: number };
  hugePages?: { sizeBytes: number; total: number; free: number }[];
  /** simulated hosts only: the tier named in the scenario */
  simTier?: number;
}

export interface RawTopology {
  nodes: NodeInfo[];
  /** /proc/sys/kernel/numa_balancing, null when absent */
  numaBalancing: number | null;
  /** /sys/kernel/mm/numa/demotion_enabled, null when absent */
  demotionEnabled: boolean | null;
}

export interface ProcessInfo {
  pid: number;
  starttime: number;
  comm: string;
  cmdline: string;
  /** cgroup v2 path ("/system.slice/db.service"), "" when unknown */
  cgroup: string;
  rssAnonBytes: number;
  kernelThread: boolean;
}

/** An open access-bit file (one walk): pread at a virtual address, close flushes the TLB. */
export interface AccessFile {
  /** Returns bytes read; throws SyscallError (ESRCH when the process is gone). */
  pread(buf: Uint8Array, count: number, pos: number): number;
  close(): void;
}

export type IdlePagesVariant = 'mod' | 'rfc' | 'etk';

export interface TrackerSupport {
  idlePages: IdlePagesVariant | null;
  /** /sys/kernel/mm/page_idle/bitmap exists */
  pageIdle: boolean;
  /** DAMON sysfs with vaddr operations */
  damon: boolean;
  /** why each is missing, for the error that names the kernel feature */
  missing: Record<string, string>;
}

export const MPOL_MF_MOVE = 2;
export const MPOL_MF_MOVE_ALL = 4;
export const MPOL_MF_SW_YOUNG = 0x80;

/**
 * The only way tierd talks to the OS. LinuxKernel reads procfs/sysfs and calls the real
 * syscall; SimKernel is the simulated host. Everything above src/kernel/ sees only this.
 */
export interface Kernel {
  readonly kind: 'linux' | 'sim';
  /** milliseconds; the simulated clock is virtual */
  now(): number;
  sleep(ms: number): Promise<void>;
  topology(): RawTopology;
  processes(): ProcessInfo[];
  /** one process, or null when it is gone */
  process(pid: number): ProcessInfo | null;
  /** /proc/PID/maps, or null when the process is gone */
  maps(pid: number): Vma[] | null;
  trackers(): TrackerSupport;
  /** Open the idle_pages file of pid for one walk; throws TierdError(PROCESS_GONE) or (NO_FEATURE). */
  openIdlePages(pid: number, flags: number): AccessFile;
  /**
   * move_pages(2): `addrs[0..count)` are page addresses, `nodes` null for query mode.
   * Returns the syscall's non-negative result (> 0: stopped early); throws SyscallError on -1.
   */
  movePages(pid: number, count: number, addrs: Float64Array, nodes: Int32Array | null, status: Int32Array, flags: number): number;
  /** Does move_pages accept MPOL_MF_SW_YOUNG (the 2018 patch set)? */
  swYoungSupported(): boolean;
}
