import type { AccessFile, Kernel, ProcessInfo, RawTopology, TrackerSupport, NodeInfo, WorkerOpener } from '../types.js';
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, MPOL_MF_SW_YOUNG } from '../types.js';
import type { Vma } from '../proc-text.js';
import { ERRNO, SyscallError, TierdError } from '../../util/errors.js';
import { IdlePagesEncoder } from './idle-encoder.js';
import type { Scenario, ScenarioProcess } from './scenario.js';
import { ABSENT, SimProcess } from './sim-process.js';
import { Prng } from './prng.js';
import { oracleTopFraction } from './oracle.js';
import { abortableDelay } from '../delay.js';
import { HitScoreboard } from './scoreboard.js';

interface SimNode {
  id: number;
  tier: number;
  capacity: number;
  used: number;
  online: boolean;
  distance: Record<number, number>;
}

export interface SimOptions {
  /** virtual seconds per wall second for sleep(); Infinity (the default) = no waiting */
  pace?: number;
  /** the simulated caller may use MOVE_ALL (CAP_SYS_NICE) */
  privileged?: boolean;
}

/** One move_pages call in progress: the batch queued for the current target node. */
interface MoveCall {
  p: SimProcess;
  count: number;
  addrs: Float64Array;
  status: Int32Array;
  /** entry indices queued for the current target */
  batch: number[];
  target: number;
  lastQueued: number;
  notDone: number;
  /** virtual time the call costs so far (ms) */
  cost: number;
}

/** Pages migrated, per (from, to), for reports and tests. */
export interface MigrationCounter {
  from: number;
  to: number;
  pages: number;
  bytes: number;
}

/**
 * The simulated host: NUMA nodes, processes with workloads, a virtual clock, idle_pages files
 * encoded exactly as the kernel encodes them, and move_pages with the kernel's semantics.
 */
export class SimKernel implements Kernel {
  readonly kind = 'sim' as const;
  readonly scenario: Scenario;
  private clockMs = 0;
  /** virtual time charged to calls (walks, moves): the daemon's CPU on this host (cpuMs) */
  private chargedMs = 0;
  private readonly nodes: SimNode[];
  private readonly procs = new Map<number, SimProcess>();
  /** processes that exited (their count keeps starttimes unique; their pages are freed) */
  private exited = 0;
  private nextPid = 1000;
  /** scenario processes that start later, by start time */
  private unborn: ScenarioProcess[] = [];
  private readonly rng: Prng;
  private readonly pace: number;
  private readonly privileged: boolean;
  private oracleFraction = 1;
  private oracleDirty = true;
  private readonly scoreboard = new HitScoreboard();
  readonly migrations = new Map<string, MigrationCounter>();
  /** run before each page of a move is applied (tests inject faults here) */
  onMove: ((pid: number) => void) | null = null;

  constructor(scenario: Scenario, opts: SimOptions = {}) {
    this.scenario = scenario;
    this.pace = opts.pace ?? Infinity;
    this.privileged = opts.privileged ?? true;
    this.rng = new Prng(scenario.seed * 7919 + 1);
    this.nodes = scenario.nodes.map((n) => ({
      id: n.id,
      tier: n.tier,
      capacity: n.capacity,
      used: 0,
      online: true,
      distance: Object.fromEntries(
        scenario.nodes.map((o) => [o.id, n.distance?.[String(o.id)] ?? (o.id === n.id ? 10 : 10 + 10 * Math.abs(o.tier - n.tier) + 1)]),
      ),
    }));
    for (const p of scenario.processes) if (p.startAt <= 0) this.spawn(p);
    this.unborn = scenario.processes.filter((p) => p.startAt > 0).sort((a, b) => a.startAt - b.startAt);
    this.advancePhases();
  }

  // ---- simulation control (not part of the Kernel interface) ----

  spawn(spec: ScenarioProcess, pid?: number): SimProcess {
    const id = pid ?? spec.pid ?? this.nextPid++;
    const p = new SimProcess(spec, id, Math.floor(this.clockMs / 10) + this.procs.size + this.exited + 1, this.scenario.seed * 1000003 + id);
    p.nowSec = this.clockMs / 1000;
    p.lastClear.fill(p.nowSec);
    for (let i = 0; i < p.pages; i++) {
      const node = this.nodeById(p.node[i]!);
      if (node.used + p.units[i]! * 4096 > node.capacity) {
        throw new TierdError('SCENARIO', `node ${node.id} is too small for the memory placed on it (${spec.name})`, 'give the node more capacity or place less memory on it');
      }
      node.used += p.units[i]! * 4096;
    }
    p.updatePhase(p.nowSec);
    this.procs.set(id, p);
    this.oracleDirty = true;
    return p;
  }

  /** End a process: its memory is freed. */
  exit(pid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    p.alive = false;
    for (let i = 0; i < p.pages; i++) if (p.node[i] !== ABSENT) this.nodeById(p.node[i]!).used -= p.units[i]! * 4096;
    this.procs.delete(pid);
    this.exited++;
    this.oracleDirty = true;
  }

  /** The pid is reused by a new process (new starttime) with the same memory layout. */
  respawn(pid: number): SimProcess {
    const old = this.procs.get(pid);
    const spec = this.scenario.processes.find((s) => s.name === old?.comm) ?? this.scenario.processes[0]!;
    this.exit(pid);
    this.clockMs += 10; // a later starttime
    return this.spawn(spec, pid);
  }

  setNodeOnline(id: number, online: boolean): void {
    this.nodeById(id).online = online;
    this.oracleDirty = true;
  }

  simProcess(pid: number): SimProcess | undefined {
    return this.procs.get(pid);
  }

  allProcesses(): SimProcess[] {
    return [...this.procs.values()];
  }

  nodeUsed(id: number): number {
    return this.nodeById(id).used;
  }

  topTier(): number {
    return Math.min(...this.nodes.filter((n) => n.online).map((n) => n.tier));
  }

  /** Fraction of accesses served from the top tier over [fromSec, toSec] (and the oracle's). */
  hitRatio(fromSec: number, toSec = this.clockMs / 1000): { actual: number; oracle: number } {
    return this.scoreboard.ratio(fromSec, toSec);
  }

  /** Fraction of the current access rate served from the top tier, now. */
  instantHitRatio(): number {
    const top = this.topTier();
    let t = 0;
    let all = 0;
    for (const p of this.procs.values()) {
      for (let i = 0; i < p.pages; i++) {
        const r = p.rate[i]!;
        all += r;
        if (p.node[i] !== ABSENT && this.nodeById(p.node[i]!).tier === top) t += r;
      }
    }
    return all > 0 ? t / all : 1;
  }

  oracleHitRatio(): number {
    if (this.oracleDirty) {
      const top = this.topTier();
      const cap = this.nodes.filter((n) => n.online && n.tier === top).reduce((s, n) => s + n.capacity, 0);
      this.oracleFraction = oracleTopFraction([...this.procs.values()], cap);
      this.oracleDirty = false;
    }
    return this.oracleFraction;
  }

  private nodeById(id: number): SimNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no sim node ${id}`);
    return n;
  }

  /** Advance virtual time, integrating accesses per tier and switching workload phases. */
  private advance(ms: number): void {
    let remaining = Math.max(0, ms);
    while (remaining > 0) {
      const nowSec = this.clockMs / 1000;
      let step = remaining;
      for (const p of this.procs.values()) {
        const next = Math.min(p.nextPhaseAt(nowSec), p.exitAt !== undefined ? p.exitAt / 1000 : Infinity);
        if (next !== Infinity) step = Math.min(step, Math.max(0, (next - nowSec) * 1000));
      }
      if (this.unborn.length > 0) step = Math.min(step, Math.max(0, this.unborn[0]!.startAt - this.clockMs));
      step = Math.max(step, Math.min(remaining, 0.001));
      this.integrate(step / 1000);
      this.clockMs += step;
      remaining -= step;
      this.advancePhases();
    }
  }

  private integrate(dtSec: number): void {
    if (dtSec <= 0) return;
    const top = this.topTier();
    let t = 0;
    let all = 0;
    for (const p of this.procs.values()) {
      for (const n of this.nodes) {
        const r = p.rateOnNode[n.id]!;
        all += r;
        if (n.online && n.tier === top) t += r;
      }
    }
    this.scoreboard.add(this.clockMs / 1000 + dtSec, dtSec, t, all, this.oracleHitRatio());
  }

  private advancePhases(): void {
    const nowSec = this.clockMs / 1000;
    while (this.unborn.length > 0 && this.unborn[0]!.startAt <= this.clockMs) this.spawn(this.unborn.shift()!);
    for (const p of [...this.procs.values()]) {
      if (p.exitAt !== undefined && p.exitAt / 1000 <= nowSec) {
        this.exit(p.pid);
        continue;
      }
      if (p.updatePhase(nowSec)) this.oracleDirty = true;
      p.nowSec = nowSec;
    }
  }

  // ---- Kernel ----

  now(): number {
    return this.clockMs;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.advance(ms);
    if (Number.isFinite(this.pace)) await abortableDelay(ms / this.pace, signal);
    else await new Promise<void>((r) => setImmediate(r));
  }

  cpuMs(): number {
    return this.chargedMs;
  }

  /** Charge virtual time for work done inside a call (move_pages cost). */
  private charge(ms: number): void {
    this.chargedMs += ms;
    this.advance(ms);
  }

  topology(): RawTopology {
    const topTier = Math.min(...this.nodes.map((n) => n.tier));
    const tiers = [...new Set(this.nodes.map((n) => n.tier))].sort((a, b) => a - b);
    const rank = (tier: number): number => tiers.indexOf(tier);
    const nodes: NodeInfo[] = this.nodes.map((n) => ({
      id: n.id,
      online: n.online,
      hasCpu: n.tier === topTier,
      hasMemory: true,
      cpus: n.tier === topTier ? [n.id * 2, n.id * 2 + 1] : [],
      memTotalBytes: n.capacity,
      memFreeBytes: Math.max(0, n.capacity - n.used),
      distance: n.distance,
      // the scenario's tiers as a kernel reports them: memory tiers (DRAM's memory_tier4, a
      // slower tier's memory_tier54 as with HMAT) and HMAT read latencies three times apart
      memoryTier: 4 + 50 * rank(n.tier),
      hmat: { readLatencyNs: 100 * 3 ** rank(n.tier) },
    }));
    return { nodes, numaBalancing: 0, demotionEnabled: false };
  }

  private info(p: SimProcess): ProcessInfo {
    let rss = 0;
    for (let i = 0; i < p.pages; i++) if (p.node[i] !== ABSENT) rss += p.units[i]! * 4096;
    return { pid: p.pid, starttime: p.starttime, comm: p.comm, cmdline: p.comm, cgroup: `/sim/${p.comm}`, rssAnonBytes: rss, kernelThread: false };
  }

  selfPid(): null {
    return null;
  }

  processes(): ProcessInfo[] {
    return [...this.procs.values()].map((p) => this.info(p));
  }

  process(pid: number): ProcessInfo | null {
    const p = this.procs.get(pid);
    return p ? this.info(p) : null;
  }

  identity(pid: number): { pid: number; starttime: number } | null {
    const p = this.procs.get(pid);
    return p ? { pid, starttime: p.starttime } : null;
  }

  release(): void {
    // identity() reads the process table, holding nothing
  }

  maps(pid: number): Vma[] | null {
    const p = this.procs.get(pid);
    if (!p) return null;
    const out: Vma[] = [];
    for (let v = 0; v < p.vmaCount; v++) {
      out.push({ start: p.vStart[v]!, end: p.vEnd[v]!, read: true, write: true, exec: false, shared: false, offset: 0, dev: '00:00', inode: 0, path: '', deleted: false });
    }
    return out;
  }

  trackers(): TrackerSupport {
    return {
      idlePages: this.scenario.kernel.variant,
      pageIdle: false,
      damon: false,
      missing: { page_idle: 'the simulated host offers idle_pages only', damon: 'the simulated host offers idle_pages only' },
      skimUnsafe: null,
    };
  }

  /** The simulated processes live in this thread's memory: walks read them here. */
  idlePagesOpener(): WorkerOpener | null {
    return null;
  }

  usableCpus(): number {
    return 1;
  }

  openIdlePages(pid: number, flags: number): AccessFile {
    const p = this.procs.get(pid);
    if (!p) throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
    const k = this.scenario.kernel;
    const enc = new IdlePagesEncoder({ variant: k.variant, boundaryLoss: k.boundaryLoss, dupPmdSkip: k.dupPmdSkip, flags });
    return {
      pread: (buf: Uint8Array, count: number, pos: number): number => {
        if (!p.alive) throw new SyscallError('read', ERRNO.ESRCH);
        p.nowSec = this.clockMs / 1000;
        const r = enc.read(p, pos, count, buf);
        // the walk's own time: a walk of a big process takes long enough to bound the interval
        if (r.pos > pos) this.charge(((r.pos - pos) / 4096) * k.scanPageCost);
        return r.ret;
      },
      close: (): void => {},
    };
  }

  swYoungSupported(): boolean {
    return this.scenario.kernel.swYoung;
  }

  /** The simulated host has no physical frames to show: idle_pages only. */
  physPages(): null {
    return null;
  }

  damon(): null {
    return null;
  }

  /** the simulated host models no kernel-side migration */
  damos(): null {
    return null;
  }

  /** what the daemon asked for its own memory (the simulated host has none to place) */
  selfPolicy: { prefer: number[]; from: number[] } | null = null;

  placeSelf(prefer: number[], from: number[]): string | null {
    this.selfPolicy = { prefer, from };
    return null;
  }

  hugeRanges(pid: number, ranges: Float64Array): Float64Array {
    const p = this.procs.get(pid);
    if (!p || !p.alive) throw new TierdError('PROCESS_GONE', `process ${pid} is gone`);
    const out: number[] = [];
    for (let v = 0; v < p.vmaCount; v++) {
      if (!p.vmaHuge(v)) continue;
      for (let r = 0; r < ranges.length; r += 2) {
        const from = Math.max(p.vmaStart(v), ranges[r]!);
        const to = Math.min(p.vmaEnd(v), ranges[r + 1]!);
        if (to > from) out.push(from, to);
      }
    }
    return Float64Array.from(out);
  }

  movePages(pid: number, count: number, addrs: Float64Array, nodes: Int32Array | null, status: Int32Array, flags: number): number {
    const allowed = MPOL_MF_MOVE | MPOL_MF_MOVE_ALL | (this.scenario.kernel.swYoung ? MPOL_MF_SW_YOUNG : 0);
    if ((flags & ~allowed) !== 0) throw new SyscallError('move_pages', ERRNO.EINVAL);
    if ((flags & MPOL_MF_MOVE_ALL) !== 0 && !this.privileged) throw new SyscallError('move_pages', ERRNO.EPERM);
    const p = this.procs.get(pid);
    if (!p || !p.alive) throw new SyscallError('move_pages', ERRNO.ESRCH);
    if (nodes === null) return this.queryPages(p, count, addrs, status);
    const c: MoveCall = { p, count, addrs, status, batch: [], target: -1, lastQueued: -1, notDone: 0, cost: this.scenario.kernel.moveCallCost };
    try {
      for (let i = 0; i < count; i++) {
        const want = nodes[i]!;
        const wn = this.nodes.find((n) => n.id === want);
        if (!wn || !wn.online) {
          if (!this.flushBatch(c)) return c.notDone;
          throw new SyscallError('move_pages', ERRNO.ENODEV);
        }
        if (want !== c.target) {
          if (!this.flushBatch(c)) return c.notDone;
          c.target = want;
        }
        const st = this.entryStatus(p, addrs[i]!, want, flags);
        if (st !== null) {
          // an entry that is not queued flushes the batch (docs/spec/kernel-facts.md §1.1)
          if (!this.flushBatch(c)) return c.notDone;
          status[i] = st;
        } else {
          c.batch.push(i);
          c.lastQueued = i;
        }
      }
      return this.flushBatch(c) ? 0 : c.notDone;
    } finally {
      this.charge(c.cost);
    }
  }

  /** move_pages in query mode: where each page is. */
  private queryPages(p: SimProcess, count: number, addrs: Float64Array, status: Int32Array): number {
    for (let i = 0; i < count; i++) {
      const idx = p.pageIndex(addrs[i]!);
      status[i] = idx < 0 ? -ERRNO.EFAULT : p.node[idx] === ABSENT ? -ERRNO.ENOENT : p.node[idx]!;
    }
    this.charge((this.scenario.kernel.movePageCost4k / 8) * count);
    return 0;
  }

  /** An entry's status when it is not queued for migration (absent, already there, shared, busy), else null. */
  private entryStatus(p: SimProcess, addr: number, want: number, flags: number): number | null {
    const k = this.scenario.kernel;
    const idx = p.pageIndex(addr);
    if (idx < 0) return -ERRNO.EFAULT;
    if (p.node[idx] === ABSENT) return -ERRNO.ENOENT;
    if (p.node[idx] === want) return want;
    if (p.shared[idx] === 1 && (flags & MPOL_MF_MOVE_ALL) === 0) return -ERRNO.EACCES;
    if (k.busy > 0 && this.rng.next() < k.busy) return -ERRNO.EBUSY;
    return null;
  }

  /**
   * Migrate the queued batch. A non-fatal failure stops the call: false, and notDone is the
   * positive return (the status of that batch and after stays unwritten). A full node fails
   * the whole call (ENOMEM), as the kernel's allocation under __GFP_THISNODE does.
   */
  private flushBatch(c: MoveCall): boolean {
    const k = this.scenario.kernel;
    const { p, addrs } = c;
    let failed = 0;
    const moved: number[] = [];
    for (const e of c.batch) {
      const idx = p.pageIndex(addrs[e]!);
      const bytes = p.units[idx]! * 4096;
      const to = this.nodeById(c.target);
      this.onMove?.(p.pid);
      if (!p.alive) throw new SyscallError('move_pages', ERRNO.ESRCH);
      if (to.used + bytes > to.capacity) throw new SyscallError('move_pages', ERRNO.ENOMEM);
      c.cost += bytes === 4096 ? k.movePageCost4k : k.movePageCost2m;
      if (k.migrateFail > 0 && this.rng.next() < k.migrateFail) {
        failed++;
        continue;
      }
      const from = p.node[idx]!;
      this.nodeById(from).used -= bytes;
      to.used += bytes;
      p.place(idx, c.target);
      this.count(from, c.target, bytes);
      moved.push(e);
    }
    if (failed > 0) {
      c.notDone = failed + (c.count - (c.lastQueued + 1));
      return false;
    }
    for (const e of moved) c.status[e] = c.target;
    c.batch.length = 0;
    return true;
  }

  private count(from: number, to: number, bytes: number): void {
    const key = `${from}>${to}`;
    const c = this.migrations.get(key) ?? { from, to, pages: 0, bytes: 0 };
    c.pages++;
    c.bytes += bytes;
    this.migrations.set(key, c);
  }
}
