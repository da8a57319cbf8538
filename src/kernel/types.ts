import type { Vma } from './proc-text.js';

/** What sysfs says about one NUMA node; classification into tiers happens in src/topology. */
export interface NodeInfo {
  id: number;
  online: boolean;
  hasCpu: boolean;
  hasMemory: boolean;
  cpus: number[];
  memTotalBytes: number;
  /** free memory (Linux: the zones' free pages in /proc/zoneinfo; see parseZoneinfo) */
  memFreeBytes: number;
  /**
   * free memory the page allocator keeps back on this node: per zone, its high watermark (or
   * min plus one per-cpu list refill, if higher) plus its lowmem reserve (/proc/zoneinfo).
   * move_pages allocates with __GFP_THISNODE; under the high watermark it wakes kswapd, and on
   * a node reclaim cannot free it fails under min (ENOMEM) with a kernel warning.
   */
  reservedBytes?: number;
  /**
   * how far under the reserve this node's free memory may go and still leave every zone above
   * min after a per-cpu list refill (Linux: per zone, the kept-back pages above min plus one
   * refill); what the mover lends against pages its own demotions freed onto its CPU's list
   */
  slackBytes?: number;
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

/**
 * How a worker thread opens idle_pages files by itself: an ES module, the export that does
 * what Kernel.openIdlePages does, and the leading arguments to call it with (then pid, flags).
 */
export interface WorkerOpener {
  module: string;
  name: string;
  args: (string | number)[];
}

export interface TrackerSupport {
  idlePages: IdlePagesVariant | null;
  /** /sys/kernel/mm/page_idle/bitmap exists */
  pageIdle: boolean;
  /** DAMON sysfs with vaddr operations */
  damon: boolean;
  /** why each is missing, for the error that names the kernel feature */
  missing: Record<string, string>;
  /**
   * Why skimming idle PMDs (SCAN_SKIM_IDLE) would miss accesses here, or null: the skim trusts
   * that only idle_pages clears a PMD's accessed bit, and MGLRU's page-table walk clears it too
   * (lru_gen's LRU_GEN_NONLEAF_YOUNG) without always reading the PTEs below.
   */
  skimUnsafe: string | null;
}

/**
 * Physical-page files for the page_idle tracker (all need CAP_SYS_ADMIN). Entries are u64,
 * returned as (lo, hi) u32 pairs so no BigInt is made per page.
 */
export interface PhysPages {
  /** /proc/PID/pagemap for `count` pages from vaddr; returns entries read; throws PROCESS_GONE */
  pagemap(pid: number, vaddr: number, count: number, out: Uint32Array): number;
  /** /proc/kpageflags for `count` frames from pfn */
  kpageflags(pfn: number, count: number, out: Uint32Array): number;
  /**
   * /sys/kernel/mm/page_idle/bitmap, 64-bit words [word, word + count); returns the words read:
   * fewer near the end of physical memory, whose last partial word never reaches user space
   */
  idleRead(word: number, count: number, out: Uint32Array): number;
  /** set the idle flag of every frame whose bit is 1 (0 bits are left alone) */
  idleWrite(word: number, count: number, data: Uint32Array): void;
}

export interface DamonRegion {
  start: number;
  end: number;
  nrAccesses: number;
}

export interface DamonAttrs {
  sampleUs: number;
  aggrUs: number;
  updateUs: number;
  minRegions: number;
  maxRegions: number;
}

/** tierd's own DAMON monitoring (sysfs, vaddr): one kdamond per target process. */
export interface Damon {
  /** why tierd may not use DAMON now (missing, or another user's kdamonds exist), or null */
  unavailable(): string | null;
  start(pids: number[], attrs: DamonAttrs): void;
  /**
   * the regions of pid's kdamond with a sampled access since the previous call (every aggregation
   * in between, possibly overlapping, from the tracepoint) or in the last aggregation interval
   * (sysfs), in no particular order; every other part of the process's mappings was idle
   */
  regions(pid: number): DamonRegion[] | null;
  stop(): void;
  /** stop and release everything tierd set up for DAMON (the daemon is leaving) */
  close(): void;
  /** where results come from, in a sentence for the log */
  source(): string;
  /**
   * true when results accumulate between calls (the tracepoint): an empty answer may then only
   * mean that no aggregation has ended since the last call
   */
  readonly streaming: boolean;
  readonly running: boolean;
}

/** One DAMOS scheme of tierd's damos engine: a kernel-side migration over one node's memory. */
export interface DamosScheme {
  /** migrate_hot / migrate_cold move pages; stat (dry-run) only counts what they would try */
  action: 'migrate_hot' | 'migrate_cold' | 'stat';
  targetNid: number;
  /**
   * promote: regions with a sampled access in the last aggregation, their young pages; demote:
   * any region, coldest first under the quota (DAMOS's own priority score), its pages not young
   */
  direction: 'promote' | 'demote';
  /** only pages charged to this cgroup v2 memcg ("/tierd/db"); the young filter picks pages per direction */
  memcgPath: string;
}

/** One kdamond: paddr monitoring of one node's physical range, with its schemes. */
export interface DamosContext {
  node: number;
  schemes: DamosScheme[];
}

export interface DamosIntervals {
  sampleUs: number;
  aggrUs: number;
  minRegions: number;
  maxRegions: number;
  /** the quotas' reset interval: tierd re-tunes the quotas once per interval */
  resetMs: number;
}

/** A scheme's counters since it started (the kernel's schemes/N/stats). */
export interface DamosStats {
  triedBytes: number;
  appliedBytes: number;
  quotaExceeds: number;
}

/**
 * DAMOS through sysfs: paddr kdamonds whose migrate_hot / migrate_cold schemes move pages in
 * the kernel, tuned by tierd's quotas. Contexts and schemes keep the order start() was given.
 */
export interface Damos {
  /** why the kernel cannot run tierd's schemes (missing paddr, actions, filters; another DAMON user), or null */
  unavailable(): string | null;
  /** why pages of this cgroup cannot be told apart (no cgroup v2, no memory controller there), or null */
  memcgUnavailable(path: string): string | null;
  start(contexts: DamosContext[], iv: DamosIntervals, quotas: number[][]): void;
  /** bytes per reset interval for each context's schemes; 0 stops a scheme until the next tune */
  tune(quotas: number[][]): void;
  /** each context's schemes' counters, or null for a kdamond that is no longer running */
  stats(): (DamosStats[] | null)[];
  stop(): void;
  readonly running: boolean;
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
  /** resolves after ms, or at once when `signal` aborts (a SIGTERM must not wait out an interval) */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * CPU time this process has used, ms (user + system, every thread); on the simulated host,
   * the virtual time its calls were charged (walks and moves), so that a budget on it binds
   * there as it would on a host and stays deterministic
   */
  cpuMs(): number;
  topology(): RawTopology;
  processes(): ProcessInfo[];
  /** tierd's own pid on this host, never a target; null on a simulated host (tierd is not one of its processes) */
  selfPid(): number | null;
  /** one process, or null when it is gone */
  process(pid: number): ProcessInfo | null;
  /**
   * pid's identity now (its start time), or null when it is gone: the re-check before every
   * walk and every move. On Linux a file held open on the process answers it after the first
   * read of /proc/PID/stat (kernel/linux/process-watch.ts).
   */
  identity(pid: number): { pid: number; starttime: number } | null;
  /** identity() of pid will not be asked again soon (its target was dropped): free what it holds */
  release(pid: number): void;
  /** /proc/PID/maps, or null when the process is gone */
  maps(pid: number): Vma[] | null;
  trackers(): TrackerSupport;
  /** Open the idle_pages file of pid for one walk; throws TierdError(PROCESS_GONE) or (NO_FEATURE). */
  openIdlePages(pid: number, flags: number): AccessFile;
  /**
   * The same from a worker thread, so walks can run off the main thread and in parallel; null
   * where only this thread can open them (the simulated kernel lives in this thread's memory).
   */
  idlePagesOpener(): WorkerOpener | null;
  /** CPUs this process may run on (its affinity), to size the read workers */
  usableCpus(): number;
  /**
   * move_pages(2): `addrs[0..count)` are page addresses, `nodes` null for query mode.
   * Returns the syscall's non-negative result (> 0: stopped early); throws SyscallError on -1.
   */
  movePages(pid: number, count: number, addrs: Float64Array, nodes: Int32Array | null, status: Int32Array, flags: number): number;
  /** Does move_pages accept MPOL_MF_SW_YOUNG (the 2018 patch set)? */
  swYoungSupported(): boolean;
  /** pagemap/kpageflags/page_idle access, or null where the kernel has no page_idle */
  physPages(): PhysPages | null;
  /** DAMON vaddr monitoring, or null where the kernel has none */
  damon(): Damon | null;
  /** DAMOS migration schemes (paddr, sysfs), or null where the kernel has no DAMON sysfs */
  damos(): Damos | null;
  /**
   * The PMD-mapped (2 MiB) parts of `ranges` ([start, end) pairs) in pid's address space, sorted
   * pairs; null when the kernel cannot tell. Throws TierdError(PROCESS_GONE).
   */
  hugeRanges(pid: number, ranges: Float64Array): Float64Array | null;
  /**
   * The daemon's own memory: prefer `prefer` for new allocations (set_mempolicy) and move its
   * pages on `from` there (migrate_pages). Returns null, or why it could not.
   */
  placeSelf(prefer: number[], from: number[]): string | null;
}
