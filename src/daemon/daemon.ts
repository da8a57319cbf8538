import type { Kernel } from '../kernel/types.js';
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, MPOL_MF_SW_YOUNG } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import { displaceThreshold, fillThreshold, hotThreshold, nodeMap } from '../config/load.js';
import { classify, tierBytes, type Topology } from '../topology/topology.js';
import { StateSpace } from '../heat/states.js';
import { HeatTable } from '../heat/heat-table.js';
import { countHistogram } from '../heat/histogram.js';
import { makeTracker } from '../trackers/select.js';
import { binPeriod } from '../journal/bins.js';
import type { JournalWriter } from '../journal/journal.js';
import type { Tracker, WalkItem, WalkResult } from '../trackers/tracker.js';
import { selectTargets } from '../targets/select.js';
import { trackableRanges } from '../targets/maps.js';
import { identityKey } from '../targets/identity.js';
import { StageCpu, type StageCpuTake } from './stage-cpu.js';
import { planSteps, type PlannerParams } from '../planner/planner.js';
import { rankTables, scaledCount } from '../planner/ranks.js';
import { FILL_ADAPT, FillAdapt } from '../planner/fill-adapt.js';
import { PlacementLookup } from '../mover/placement.js';
import { MoveHistory } from '../planner/history.js';
import type { Plan, Target } from '../planner/plan.js';
import { Mover, type MoverParams } from '../mover/mover.js';
import { OUTCOMES, type MoveTotals } from '../mover/outcomes.js';
import type { MoveLog } from '../mover/dry-run.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/log.js';
import { eachConcurrently } from '../util/concurrently.js';
import { cooperate, Slice } from '../util/steps.js';
import { CpuBudget } from './cpu-budget.js';
import { placeOwnMemory } from './self-memory.js';

export interface PeriodReport {
  period: number;
  startedMs: number;
  durationMs: number;
  walks: number;
  intervalMs: number;
  targets: number;
  hotBytes: Record<string, number>;
  coldBytes: Record<string, number>;
  trackedBytes: Record<string, number>;
  hotSetBytes: number;
  plannedPromoteBytes: number;
  plannedDemoteBytes: number;
  promotedBytes: number;
  demotedBytes: number;
  failures: Record<string, number>;
  pingPongPages: number;
  movedPages: number;
  notes: string[];
}

export interface DaemonOptions {
  dryRun: boolean;
  moveLog?: MoveLog | null;
  metrics?: Metrics | null;
  /** stop after this many periods */
  maxPeriods?: number;
  /** stop when the kernel clock passes this (ms) */
  untilMs?: number;
  onPeriod?: (r: PeriodReport, plan: Plan) => void;
  /** keep a journal of each period (tierd report draws it); hit: the simulated host's hit ratio */
  journal?: { writer: JournalWriter; hit?: () => number } | null;
  /** runs between planning and migration (fault injection in tests) */
  beforeMove?: (plan: Plan) => void;
  /**
   * with no target selector configured, manage every process: the simulated host's scenarios
   * (a real host's daemon refuses such a config)
   */
  everyProcessByDefault?: boolean;
}

/** the largest share of wall time the walks may take (the interval is at least walk / share) */
const WALK_SHARE = 0.25;
/** every this many periods each target's first counted walk reads every page (fullWalkDue) */
const FULL_WALK_PERIODS = 8;
/**
 * the longest pause scan.settledShare may ask for: a hot-set shift waits at most this long to be
 * seen (NUMA balancing's scanner also backs off to a pass a minute, numa_balancing_scan_period_max_ms)
 */
const SETTLED_SHARE_PAUSE_MAX = 60_000;

/**
 * The period loop: N walks of every target spaced by the interval, one plan, one rate-limited
 * migration, one report. Clock and sleep come from the Kernel, so the same loop runs on the
 * simulated host in virtual time.
 */
export class Daemon {
  private config: Config;
  private pending: Config | null = null;
  private space: StateSpace;
  private topo: Topology;
  private readonly targets = new Map<string, Target>();
  /**
   * Targets whose next counted walk reads every page's own bit (no skim): new targets, and all
   * of them every FULL_WALK_PERIODS. A skimmed table makes no pages, so memory that appeared
   * without a CPU access through its table (MADV_POPULATE, pages under a PMD bit cleared by a
   * tierd that ran before) would otherwise stay unknown.
   */
  private readonly fullWalkDue = new Set<Target>();
  private readonly placement: PlacementLookup;
  private readonly mover: Mover;
  private tracker: Tracker;
  private trackerSource: string | undefined;
  private intervalMs: number;
  private extraColdPeriods = 0;
  /** consecutive periods with almost no accessed memory (auto interval) */
  private quietPeriods = 0;
  /** accessed bytes in one walk above which a lengthened interval returns to initialInterval at once */
  private quietBytes = Infinity;
  /** consecutive periods with ping-pong well under its limit (the gap relaxes after a window of them) */
  private calmPeriods = 0;
  private refusalLogged = false;
  /** the fill threshold's adaptation, when the config leaves it to tierd */
  private fillAdapt: FillAdapt | null;
  /** extra pause between periods while placement is settled (scan.settledPauseMax, scan.settledShare) */
  private settledPause = 0;
  /** when the current period started (kernel clock, ms) */
  private periodStartMs = 0;
  /**
   * tierd's CPU time (ms) when the last period ended: a cycle's CPU, from there to the next
   * period's end, includes what tierd's other threads and its period end cost during the pause
   */
  private cycleStartCpuMs: number;
  /** the longest counted walk of this period */
  private walkMs = 0;
  /** hot bytes outside the fast tier (and of unknown placement) in the last period */
  private lastHotElsewhere = 0;
  private lastHotFast = 0;
  private readonly ppWindow: { moved: number; pp: number }[] = [];
  private stopping = false;
  /** aborted by stop(): interval sleeps and rate-limit waits end at once */
  private readonly abort = new AbortController();
  period = 0;
  private lastWalkEndMs: number | null = null;
  /** the pause the daemon took after the last period (scan.periodPause + the settled pause) */
  private pausedMs = 0;
  private readonly cpu = new StageCpu();
  private readonly budget: CpuBudget;
  /** when the selectors last read the process list (kernel clock, ms) */
  private lastSelectMs = -Infinity;

  constructor(private readonly kernel: Kernel, config: Config, private readonly log: Logger, private readonly opts: DaemonOptions) {
    this.config = config;
    this.topo = this.readTopology();
    this.space = this.makeSpace();
    this.placement = new PlacementLookup(kernel);
    this.mover = new Mover(kernel, this.moverParams(), log, this.moverHooks(), this.abort.signal);
    this.tracker = makeTracker(kernel, config.scan);
    this.fillAdapt = this.makeFillAdapt();
    this.intervalMs = config.scan.interval === 'auto' ? config.scan.initialInterval : config.scan.interval;
    this.budget = new CpuBudget(kernel, config.scan.cpuBudget);
    this.cycleStartCpuMs = kernel.cpuMs();
    for (const c of this.topo.conflicts) log.warn({ conflict: c }, 'kernel tiering conflict');
    this.warnUnknownNodes();
    // tierd's own memory (about 100 MiB of Node.js, and a byte per tracked page) goes to the
    // slowest tier, not the fast one it manages: in the VM's DRAM-nearly-full benchmark it took
    // two thirds of the free DRAM
    placeOwnMemory(this.kernel, this.topo, this.config, this.moverParams().dryRun, this.log);
  }

  get moverPeaks(): Mover['peaks'] {
    return this.mover.peaks;
  }

  /** Stop after the current move_pages call; the period's record is kept. */
  stop(): void {
    this.stopping = true;
    this.mover.stopRequested = true;
    this.abort.abort();
  }

  /** What the daemon holds, for tests and operators: it must follow the targets, not the uptime. */
  stateSizes(): { targets: number; heatBytes: number; heatSegments: number; historyEntries: number } {
    let heatBytes = 0;
    let heatSegments = 0;
    let historyEntries = 0;
    for (const t of this.targets.values()) {
      heatBytes += t.heat.memoryBytes();
      heatSegments += t.heat.segments.length;
      historyEntries += t.history.size;
    }
    return { targets: this.targets.size, heatBytes, heatSegments, historyEntries };
  }

  /** A new config applies at the next period boundary. */
  reload(c: Config): void {
    this.pending = c;
  }

  async run(): Promise<void> {
    try {
      while (!this.stopping) {
        if (this.opts.maxPeriods !== undefined && this.period >= this.opts.maxPeriods) break;
        if (this.opts.untilMs !== undefined && this.kernel.now() >= this.opts.untilMs) break;
        await this.runPeriod();
        if (this.stopping) break;
        await this.pauseBetweenPeriods();
      }
    } finally {
      this.tracker.close?.(); // DAMON: remove our kdamonds
    }
  }

  /**
   * The configured pause and the settled one are evidence: the next period's first walk counts
   * what the targets touched during them. A longer pause that keeps the CPU budget is a gap, so
   * a priming walk clears the bits it gathered: a page touched once in half a minute would
   * otherwise look accessed in that walk.
   */
  private async pauseBetweenPeriods(): Promise<void> {
    const evidence = this.config.scan.periodPause + this.settledPause;
    const budget = this.budget.pauseNeeded();
    if (budget > evidence) {
      this.log.debug({ pauseMs: Math.round(budget), settledMs: evidence, cpuBudget: this.config.scan.cpuBudget }, 'cpu budget: pausing');
      this.opts.metrics?.budgetPause.inc((budget - evidence) / 1000);
    }
    if (this.settledPause > 0) this.opts.metrics?.settledPause.inc(this.settledPause / 1000);
    const pause = Math.max(evidence, budget);
    if (pause > 0) await this.kernel.sleep(pause, this.abort.signal);
    this.pausedMs = evidence;
  }

  async runPeriod(): Promise<PeriodReport> {
    const cpu = this.cpu;
    cpu.mark('between');
    this.budget.beginPeriod();
    this.applyPending();
    const started = this.kernel.now();
    this.periodStartMs = started;
    this.topo = this.readTopology();
    const fresh = this.refreshTargets();
    cpu.mark('targets');
    const N = this.config.scan.walks;
    const walks = await this.walkPeriod(started, fresh);
    cpu.mark('walks');
    this.logTrackerSource();
    this.skipWalks(N - walks);
    this.lastWalkEndMs = this.kernel.now();
    const live = [...this.targets.values()].filter((t) => !t.gone);
    if (this.log.isLevelEnabled('debug')) {
      // a second pass over every page: only when someone reads it
      const h = countHistogram(live.map((t) => t.heat), this.topo.tiers.length);
      this.log.debug({ period: this.period, walks: h.walks, bytesByTierSlotAndCount: h.bytes, partialBytes: h.partialBytes }, 'access-count histogram');
    }
    const params = this.plannerParams();
    const tables = rankTables(this.space, params);
    const slice = new Slice();
    const staleBefore = this.placement.rechecksAll;
    const queried = await cooperate(this.placement.lookupSteps(live, this.space, tables, this.topo, this.period, this.config.policy.placementQueries), slice);
    if (this.placement.rechecksAll !== staleBefore) this.log.info({ period: this.period }, this.placement.rechecksAll ? 'pages believed in the fast tier were found elsewhere (another mover): every one is re-checked until beliefs hold' : 'placement beliefs hold again: a quarter of the fast tier re-checked per period');
    cpu.mark('placement');
    const plan = await cooperate(planSteps(live, this.topo, this.space, this.period, params, tables), slice);
    plan.placementQueries = queried;
    this.adaptFill(plan);
    cpu.mark('plan');
    this.opts.beforeMove?.(plan);
    this.budget.beginMoves();
    const totals = await this.mover.execute(plan, this.topo, this.space, this.opts.moveLog ?? null);
    this.budget.endMoves();
    cpu.mark('move');
    const report = this.report(started, plan, totals, live.length, cpu.take());
    this.writeJournal(report, live, totals);
    await this.endPeriod(plan, totals, slice);
    this.opts.onPeriod?.(report, plan);
    return report;
  }

  /**
   * The period's walks; returns how many were made. Every counted walk sees the bits of one
   * interval, or of the daemon's own pause before it: bits older than that (process start, a
   * period that ran long) are cleared by an uncounted priming walk, of every target after a gap,
   * else of the targets new this period (none for a tracker whose walk clears the bits before
   * its window: page_idle's mark).
   * A period whose targets are all new plans after half its walks: a fresh target's clear hot
   * set should not wait a whole period (the rank scales counts by the walks that saw a page).
   * With no target there is nothing to walk: the period is one interval, so a process that
   * appears is found within an interval, not a period.
   */
  private async walkPeriod(started: number, fresh: Target[]): Promise<number> {
    const live = [...this.targets.values()].filter((t) => !t.gone);
    if (live.length === 0) {
      await this.kernel.sleep(this.intervalMs, this.abort.signal);
      return 0;
    }
    const needsPriming = this.tracker.primesItself !== true;
    // the daemon's own pause is not a gap: what the targets touched meanwhile is evidence (a
    // sparse store, seen a page at a time, lost most of its sightings to settled pauses)
    const paused = this.pausedMs;
    this.pausedMs = 0;
    if (this.lastWalkEndMs === null || started - this.lastWalkEndMs - paused > 2 * this.intervalMs) {
      if (needsPriming) await this.walkAll(null);
      this.lastWalkEndMs = this.kernel.now();
    } else if (fresh.length > 0 && needsPriming) await this.walkAll(null, fresh);
    if (this.period % FULL_WALK_PERIODS === 0) for (const t of live) this.fullWalkDue.add(t);
    const N = this.config.scan.walks;
    const walks = fresh.length === live.length ? Math.ceil(N / 2) : N;
    this.tracker.setInterval?.(this.intervalMs);
    let lastWalk = this.kernel.now() - this.lastWalkEndMs;
    for (let w = 0; w < walks && !this.stopping; w++) {
      await this.kernel.sleep(Math.max(0, this.intervalMs - lastWalk), this.abort.signal);
      const t0 = this.kernel.now();
      await this.walkAll(this.space);
      lastWalk = this.kernel.now() - t0;
      this.walkMs = Math.max(this.walkMs, lastWalk);
      this.wakeIfBusy(live);
    }
    return walks;
  }

  /**
   * A target that was quiet long enough to lengthen the interval (4 s after a minute's idling)
   * and is busy again gets the reactive interval from its next walk, not after a whole period
   * of long intervals: in the VM a workload that finished its start-up waited 80 s to be placed.
   */
  private wakeIfBusy(live: Target[]): void {
    const s = this.config.scan;
    if (s.interval !== 'auto' || this.intervalMs <= s.initialInterval) return;
    const accessed = live.reduce((sum, t) => sum + t.heat.walk.accessedBytes, 0);
    if (accessed <= this.quietBytes) return;
    this.log.debug({ from: this.intervalMs, to: s.initialInterval, accessedBytes: accessed }, 'busy again: interval back to initialInterval');
    this.intervalMs = s.initialInterval;
    this.quietPeriods = 0;
  }

  /** Walks not made this period: every page misses them, so only the walks made are evidence. */
  private skipWalks(n: number): void {
    for (let k = 0; k < n; k++) {
      for (const t of this.targets.values()) {
        if (t.gone) continue;
        t.heat.beginWalk();
        t.heat.endWalk();
      }
    }
  }

  /** One walk of every live target (of `only`), as many at once as the tracker can take. */
  private async walkAll(space: StateSpace | null, only?: Target[]): Promise<void> {
    const t0 = this.kernel.now();
    const walked = [...(only ?? this.targets.values())].filter((t) => !t.gone);
    if (this.tracker.walkMany) await this.walkTogether(walked, space, this.tracker.walkMany.bind(this.tracker));
    else await eachConcurrently(walked, this.tracker.concurrency ?? 1, (t) => this.walkTarget(t, space));
    if (space && this.opts.metrics) {
      const live = walked.filter((t) => !t.gone);
      this.opts.metrics.walks.inc();
      this.opts.metrics.scannedBytes.inc(live.reduce((sum, t) => sum + t.heat.walk.scannedBytes, 0));
      this.opts.metrics.skimmedBytes.inc(live.reduce((sum, t) => sum + t.heat.walk.skimmedBytes, 0));
      this.opts.metrics.walkDuration.observe((this.kernel.now() - t0) / 1000);
    }
  }

  /** Re-check the target is the process it was, re-read its ranges, walk it. */
  private async walkTarget(t: Target, space: StateSpace | null): Promise<void> {
    const item = this.walkItem(t, space);
    if (item) this.walked(t, await this.tracker.walk(item.pid, item.ranges, item.heat, item.full));
  }

  /** Every target in one walk of the tracker's own (it shares work between them). */
  private async walkTogether(walked: Target[], space: StateSpace | null, walkMany: (items: WalkItem[]) => Promise<WalkResult[]>): Promise<void> {
    const ready: Target[] = [];
    const items: WalkItem[] = [];
    for (const t of walked) {
      const item = this.walkItem(t, space);
      if (!item) continue;
      ready.push(t);
      items.push(item);
    }
    if (items.length === 0) return;
    const results = await walkMany(items);
    ready.forEach((t, i) => this.walked(t, results[i]!));
  }

  /** The target's walk, after checking it is the process it was and re-reading its ranges; null when it is gone. */
  private walkItem(t: Target, space: StateSpace | null): WalkItem | null {
    const maps = this.kernel.maps(t.id.pid);
    const now = this.kernel.identity(t.id.pid);
    if (maps === null || now === null || now.starttime !== t.id.starttime) {
      t.gone = true;
      return null;
    }
    t.ranges = trackableRanges(maps, { includeFilePrivate: this.config.targets.vmas.includeFilePrivate, minBytes: this.config.targets.vmas.minSize });
    const full = space !== null && this.fullWalkDue.delete(t);
    return { pid: t.id.pid, ranges: t.ranges, heat: space ? t.heat : null, full };
  }

  /** What a walk's result says about its target: gone, stalled, refused. */
  private walked(t: Target, r: WalkResult): void {
    if (r.status === 'gone') {
      t.gone = true;
      this.log.info({ pid: t.id.pid, comm: t.comm }, 'target exited');
    }
    if (r.stalls > 0) this.log.warn({ pid: t.id.pid, stalls: r.stalls }, 'idle_pages cursor did not advance; range skipped');
    if ((r.refused ?? 0) > 0 && !this.refusalLogged) {
      this.refusalLogged = true;
      this.log.warn({ pid: t.id.pid, spans: r.refused, error: r.refusal }, `${this.tracker.name}: the kernel refused part of the access bitmap; those pages stay unknown (logged once)`);
    }
  }

  /** nodes.map entries for nodes this host does not have are a typo or a stale config: say so */
  private warnUnknownNodes(): void {
    const have = new Set(this.kernel.topology().nodes.map((n) => n.id));
    const unknown = Object.keys(this.config.nodes.map ?? {}).map(Number).filter((id) => !have.has(id));
    if (unknown.length > 0) this.log.warn({ nodes: unknown, present: [...have] }, 'nodes.map names nodes this host does not have; their entries are ignored');
  }

  /**
   * Follow the selectors; returns the targets new this period. Selection reads every process
   * on the host, so while there are targets it runs every targets.rescan; in between only
   * exits are followed (every walk re-checks each target's identity). With no target it runs
   * every period, and a reload makes it run at once.
   */
  private refreshTargets(): Target[] {
    const now = this.kernel.now();
    const anyLive = [...this.targets.values()].some((t) => !t.gone);
    if (anyLive && now - this.lastSelectMs < this.config.targets.rescan) {
      this.dropGone();
      return [];
    }
    this.lastSelectMs = now;
    const procs = selectTargets(this.kernel, this.config.targets, this.opts.everyProcessByDefault);
    if (procs.length === 0 && this.period === 0) this.log.warn({ comm: this.config.targets.comm?.source, cgroup: this.config.targets.cgroup, minRss: this.config.targets.minRss }, 'no process matches the targets yet (tierd_targets is 0); tierd keeps looking every period');
    const keep = new Set<string>();
    const fresh: Target[] = [];
    for (const p of procs) {
      const key = identityKey(p);
      keep.add(key);
      if (!this.targets.has(key)) {
        const t: Target = { id: { pid: p.pid, starttime: p.starttime }, comm: p.comm, heat: new HeatTable(this.space), history: new MoveHistory(), ranges: new Float64Array(0), gone: false };
        this.targets.set(key, t);
        this.fullWalkDue.add(t);
        fresh.push(t);
        this.log.info({ pid: p.pid, comm: p.comm }, 'new target');
      }
    }
    for (const [key, t] of this.targets) if (!keep.has(key)) t.gone = true;
    this.dropGone();
    return fresh;
  }

  private dropGone(): void {
    for (const [key, t] of this.targets) {
      if (!t.gone) continue;
      this.targets.delete(key);
      this.kernel.release(t.id.pid);
      this.fullWalkDue.delete(t);
    }
    this.tracker.setTargets?.([...this.targets.values()].map((t) => t.id.pid));
    this.opts.metrics?.targets.set(this.targets.size);
  }

  private async endPeriod(plan: Plan, totals: MoveTotals, slice: Slice): Promise<void> {
    const cold = this.config.policy.coldThreshold;
    const N = this.space.N;
    // the mark: hot this period. Hot two periods running is evidence; a merely warm page lucky
    // twice is rare (seen in 68% of the walks: 15% of periods in all five, 2% twice running,
    // against 12% when a fill candidate's count also set the mark)
    const mark = hotThreshold(this.config);
    const table = this.space.periodEndTable(
      (seen, count) => seen === N && count <= cold,
      (seen, count) => (scaledCount(seen, count, N) ?? -1) >= mark,
    );
    const keep = Math.max(this.config.policy.pingPongWindow, this.config.policy.minResidency);
    for (const t of this.targets.values()) {
      await cooperate(t.heat.endPeriodSteps(table), slice);
      t.history.prune(this.period, keep);
    }
    this.tuneInterval(plan);
    this.watchPingPong(totals);
    this.backOffWhenSettled(plan, totals);
    this.period++;
  }

  /**
   * Keep the hot set under hotTarget of the fast tier: a shorter interval sees fewer pages in
   * every walk. Free room is filled by count (policy.fillThreshold), so a small hot set needs no
   * longer interval: the interval returns toward initialInterval, the most reactive setting, and
   * goes beyond it only while a target shows almost no accessed memory for several periods. A
   * period that straddles a hot-set shift (hot set near zero once) therefore moves nothing.
   */
  private tuneInterval(plan: Plan): void {
    const s = this.config.scan;
    if (s.interval !== 'auto') return;
    const top = this.topo.tiers[0] ?? [];
    const fastFree = this.topo.nodes.filter((n) => top.includes(n.id)).reduce((sum, n) => sum + n.memFreeBytes, 0);
    const target = this.config.policy.hotTarget * ((plan.trackedBytes[0] ?? 0) + fastFree);
    const hot = plan.hotSetBytes;
    // quiet: no hot page at all and little else accessed; only then can a longer interval help
    this.quietPeriods = hot === 0 && plan.warmSetBytes < target / 16 ? this.quietPeriods + 1 : 0;
    this.quietBytes = target / 16;
    let next = this.intervalMs;
    // damped both ways: near the interval where hot pages stop being seen in every walk, the
    // measured hot set swings several-fold for a small change (seen on a real kernel: 20 to
    // 155 MiB between 125 and 250 ms), and full steps made the interval oscillate
    if (hot > target) next = this.intervalMs * Math.max(0.7, Math.sqrt(target / Math.max(hot, 1)));
    else if (this.intervalMs < s.initialInterval && hot < target / 2) next = Math.min(s.initialInterval, this.intervalMs * 1.25);
    else if (this.intervalMs > s.initialInterval && this.quietPeriods === 0) next = Math.max(s.initialInterval, this.intervalMs / 2);
    else if (this.quietPeriods >= 3) next = this.intervalMs * 2;
    // the interval shrinks no further than walks taking WALK_SHARE of the time: shorter costs a
    // core and, where tierd shares CPUs with its targets, slows them so much that their accesses
    // thin out, the hot set looks smaller still and the interval kept shrinking (seen in the
    // VM). It never lengthens the interval beyond initialInterval: a walk slowed by contention
    // then pushed it to 6 s, where every warm page looked hot
    const walkFloor = Math.min(s.initialInterval, this.walkMs / WALK_SHARE);
    const floor = Math.max(s.intervalMin * 2 ** this.extraColdPeriods, walkFloor);
    next = Math.min(s.intervalMax, Math.max(floor, next));
    this.walkMs = 0;
    if (Math.abs(next - this.intervalMs) > 1e-9) this.log.debug({ from: this.intervalMs, to: next, hotBytes: hot, targetBytes: target }, 'scan interval tuned');
    this.intervalMs = next;
  }

  /**
   * A period that moved next to nothing (under 1% of the tracked memory, or 2 MiB) doubles the
   * pause before the next one, up to scan.settledPauseMax; any period with real work resets it.
   * A placed workload then costs a few walks a minute instead of N per period, and a hot-set
   * shift waits at most that pause longer to be seen. Where a period is expensive the pause goes
   * on doubling until settled periods cost at most scan.settledShare of a CPU (see
   * settledSharePause). A shift shows before it moves anything
   * (its new hot pages wait a second period for the hot mark before they may displace others):
   * hot memory outside the fast tier that more than doubled, or inside it that halved, is work.
   * So is a fill threshold still stepping down: its calm periods move nothing by definition.
   */
  private backOffWhenSettled(plan: Plan, totals: MoveTotals): void {
    const max = this.config.scan.settledPauseMax;
    const tracked = plan.trackedBytes.reduce((s, v) => s + v, 0);
    const moved = totals.promotedBytes + totals.demotedBytes;
    // nothing tracked is not settled: a process that appears must be found within an interval
    const small = Math.max(2 * 2 ** 20, 0.01 * tracked);
    const hotElsewhere = plan.hotBytes.slice(1).reduce((s, v) => s + v, 0);
    const hotFast = plan.hotBytes[0] ?? 0;
    // a shift: hot memory elsewhere doubled, or (when the fast tier cannot hold the hot set, so
    // that it stays about as large elsewhere) the hot memory in the fast tier halved
    const shifting = (hotElsewhere > small && hotElsewhere > 2 * this.lastHotElsewhere) || (this.lastHotFast > small && hotFast < this.lastHotFast / 2);
    this.lastHotElsewhere = hotElsewhere;
    this.lastHotFast = hotFast;
    // a fill threshold on its way down is work waiting: the next step promotes into the room
    const lowering = this.fillAdapt?.lowering === true;
    const settled = tracked > 0 && !shifting && !lowering && moved <= small && plan.promoteBytes + plan.demoteBytes <= small;
    // the pause still doubles from one interval: a period can look settled before anything is
    // known (new targets whose hot set has not shown yet), and in the VM a first pause as long as
    // settledShare asks for (60 s) held up a first convergence by a minute
    const cap = Math.max(max, this.settledSharePause(this.takeCycleCpu()));
    const next = settled && max > 0 ? Math.min(cap, Math.max(this.intervalMs, 2 * this.settledPause)) : 0;
    if (next !== this.settledPause) this.log.debug({ from: this.settledPause, to: next }, 'settled pause');
    this.settledPause = next;
  }

  /**
   * The pause that makes the last cycle's CPU (the pause before this period, and the period)
   * scan.settledShare of the next cycle (this period and the pause to come), at most
   * SETTLED_SHARE_PAUSE_MAX. The walks of a settled period cost what the memory tracked costs to
   * walk, moves or not: natively tens of milliseconds a GiB, so settledPauseMax bounds the pause
   * there, but under emulation (the VM's TCG) or on terabytes seconds a period, and pauses of
   * 8 s then spent a fifth of a CPU on a placement that did not change. The cycle's CPU counts
   * what runs during the pause too (timers, metrics renders, other threads): in the VM a settled
   * cycle's "between" stage once cost as much as its walks (prom-client's event-loop timer, now
   * slowed in Metrics).
   */
  private settledSharePause(cycleCpuMs: number): number {
    const share = this.config.scan.settledShare;
    if (share <= 0) return 0;
    const periodMs = this.kernel.now() - this.periodStartMs;
    return Math.min(SETTLED_SHARE_PAUSE_MAX, Math.max(0, cycleCpuMs / share - periodMs));
  }

  /** tierd's CPU (ms) since the last period ended, and a new cycle from now */
  private takeCycleCpu(): number {
    const now = this.kernel.cpuMs();
    const spent = now - this.cycleStartCpuMs;
    this.cycleStartCpuMs = now;
    return spent;
  }

  /**
   * When pages come back too soon, ask for one more cold period before demoting (and a longer
   * interval floor); when ping-pong stays under half its limit for a whole window, give one back.
   * Nothing here ratchets one way: a workload that calms down gets the reactive settings again.
   */
  private watchPingPong(totals: MoveTotals): void {
    const p = this.config.policy;
    this.ppWindow.push({ moved: totals.outcomes[0]!, pp: totals.pingPongs });
    if (this.ppWindow.length > p.pingPongWindow) this.ppWindow.shift();
    const m = this.ppWindow.reduce((s, x) => s + x.moved, 0);
    const pp = this.ppWindow.reduce((s, x) => s + x.pp, 0);
    if (m >= 64 && pp / m > p.pingPongLimit && this.extraColdPeriods < 4) {
      this.setExtraColdPeriods(this.extraColdPeriods + 1, 'ping-pong above its limit: widening the hot/cold gap', pp, m);
      return;
    }
    this.calmPeriods = pp <= (p.pingPongLimit / 2) * Math.max(m, 64) ? this.calmPeriods + 1 : 0;
    if (this.extraColdPeriods > 0 && this.calmPeriods >= p.pingPongWindow) {
      this.setExtraColdPeriods(this.extraColdPeriods - 1, 'ping-pong low for a whole window: narrowing the hot/cold gap again', pp, m);
    }
  }

  private setExtraColdPeriods(n: number, why: string, pp: number, moved: number): void {
    const widen = n > this.extraColdPeriods;
    this.extraColdPeriods = n;
    this.ppWindow.length = 0;
    this.calmPeriods = 0;
    const fields = { pingPongPages: pp, movedPages: moved, coldPeriods: this.config.policy.coldPeriods + n };
    if (widen) this.log.warn(fields, why);
    else this.log.info(fields, why);
    this.opts.metrics?.extraColdPeriods.set(n);
    this.rebuildSpace();
  }

  /** One journal record per live target, binned before the period end resets the counts. */
  private writeJournal(r: PeriodReport, live: Target[], totals: MoveTotals): void {
    const j = this.opts.journal;
    if (!j) return;
    const hit = j.hit?.();
    for (const t of live) {
      const ranges: [number, number][] = [];
      for (let i = 0; i < t.ranges.length; i += 2) ranges.push([t.ranges[i]!, t.ranges[i + 1]!]);
      j.writer.append({
        t: Math.round(this.kernel.now()) / 1000,
        period: r.period,
        pid: t.id.pid,
        comm: t.comm,
        ranges,
        ...binPeriod(t.heat, t.ranges, this.space, this.config.journal.bins),
        promoted: totals.byPid.get(t.id.pid)?.[0] ?? 0,
        demoted: totals.byPid.get(t.id.pid)?.[1] ?? 0,
        ...(hit === undefined ? {} : { hit: Math.round(hit * 1e4) / 1e4 }),
      });
    }
  }

  private logTrackerSource(): void {
    const s = this.tracker.source?.();
    if (s === undefined || s === this.trackerSource) return;
    this.trackerSource = s;
    this.log.info({ tracker: this.tracker.name }, s);
  }

  private applyPending(): void {
    const c = this.pending;
    if (!c) return;
    this.pending = null;
    this.config = c;
    this.lastSelectMs = -Infinity;
    this.mover.setParams(this.moverParams());
    this.tracker.close?.();
    this.tracker = makeTracker(this.kernel, c.scan);
    this.fillAdapt = this.makeFillAdapt();
    this.budget.setShare(c.scan.cpuBudget);
    if (c.scan.interval !== 'auto') this.intervalMs = c.scan.interval;
    this.topo = this.readTopology();
    this.rebuildSpace();
    this.warnUnknownNodes();
    this.log.info('configuration reloaded');
  }

  private rebuildSpace(): void {
    const next = this.makeSpace();
    if (next.N === this.space.N && next.K === this.space.K && next.tiers === this.space.tiers) return;
    for (const t of this.targets.values()) t.heat.remap(next);
    this.space = next;
  }

  private makeSpace(): StateSpace {
    return new StateSpace({ walks: this.config.scan.walks, coldPeriods: this.config.policy.coldPeriods + this.extraColdPeriods, tiers: this.topo.tiers.length });
  }

  private readTopology(): Topology {
    return classify(this.kernel.topology(), nodeMap(this.config), this.config.policy.demoteToLowest);
  }

  private plannerParams(): PlannerParams {
    const p = this.config.policy;
    return { hotThreshold: hotThreshold(this.config), coldThreshold: p.coldThreshold, headroom: p.headroom, minResidency: p.minResidency, periodCap: this.config.migrate.periodCap, demoteToLowest: p.demoteToLowest, exchangeGap: p.exchangeGap + this.extraColdPeriods, fillThreshold: this.fillAdapt?.threshold ?? fillThreshold(this.config, this.tracker.grain), displaceThreshold: displaceThreshold(this.config, this.tracker.grain), freeReserve: p.freeReserve };
  }

  /**
   * The fill threshold adapts when the config leaves it to tierd and the tracker reads each
   * page's own bit (planner/fill-adapt.ts); a configured one, or DAMON's 1, stays put.
   */
  private makeFillAdapt(): FillAdapt | null {
    if (this.config.policy.fillThreshold !== undefined || this.tracker.grain !== 'page') return null;
    const ceiling = fillThreshold(this.config, 'page');
    return new FillAdapt({ ceiling, floor: Math.max(1, this.config.policy.coldThreshold + 1), ...FILL_ADAPT });
  }

  /** The period's outcome moves the fill threshold for the next one; a change is logged. */
  private adaptFill(plan: Plan): void {
    const a = this.fillAdapt;
    if (!a) return;
    const before = a.threshold;
    const after = a.observe({ spareBytes: plan.spareBytes, fastBytes: tierBytes(this.topo, 0), promoteBytes: plan.promoteBytes, short: plan.short, countBytes: plan.countBytes });
    this.opts.metrics?.fillThreshold.set(after);
    if (after !== before) this.log.info({ from: before, to: after, spareBytes: plan.spareBytes, short: plan.short }, after < before ? 'fast tier room sits empty: fill threshold lowered' : 'fast tier short: fill threshold back to its default');
  }

  private moverParams(): MoverParams {
    const m = this.config.migrate;
    const young = m.swYoung === true || (m.swYoung === 'auto' && this.kernel.swYoungSupported());
    return {
      promoteRate: m.promoteRate, demoteRate: m.demoteRate, periodCap: m.periodCap, batchPages: m.batchPages, callTargetMs: m.callTarget,
      flags: MPOL_MF_MOVE | (m.moveAll ? MPOL_MF_MOVE_ALL : 0) | (young ? MPOL_MF_SW_YOUNG : 0),
      headroom: this.config.policy.headroom, pingPongWindow: this.config.policy.pingPongWindow, dryRun: this.opts.dryRun,
    };
  }

  private moverHooks(): ConstructorParameters<typeof Mover>[3] {
    const m = this.opts.metrics;
    // the budget is made in the constructor after the mover: read it when the mover asks
    const mayMove = (): boolean => this.budget.mayMove();
    if (!m) return { mayMove };
    return {
      mayMove,
      onCall: (s) => m.callDuration.observe(s),
      onMoved: (dir, from, to, pages, bytes) => {
        const labels = { direction: m.direction(dir), from_node: String(from), to_node: String(to) };
        m.migratedBytes.inc(labels, bytes);
        m.migratedPages.inc(labels, pages);
      },
      onRateLimited: (dir, s) => m.rateLimited.inc({ direction: m.direction(dir) }, s),
    };
  }

  private report(started: number, plan: Plan, totals: MoveTotals, targets: number, cpu: StageCpuTake): PeriodReport {
    const tierName = (i: number): string => (i < this.topo.tiers.length ? String(i) : 'unknown');
    const byTier = (a: number[]): Record<string, number> => Object.fromEntries(a.map((v, i) => [tierName(i), v]));
    const failures: Record<string, number> = {};
    OUTCOMES.forEach((name, i) => {
      if (name !== 'moved' && name !== 'already' && totals.outcomes[i]! > 0) failures[name] = totals.outcomes[i]!;
    });
    const r: PeriodReport = {
      period: this.period, startedMs: started, durationMs: this.kernel.now() - started, walks: this.space.N, intervalMs: this.intervalMs, targets,
      hotBytes: byTier(plan.hotBytes), coldBytes: byTier(plan.coldBytes), trackedBytes: byTier(plan.trackedBytes), hotSetBytes: plan.hotSetBytes,
      plannedPromoteBytes: plan.promoteBytes, plannedDemoteBytes: plan.demoteBytes, promotedBytes: totals.promotedBytes, demotedBytes: totals.demotedBytes,
      failures, pingPongPages: totals.pingPongs, movedPages: totals.outcomes[0]!, notes: plan.notes,
    };
    const m = this.opts.metrics;
    if (m) {
      m.periods.inc();
      m.periodDuration.observe(r.durationMs / 1000);
      m.interval.set(this.intervalMs / 1000);
      for (const [k, v] of Object.entries(r.hotBytes)) m.hotBytes.set({ tier: k }, v);
      for (const [k, v] of Object.entries(r.coldBytes)) m.coldBytes.set({ tier: k }, v);
      for (const [k, v] of Object.entries(r.trackedBytes)) m.trackedBytes.set({ tier: k }, v);
      for (const [k, v] of Object.entries(failures)) m.failures.inc({ reason: k }, v);
      m.pingPong.inc(totals.pingPongs);
      for (const n of this.kernel.topology().nodes) m.nodeFree.set({ node: String(n.id), tier: String(this.topo.nodes.find((x) => x.id === n.id)?.tier ?? 'offline') }, n.memFreeBytes);
    }
    // cpuMs: tierd's CPU per stage, sysMs its system part; "between" is the previous period's
    // journal, end and pause
    this.log.info({ ...r, notes: undefined, cpuMs: cpu.cpuMs, sysMs: cpu.sysMs }, 'period');
    for (const note of plan.notes) this.log.info({ period: r.period }, note);
    return r;
  }
}
