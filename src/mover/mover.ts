import type { Kernel } from '../kernel/types.js';
import { explainMoveError } from '../kernel/move-errors.js';
import { roomOn, type Topology } from '../topology/topology.js';
import type { Plan, PlanList, Target } from '../planner/plan.js';
import { Dir } from '../planner/history.js';
import { ERRNO, SyscallError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { O, emptyTotals, type MoveTotals } from './outcomes.js';
import { PeakRate, RateWindow } from './rate-window.js';
import type { MoveLog } from './dry-run.js';
import type { StateSpace } from '../heat/states.js';
import { sameProcess } from '../targets/identity.js';

export interface MoverParams {
  promoteRate: number;
  demoteRate: number;
  periodCap: number;
  batchPages: number;
  callTargetMs: number;
  flags: number;
  headroom: number;
  pingPongWindow: number;
  dryRun: boolean;
}

export interface MoverHooks {
  onCall?(seconds: number): void;
  onMoved?(dir: number, from: number, to: number, pages: number, bytes: number): void;
  onRateLimited?(dir: number, seconds: number): void;
}

const SENTINEL = -0x7fffffff;
const BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Executes a plan with move_pages: batches of at most batchPages addresses (and 4 MiB), sorted
 * by target node, every demotion before the promotions so the fast tier never overflows,
 * under per-direction rate windows and the per-period cap. Dry-run takes the same path up to
 * the move itself.
 */
export class Mover {
  stopRequested = false;
  private learn: (t: Target, addr: number, node: number) => void = () => {};
  /** the most bytes moved in any 1 s window, per direction (reports and the simulation summary) */
  readonly peaks: [PeakRate, PeakRate] = [new PeakRate(), new PeakRate()];
  private readonly windows: [RateWindow, RateWindow];
  private batch: number;
  /** when the last "node refused" warning was logged, per node and errno (kernel clock, ms) */
  private readonly refusedWarnedAt = new Map<number, number>();
  private addrs = new Float64Array(1024);
  private nodes = new Int32Array(1024);
  private status = new Int32Array(1024);
  private idx = new Int32Array(1024);
  private from = new Int32Array(1024);

  constructor(private readonly kernel: Kernel, private params: MoverParams, private readonly log: Logger, private readonly hooks: MoverHooks = {}, private readonly signal?: AbortSignal) {
    this.windows = [new RateWindow(params.promoteRate), new RateWindow(params.demoteRate)];
    this.batch = params.batchPages;
  }

  /** New limits apply to the windows as they are: moves of the last second still count after a reload. */
  setParams(p: MoverParams): void {
    this.params = p;
    this.windows[0].bytesPerSec = p.promoteRate;
    this.windows[1].bytesPerSec = p.demoteRate;
    this.batch = Math.min(this.batch, p.batchPages);
  }

  async execute(plan: Plan, topo: Topology, space: StateSpace, moveLog: MoveLog | null): Promise<MoveTotals> {
    const totals = emptyTotals();
    const tierOf = new Map(topo.nodes.map((n) => [n.id, n.tier]));
    // what the mover learns of a page's placement goes back into its heat state
    this.learn = (t: Target, addr: number, node: number): void => {
      const tier = tierOf.get(node);
      const loc = t.heat.locate(addr);
      if (tier === undefined || loc === null) return;
      loc.seg.states[loc.slot] = space.withTier(loc.seg.states[loc.slot]!, tier + 1);
    };
    const free = new Map(topo.nodes.map((n) => [n.id, roomOn(n, this.params.headroom)]));
    const blocked = new Set<number>(); // target nodes closed for this period (ENOMEM, ENODEV, no room)
    const budget = { left: this.params.periodCap };
    const work = plan.lists.map((list) => ({ list, groups: groupsOf(list) }));
    // every demotion of the period first, then promotions into the room they made, as the node
    // now reports it: a promotion never races the demotion that frees its room
    await this.runDirection(Dir.DEMOTE, work, plan, totals, free, blocked, budget, moveLog, topo);
    if (!this.stopRequested && !this.params.dryRun && totals.demotedBytes > 0) this.refreshFree(free, topo);
    await this.runDirection(Dir.PROMOTE, work, plan, totals, free, blocked, budget, moveLog, topo);
    for (const { list } of work) if (list.target.gone) this.log.info({ pid: list.target.id.pid }, 'target gone during migration; its remaining moves are dropped');
    return totals;
  }

  /** Every group of one direction, batch by batch, within the period's budget. */
  private async runDirection(dir: number, work: { list: PlanList; groups: Group[] }[], plan: Plan, totals: MoveTotals, free: Map<number, number>, blocked: Set<number>, budget: { left: number }, moveLog: MoveLog | null, topo: Topology): Promise<void> {
    for (const { list, groups } of work) {
      for (const g of groups) {
        if (g.dir !== dir) continue;
        while (g.pos < g.end && !this.stopRequested && !list.target.gone) {
          const n = batchLength(list, g, this.batch);
          const take = g.order.subarray(g.pos, g.pos + n);
          g.pos += n;
          if (blocked.has(g.to) || budget.left <= 0) {
            totals.outcomes[O.no_room]! += n;
            continue;
          }
          budget.left -= await this.runBatch(list, take, g.to, g.dir, plan, totals, free, blocked, moveLog, topo);
        }
      }
    }
  }

  /** One batch: identity check, placement query, room and rate checks, the move. Returns bytes moved. */
  private async runBatch(list: PlanList, take: Int32Array, to: number, dir: number, plan: Plan, totals: MoveTotals, free: Map<number, number>, blocked: Set<number>, moveLog: MoveLog | null, topo: Topology): Promise<number> {
    const t = list.target;
    const pid = t.id.pid;
    // a dry-run prints what the query finds, so it must be the target's; a real move is checked
    // right before move_pages below (one /proc read per batch: under TCG batches shrink to a few
    // dozen pages and two reads per batch were a fifth of tierd's CPU)
    if (this.params.dryRun && !this.stillTarget(t, totals, take.length)) return 0;
    this.ensure(take.length);
    const addrs = this.addrs;
    const status = this.status;
    let n = 0;
    for (let k = 0; k < take.length; k++) addrs[n++] = list.addrs[take[k]!]!;
    // where are they now? drop what is already placed or gone before the move (it would split the kernel's batch)
    status.fill(SENTINEL, 0, n);
    if (!this.query(pid, n, totals, t)) return 0;
    let m = 0;
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const st = status[k]!;
      const e = take[k]!;
      if (st >= 0) this.learn(t, list.addrs[e]!, st);
      if (st === to) totals.outcomes[O.already]!++;
      else if (st === -ERRNO.ENOENT || st === -ERRNO.EFAULT) totals.outcomes[O.gone]!++;
      else if (st < 0) totals.outcomes[O.failed]!++;
      else {
        this.idx[m] = e;
        this.from[m] = st;
        addrs[m] = list.addrs[e]!;
        bytes += 2 ** list.shift[e]!;
        m++;
      }
    }
    if (m === 0) return 0;
    // room on the target, kept from the topology read and what this period moved
    if (dir === Dir.PROMOTE) {
      const room = free.get(to) ?? 0;
      while (m > 0 && bytes > room) {
        m--;
        bytes -= 2 ** list.shift[this.idx[m]!]!;
        totals.outcomes[O.no_room]!++;
      }
      if (m === 0) {
        blocked.add(to);
        return 0;
      }
    }
    // rate window: wait in the kernel's clock until this batch fits the last second's budget
    const w = this.windows[dir]!;
    for (let wait = w.waitFor(this.kernel.now(), bytes); wait > 0; wait = w.waitFor(this.kernel.now(), bytes)) {
      totals.rateLimitedMs[dir]! += wait;
      this.hooks.onRateLimited?.(dir, wait / 1000);
      await this.kernel.sleep(wait, this.signal);
      if (this.stopRequested) return 0;
    }
    for (let k = 0; k < m; k++) {
      const e = this.idx[k]!;
      moveLog?.add(pid, t.comm, list.addrs[e]!, 2 ** list.shift[e]!, this.from[k]!, to, dir, list.reason[e]!, list.count[e]!, plan.walks);
    }
    if (this.params.dryRun) return 0;
    // the pid may have been reused since the walk: check right before the move
    if (!this.stillTarget(t, totals, m)) return 0;
    this.nodes.fill(to, 0, m);
    status.fill(SENTINEL, 0, m);
    const t0 = this.kernel.now();
    w.record(t0, bytes);
    let rc = 0;
    let errno = 0;
    try {
      rc = this.kernel.movePages(pid, m, addrs, this.nodes, status, this.params.flags);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      errno = e.errno;
    }
    const dt = this.kernel.now() - t0;
    totals.calls++;
    this.hooks.onCall?.(dt / 1000);
    this.adapt(dt);
    if (errno !== 0) {
      if (errno === ERRNO.ESRCH) {
        t.gone = true;
        totals.outcomes[O.gone]! += m;
        return 0;
      }
      if (errno === ERRNO.ENOMEM || errno === ERRNO.ENODEV) {
        blocked.add(to);
        this.warnNodeRefused(pid, to, errno);
        this.refreshFree(free, topo);
      } else if (errno === ERRNO.EACCES) {
        t.gone = true;
        this.log.warn({ pid, node: to }, explainMoveError(errno, pid, this.params.flags).line());
      } else {
        throw explainMoveError(errno, pid, this.params.flags);
      }
    }
    // statuses left unwritten (stopped early, or a whole-call error): ask where those pages are
    let unwritten = 0;
    for (let k = 0; k < m; k++) if (status[k] === SENTINEL) addrs[unwritten++] = addrs[k]!;
    if (rc > 0 || unwritten > 0) {
      const moved = addrs.slice(0, unwritten);
      const q = new Int32Array(unwritten).fill(SENTINEL);
      try {
        this.kernel.movePages(pid, unwritten, moved, null, q, 0);
      } catch (e) {
        if (!(e instanceof SyscallError)) throw e;
      }
      let u = 0;
      for (let k = 0; k < m; k++) if (status[k] === SENTINEL) status[k] = q[u++] === to ? to : -1000;
    }
    let movedBytes = 0;
    const bySource = new Map<number, [number, number]>();
    for (let k = 0; k < m; k++) {
      const e = this.idx[k]!;
      const st = status[k]!;
      const size = 2 ** list.shift[e]!;
      if (st === to) {
        if (!this.params.dryRun) this.learn(t, list.addrs[e]!, to);
        movedBytes += size;
        const key = `${dir}:${this.from[k]}:${to}`;
        const agg = totals.moved.get(key) ?? { dir, from: this.from[k]!, to, pages: 0, bytes: 0 };
        agg.pages++;
        agg.bytes += size;
        totals.moved.set(key, agg);
        totals.outcomes[O.moved]!++;
        const src = bySource.get(this.from[k]!) ?? [0, 0];
        src[0]++;
        src[1] += size;
        bySource.set(this.from[k]!, src);
        free.set(to, (free.get(to) ?? 0) - size);
        free.set(this.from[k]!, (free.get(this.from[k]!) ?? 0) + size);
        if (t.history.record(list.addrs[e]!, plan.period, dir, list.reason[e]!, this.params.pingPongWindow)) totals.pingPongs++;
      } else if (st === -1000) totals.outcomes[O.not_attempted]!++;
      else if (st === -ERRNO.EACCES) totals.outcomes[O.shared]!++;
      else if (st === -ERRNO.EBUSY) totals.outcomes[O.busy]!++;
      else if (st === -ERRNO.ENOENT || st === -ERRNO.EFAULT) totals.outcomes[O.gone]!++;
      else totals.outcomes[O.failed]!++;
    }
    if (dir === Dir.PROMOTE) totals.promotedBytes += movedBytes;
    else totals.demotedBytes += movedBytes;
    const mine = totals.byPid.get(t.id.pid) ?? [0, 0];
    mine[dir === Dir.PROMOTE ? 0 : 1] += movedBytes;
    totals.byPid.set(t.id.pid, mine);
    this.peaks[dir]!.record(t0, movedBytes);
    for (const [src, [pages, b]] of bySource) this.hooks.onMoved?.(dir, src, to, pages, b);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return movedBytes;
  }

  /** Is the pid still the target's process (same starttime)? If not, its `n` pages are accounted and it is gone. */
  private stillTarget(t: Target, totals: MoveTotals, n: number): boolean {
    const now = this.kernel.identity(t.id.pid);
    if (now !== null && sameProcess(now, t.id)) return true;
    t.gone = true;
    totals.outcomes[now === null ? O.gone : O.pid_reused]! += n;
    if (now !== null) this.log.warn({ pid: t.id.pid, was: t.id.starttime, now: now.starttime }, 'pid reused by another process; nothing moved');
    return false;
  }

  /** Where addrs[0..n) are now (query mode); false when the process is gone. */
  private query(pid: number, n: number, totals: MoveTotals, t: Target): boolean {
    try {
      this.kernel.movePages(pid, n, this.addrs, null, this.status, 0);
      return true;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === ERRNO.ESRCH) {
        t.gone = true;
        totals.outcomes[O.gone]! += n;
        return false;
      }
      if (e instanceof SyscallError) throw explainMoveError(e.errno, pid, 0);
      throw e;
    }
  }

  private refreshFree(free: Map<number, number>, topo: Topology): void {
    const raw = this.kernel.topology();
    for (const n of raw.nodes) {
      const known = topo.nodes.find((x) => x.id === n.id);
      if (known) free.set(n.id, n.online ? roomOn({ ...n, reservedBytes: n.reservedBytes ?? 0 }, this.params.headroom) : 0);
    }
  }

  /**
   * A node at its watermarks refuses promotions period after period: warn once a minute per
   * node and errno (the failures metric counts every page), the rest at debug level.
   */
  private warnNodeRefused(pid: number, node: number, errno: number): void {
    const key = node * 1000 + errno;
    const now = this.kernel.now();
    const fields = { pid, node, errno: errno === ERRNO.ENOMEM ? 'ENOMEM' : 'ENODEV' };
    const why = errno === ERRNO.ENOMEM ? 'target node full: no more moves to it this period' : 'target node offline: topology will be re-read';
    const last = this.refusedWarnedAt.get(key);
    if (last !== undefined && now - last < 60_000) {
      this.log.debug(fields, why);
      return;
    }
    this.refusedWarnedAt.set(key, now);
    this.log.warn(fields, `${why} (repeats of this warning within a minute are logged at debug level)`);
  }

  /** Keep each call near the time target: halve the batch when calls run long, grow it back when short. */
  private adapt(ms: number): void {
    // not below 128 pages: each call also costs a placement query and an identity read, and on a
    // slow host (the TCG VM) batches of 16 made those reads a quarter of tierd's CPU
    if (ms > this.params.callTargetMs) this.batch = Math.max(Math.min(128, this.params.batchPages), this.batch >> 1);
    else if (ms < this.params.callTargetMs / 4) this.batch = Math.min(this.params.batchPages, this.batch * 2);
  }

  private ensure(n: number): void {
    if (this.addrs.length >= n) return;
    this.addrs = new Float64Array(n);
    this.nodes = new Int32Array(n);
    this.status = new Int32Array(n);
    this.idx = new Int32Array(n);
    this.from = new Int32Array(n);
  }
}

interface Group {
  dir: number;
  to: number;
  order: Int32Array;
  pos: number;
  end: number;
}

/** Entries of the group's next batch: at most `pages` of them and BATCH_BYTES, at least one. */
function batchLength(list: PlanList, g: Group, pages: number): number {
  const end = Math.min(g.end, g.pos + pages);
  let bytes = 2 ** list.shift[g.order[g.pos]!]!;
  let i = g.pos + 1;
  for (; i < end; i++) {
    const size = 2 ** list.shift[g.order[i]!]!;
    if (bytes + size > BATCH_BYTES) break;
    bytes += size;
  }
  return i - g.pos;
}

/** Entries grouped by (direction, target node), each by value then address. */
function groupsOf(list: PlanList): Group[] {
  const keys = new Map<string, number[]>();
  for (let i = 0; i < list.length; i++) {
    const k = `${list.dir[i]}:${list.toNode[i]}`;
    let a = keys.get(k);
    if (!a) keys.set(k, (a = []));
    a.push(i);
  }
  const out: Group[] = [];
  for (const [k, idx] of keys) {
    const [dir, to] = k.split(':').map(Number) as [number, number];
    // most valuable first, so a rate limit or a full node cuts the least useful moves: the
    // hottest promotions, the coldest demotions; address order within a count
    const sign = dir === Dir.PROMOTE ? -1 : 1;
    idx.sort((a, b) => sign * (list.count[a]! - list.count[b]!) || list.addrs[a]! - list.addrs[b]!);
    out.push({ dir, to, order: Int32Array.from(idx), pos: 0, end: idx.length });
  }
  return out.sort((a, b) => a.dir - b.dir || a.to - b.to);
}
