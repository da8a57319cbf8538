import type { Kernel } from '../kernel/types.js';
import { explainMoveError } from '../kernel/move-errors.js';
import { roomOn, tierIndex, type Topology } from '../topology/topology.js';
import type { Plan, PlanList, Target } from '../planner/plan.js';
import { Dir } from '../planner/history.js';
import { ERRNO, SyscallError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { O, emptyTotals, type MoveTotals } from './outcomes.js';
import { PeakRate, RateWindow } from './rate-window.js';
import type { MoveLog } from './dry-run.js';
import type { StateSpace } from '../heat/states.js';
import { sameProcess } from '../targets/identity.js';
import { Slice } from '../util/steps.js';
import { PAGE_BYTES } from '../util/units.js';
import { PlacementLearner } from './learn.js';

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
  /**
   * false once the CPU budget (scan.cpuBudget) is spent: the period's remaining batches are not
   * attempted and wait for the next plan (the mover has done its most valuable moves first)
   */
  mayMove?(): boolean;
}

const SENTINEL = -0x7fffffff;
const BATCH_BYTES = 4 * 1024 * 1024;

/** What one period's moves share: the plan, the room per node, closed nodes, the budget left. */
interface PeriodMoves {
  plan: Plan;
  topo: Topology;
  totals: MoveTotals;
  moveLog: MoveLog | null;
  /** bytes of room per node, kept from the topology read and this period's moves */
  free: Map<number, number>;
  /** target nodes closed for this period (ENOMEM, ENODEV, no room) */
  blocked: Set<number>;
  /** bytes the period may still move (migrate.periodCap) */
  budget: number;
  /**
   * lets the event loop in between batches once 4 ms have passed, whether they moved or not: a
   * dry-run's queries and prints, and pages already in place, once ran a period's whole plan in
   * one go (in the VM a dry-run of 1 GiB held /metrics for hundreds of milliseconds)
   */
  slice: Slice;
  /** what the batches learn of their pages' placement goes back into the heat states */
  learner: PlacementLearner;
}

/** One batch: pages take[] of a target's plan list, all going one way to one node. */
interface Batch {
  list: PlanList;
  take: Int32Array;
  to: number;
  dir: number;
}

/** NR_MAX_BATCHED_MIGRATION on x86-64 (HPAGE_PMD_NR): migrate_pages moves a list in chunks of this many base pages */
export const MIGRATE_BATCH = 512;

/**
 * Executes a plan with move_pages: batches of at most batchPages addresses (and 4 MiB), sorted
 * by target node, every demotion before the promotions so the fast tier never overflows,
 * under per-direction rate windows and the per-period cap. Dry-run takes the same path up to
 * the move itself.
 */
export class Mover {
  stopRequested = false;
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
    const ctx: PeriodMoves = {
      plan,
      topo,
      totals,
      moveLog,
      free: new Map(topo.nodes.map((n) => [n.id, roomOn(n, this.params.headroom)])),
      blocked: new Set<number>(),
      budget: this.params.periodCap,
      slice: new Slice(),
      learner: new PlacementLearner(tierIndex(topo), space),
    };
    const work = plan.lists.map((list) => ({ list, groups: groupsOf(list) }));
    // every demotion of the period first, then promotions into the room they made, as the node
    // now reports it: a promotion never races the demotion that frees its room
    await this.runDirection(Dir.DEMOTE, work, ctx);
    if (!this.stopRequested && !this.params.dryRun && totals.demotedBytes > 0) this.refreshFree(ctx.free, topo, freedPerNode(totals));
    await this.runDirection(Dir.PROMOTE, work, ctx);
    for (const { list } of work) if (list.target.gone) this.log.info({ pid: list.target.id.pid }, 'target gone during migration; its remaining moves are dropped');
    return totals;
  }

  /**
   * Every group of one direction, batch by batch, within the period's budget, the most valuable
   * page first across all targets: each batch comes from the group whose next page has the best
   * count, and stops where that group's pages fall below another group's next. Group after group,
   * three processes started together had all of the first one's warm and fill pages promoted
   * before the third one's hot set (the VM's `multi`; docs/design-notes.md, "Moves go by value
   * across targets"), and a cap or a full node cut the last target's best pages.
   */
  private async runDirection(dir: number, work: { list: PlanList; groups: Group[] }[], ctx: PeriodMoves): Promise<void> {
    const lanes: Lane[] = [];
    for (const { list, groups } of work) for (const g of groups) if (g.dir === dir) lanes.push({ list, g, served: 0 });
    const better = dir === Dir.PROMOTE ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
    for (let turn = 1; !this.stopRequested; turn++) {
      const pick = nextLane(lanes, better);
      if (pick === null) break;
      const { list, g } = pick.lane;
      pick.lane.served = turn;
      const n = batchLength(list, g, this.batch, (c) => pick.rival === null || !better(pick.rival, c));
      const take = g.order.subarray(g.pos, g.pos + n);
      g.pos += n;
      if (ctx.blocked.has(g.to) || ctx.budget <= 0) {
        ctx.totals.outcomes[O.no_room]! += n;
        continue;
      }
      if (this.hooks.mayMove?.() === false) {
        ctx.totals.outcomes[O.not_attempted]! += n;
        continue;
      }
      ctx.budget -= await this.runBatch(ctx, { list, take, to: g.to, dir });
      await ctx.slice.yieldIfDue();
    }
  }

  /**
   * One batch, as named stages: the pages not yet where they should go, what fits the target
   * node's room, the rate window, the dry-run's print, the identity check and the move, then
   * the accounting. Returns the bytes moved.
   */
  private async runBatch(ctx: PeriodMoves, b: Batch): Promise<number> {
    // a dry-run prints what the query finds, so it must be the target's; a real move is checked
    // right before move_pages (one /proc read per batch: under TCG batches shrink to a few
    // dozen pages and two reads per batch were a fifth of tierd's CPU)
    if (this.params.dryRun && !this.stillTarget(b.list.target, ctx.totals, b.take.length)) return 0;
    let { m, bytes } = this.notYetThere(ctx, b);
    ({ m, bytes } = this.fitRoom(ctx, b, m, bytes));
    if (m === 0) return 0;
    if (!(await this.awaitRate(ctx, b.dir, bytes))) return 0;
    this.print(ctx, b, m);
    if (this.params.dryRun || !this.stillTarget(b.list.target, ctx.totals, m)) return 0;
    const t0 = this.kernel.now();
    this.windows[b.dir]!.record(t0, bytes);
    const rc = this.callMove(ctx, b, m);
    if (rc === null) return 0;
    this.askUnwritten(b, m, rc);
    return this.account(ctx, b, m, t0);
  }

  /**
   * Where the batch's pages are now (query mode): what is already there or gone is accounted and
   * dropped, since it would split the kernel's batch. The rest goes to idx/from/addrs[0, m).
   */
  private notYetThere(ctx: PeriodMoves, b: Batch): { m: number; bytes: number } {
    const { list, take, to } = b;
    const t = list.target;
    const totals = ctx.totals;
    this.ensure(take.length);
    const addrs = this.addrs;
    const status = this.status;
    const n = take.length;
    for (let k = 0; k < n; k++) addrs[k] = list.addrs[take[k]!]!;
    status.fill(SENTINEL, 0, n);
    if (!this.query(t.id.pid, n, totals, t)) return { m: 0, bytes: 0 };
    let m = 0;
    let bytes = 0;
    for (let k = 0; k < n; k++) {
      const st = status[k]!;
      const e = take[k]!;
      if (st >= 0) ctx.learner.learn(t, list.addrs[e]!, st);
      if (st === to) totals.outcomes[O.already]!++;
      else if (st === -ERRNO.ENOENT || st === -ERRNO.EFAULT) totals.outcomes[O.gone]!++;
      else if (st < 0) totals.outcomes[O.failed]!++;
      else {
        this.idx[m] = e;
        this.from[m] = st;
        addrs[m] = list.addrs[e]!;
        bytes += PAGE_BYTES[list.shift[e]!]!;
        m++;
      }
    }
    return { m, bytes };
  }

  /** Promotions: as many as the target node's room allows (kept from the topology read and this period's moves). */
  private fitRoom(ctx: PeriodMoves, b: Batch, m: number, bytes: number): { m: number; bytes: number } {
    if (b.dir !== Dir.PROMOTE || m === 0) return { m, bytes };
    const room = ctx.free.get(b.to) ?? 0;
    while (m > 0 && bytes > room) {
      m--;
      bytes -= PAGE_BYTES[b.list.shift[this.idx[m]!]!]!;
      ctx.totals.outcomes[O.no_room]!++;
    }
    if (m === 0) ctx.blocked.add(b.to);
    return { m, bytes };
  }

  /** Wait in the kernel's clock until the batch fits the last second's budget; false when stopping. */
  private async awaitRate(ctx: PeriodMoves, dir: number, bytes: number): Promise<boolean> {
    const w = this.windows[dir]!;
    for (let wait = w.waitFor(this.kernel.now(), bytes); wait > 0; wait = w.waitFor(this.kernel.now(), bytes)) {
      ctx.totals.rateLimitedMs[dir]! += wait;
      this.hooks.onRateLimited?.(dir, wait / 1000);
      await this.kernel.sleep(wait, this.signal);
      if (this.stopRequested) return false;
    }
    return true;
  }

  /** The dry-run's lines (and a real run's move log, when one is kept). */
  private print(ctx: PeriodMoves, b: Batch, m: number): void {
    if (!ctx.moveLog) return;
    const { list, to, dir } = b;
    for (let k = 0; k < m; k++) {
      const e = this.idx[k]!;
      ctx.moveLog.add(list.target.id.pid, list.target.comm, list.addrs[e]!, PAGE_BYTES[list.shift[e]!]!, this.from[k]!, to, dir, list.reason[e]!, list.count[e]!, ctx.plan.walks);
    }
  }

  /**
   * move_pages of addrs[0, m) to the batch's node. Returns its result, or null when nothing more
   * is to be done with the batch (the process is gone). A node that refuses (ENOMEM, ENODEV) is
   * closed for the period, a process we may not move (EACCES) is dropped; any other error is a bug.
   */
  private callMove(ctx: PeriodMoves, b: Batch, m: number): number | null {
    const t = b.list.target;
    const pid = t.id.pid;
    this.nodes.fill(b.to, 0, m);
    this.status.fill(SENTINEL, 0, m);
    const t0 = this.kernel.now();
    let rc = 0;
    let errno = 0;
    try {
      rc = this.kernel.movePages(pid, m, this.addrs, this.nodes, this.status, this.params.flags);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      errno = e.errno;
    }
    const dt = this.kernel.now() - t0;
    ctx.totals.calls++;
    this.hooks.onCall?.(dt / 1000);
    this.adapt(dt);
    if (errno === 0) return rc;
    if (errno === ERRNO.ESRCH) {
      t.gone = true;
      ctx.totals.outcomes[O.gone]! += m;
      return null;
    }
    if (errno === ERRNO.ENOMEM || errno === ERRNO.ENODEV) {
      ctx.blocked.add(b.to);
      this.warnNodeRefused(pid, b.to, errno);
      this.refreshFree(ctx.free, ctx.topo);
    } else if (errno === ERRNO.EACCES) {
      t.gone = true;
      this.log.warn({ pid, node: b.to }, explainMoveError(errno, pid, this.params.flags).line());
    } else {
      throw explainMoveError(errno, pid, this.params.flags);
    }
    return rc;
  }

  /** Statuses left unwritten (stopped early, or a whole-call error): ask where those pages are. */
  private askUnwritten(b: Batch, m: number, rc: number): void {
    const status = this.status;
    const addrs = this.addrs;
    let unwritten = 0;
    for (let k = 0; k < m; k++) if (status[k] === SENTINEL) addrs[unwritten++] = addrs[k]!;
    if (rc <= 0 && unwritten === 0) return;
    const moved = addrs.slice(0, unwritten);
    const q = new Int32Array(unwritten).fill(SENTINEL);
    try {
      this.kernel.movePages(b.list.target.id.pid, unwritten, moved, null, q, 0);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
    }
    let u = 0;
    for (let k = 0; k < m; k++) if (status[k] === SENTINEL) status[k] = q[u++] === b.to ? b.to : -1000;
  }

  /** Each page's outcome, the room it freed and took, its move history, the totals; returns bytes moved. */
  private account(ctx: PeriodMoves, b: Batch, m: number, t0: number): number {
    const { list, to, dir } = b;
    const t = list.target;
    const { totals, free } = ctx;
    let movedBytes = 0;
    const bySource = new Map<number, [number, number]>();
    for (let k = 0; k < m; k++) {
      const e = this.idx[k]!;
      const st = this.status[k]!;
      const size = PAGE_BYTES[list.shift[e]!]!;
      if (st === to) {
        ctx.learner.learn(t, list.addrs[e]!, to);
        movedBytes += size;
        totals.outcomes[O.moved]!++;
        const src = bySource.get(this.from[k]!);
        if (src === undefined) bySource.set(this.from[k]!, [1, size]);
        else {
          src[0]++;
          src[1] += size;
        }
        if (t.history.record(list.addrs[e]!, ctx.plan.period, dir, list.reason[e]!, this.params.pingPongWindow)) totals.pingPongs++;
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
    // per source node, once a batch (a batch has one or two sources; per page this was a string
    // key and three map updates)
    for (const [src, [pages, bytes]] of bySource) {
      const key = `${dir}:${src}:${to}`;
      const agg = totals.moved.get(key) ?? { dir, from: src, to, pages: 0, bytes: 0 };
      agg.pages += pages;
      agg.bytes += bytes;
      totals.moved.set(key, agg);
      free.set(to, (free.get(to) ?? 0) - bytes);
      free.set(src, (free.get(src) ?? 0) + bytes);
      this.hooks.onMoved?.(dir, src, to, pages, bytes);
    }
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

  /**
   * Room per node as the kernel reports it now. After the period's demotions, `freed` lends each
   * node up to its slack against the pages demoted out of it: the kernel puts a freed page on the
   * freeing CPU's per-cpu list, which the report leaves out (it is not room for anyone else), and
   * the promotions that follow on this thread allocate from that list first. Lent no further than
   * the slack, a promotion that finds the list on another CPU still leaves the zone above min.
   */
  private refreshFree(free: Map<number, number>, topo: Topology, freed?: Map<number, number>): void {
    const raw = this.kernel.topology();
    for (const n of raw.nodes) {
      const known = topo.nodes.find((x) => x.id === n.id);
      if (!known) continue;
      const lent = Math.min(freed?.get(n.id) ?? 0, n.slackBytes ?? 0);
      free.set(n.id, n.online ? roomOn({ ...n, reservedBytes: n.reservedBytes ?? 0 }, this.params.headroom) + lent : 0);
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
    // not below the kernel's own migration batch: migrate_pages unmaps, copies and remaps up to
    // MIGRATE_BATCH pages together for any caller, so that is the unmapped window the kernel
    // accepts; smaller calls pay the per-call costs more often (lru_cache_disable's drain on every
    // CPU, which grows with the CPU count, and a placement query and an identity read), and
    // slow calls are often slow because of that drain
    if (ms > this.params.callTargetMs) this.batch = Math.max(Math.min(MIGRATE_BATCH, this.params.batchPages), this.batch >> 1);
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

/** Entries of the group's next batch: at most `pages` of them and BATCH_BYTES, while `keep(count)`, at least one. */
function batchLength(list: PlanList, g: Group, pages: number, keep: (count: number) => boolean): number {
  const end = Math.min(g.end, g.pos + pages);
  let bytes = PAGE_BYTES[list.shift[g.order[g.pos]!]!]!;
  let i = g.pos + 1;
  for (; i < end; i++) {
    const e = g.order[i]!;
    const size = PAGE_BYTES[list.shift[e]!]!;
    if (bytes + size > BATCH_BYTES || !keep(list.count[e]!)) break;
    bytes += size;
  }
  return i - g.pos;
}

/** A group of one target's plan list, and the turn it last gave a batch (ties go to the one served longest ago). */
interface Lane {
  list: PlanList;
  g: Group;
  served: number;
}

/**
 * The lane whose next page has the best count (ties: the one served longest ago), and the best
 * next count among the others (null when it is alone); null when every lane is done.
 */
function nextLane(lanes: Lane[], better: (a: number, b: number) => boolean): { lane: Lane; rival: number | null } | null {
  let lane: Lane | null = null;
  let best = 0;
  let rival: number | null = null;
  for (const l of lanes) {
    if (l.g.pos >= l.g.end || l.list.target.gone) continue;
    const c = l.list.count[l.g.order[l.g.pos]!]!;
    if (lane === null || better(c, best) || (c === best && l.served < lane.served)) {
      if (lane !== null) rival = rival === null || better(best, rival) ? best : rival;
      lane = l;
      best = c;
    } else if (rival === null || better(c, rival)) rival = c;
  }
  return lane === null ? null : { lane, rival };
}

/** Entries grouped by (direction, target node), each by value then address. */
function groupsOf(list: PlanList): Group[] {
  const keys = new Map<number, number[]>();
  for (let i = 0; i < list.length; i++) {
    const k = list.toNode[i]! * 2 + list.dir[i]!;
    let a = keys.get(k);
    if (!a) keys.set(k, (a = []));
    a.push(i);
  }
  const inAddressOrder = addressesAscending(list);
  const out: Group[] = [];
  for (const [k, idx] of keys) {
    const dir = k & 1;
    // most valuable first, so a rate limit or a full node cuts the least useful moves: the
    // hottest promotions, the coldest demotions; address order within a count
    if (!inAddressOrder) idx.sort((a, b) => list.addrs[a]! - list.addrs[b]!);
    out.push({ dir, to: (k - dir) / 2, order: byCount(idx, list.count, dir === Dir.PROMOTE), pos: 0, end: idx.length });
  }
  return out.sort((a, b) => a.dir - b.dir || a.to - b.to);
}

/** The planner lists a target's moves in address order; a list made otherwise is sorted by address first. */
function addressesAscending(list: PlanList): boolean {
  for (let i = 1; i < list.length; i++) if (list.addrs[i]! < list.addrs[i - 1]!) return false;
  return true;
}

/** Entries (in address order), stably bucketed by count: no comparison sort of a list of a few hundred thousand moves. */
function byCount(idx: number[], count: Uint8Array, descending: boolean): Int32Array {
  const starts = new Int32Array(257);
  for (const e of idx) starts[(descending ? 255 - count[e]! : count[e]!) + 1]!++;
  for (let c = 1; c <= 256; c++) starts[c]! += starts[c - 1]!;
  const order = new Int32Array(idx.length);
  for (const e of idx) order[starts[descending ? 255 - count[e]! : count[e]!]!++] = e;
  return order;
}

/** Bytes demoted out of each node so far this period. */
function freedPerNode(totals: MoveTotals): Map<number, number> {
  const out = new Map<number, number>();
  for (const agg of totals.moved.values()) if (agg.dir === Dir.DEMOTE) out.set(agg.from, (out.get(agg.from) ?? 0) + agg.bytes);
  return out;
}
