import type { Damos, DamosContext, DamosStats, Kernel, ProcessInfo } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import { nodeMap } from '../config/load.js';
import { classify, type Topology } from '../topology/topology.js';
import { selectTargets } from '../targets/select.js';
import { chooseMemcgs } from '../targets/memcgs.js';
import { damosContexts, damosQuotas, gainedQuotas, nextGains, type DamosQuotaParams } from '../planner/damos-quotas.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/log.js';
import { TierdError } from '../util/errors.js';
import type { PeriodReport } from './daemon.js';
import { placeOwnMemory } from './self-memory.js';

export interface DamosLoopOptions {
  dryRun: boolean;
  metrics?: Metrics | null;
  maxPeriods?: number;
  onPeriod?: (r: PeriodReport) => void;
}

/**
 * migrate.engine damos: the kernel's DAMON finds and moves the pages, tierd governs. Each tune
 * interval is one period of named stages: select the targets and their memcgs (at the rescan
 * interval), start or restart the kdamonds when those change, read what the schemes did, and
 * set the next interval's quotas from the rates and each node's free room.
 */
export class DamosLoop {
  private config: Config;
  private pending: Config | null = null;
  private topo: Topology;
  private contexts: DamosContext[] = [];
  private memcgs: string[] = [];
  private targets: ProcessInfo[] = [];
  /** the last counters read, to report per-period differences */
  private last: (DamosStats[] | null)[] = [];
  /** per scheme, how far its quota exceeds what it should move (planner/damos-quotas nextGains) */
  private gains: number[][] = [];
  private lastSelectMs = -Infinity;
  private readonly refusedLogged = new Set<string>();
  private stopping = false;
  private readonly abort = new AbortController();
  period = 0;

  constructor(
    private readonly kernel: Kernel,
    config: Config,
    private readonly log: Logger,
    private readonly opts: DamosLoopOptions,
  ) {
    this.config = config;
    this.topo = classify(kernel.topology(), nodeMap(config), config.policy.demoteToLowest);
    // refuse before anything starts (the metrics server, a log line): one line, exit 4
    const why = this.damos.unavailable();
    if (why !== null) throw new TierdError('NO_FEATURE', `migrate.engine damos: ${why}`, 'stop the other DAMON user, or use migrate.engine pages');
  }

  private get damos(): Damos {
    const d = this.kernel.damos();
    if (d === null) throw new TierdError('NO_FEATURE', 'migrate.engine damos: this host has no DAMON sysfs', 'use a kernel with CONFIG_DAMON_SYSFS and CONFIG_DAMON_PADDR (6.11 or later), or migrate.engine pages');
    return d;
  }

  stop(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /** A new config applies at the next period; a change of intervals restarts the kdamonds. */
  reload(c: Config): void {
    this.pending = c;
  }

  async run(): Promise<void> {
    // the kdamonds are kernel threads; tierd's own Node.js heap (~40 MiB) still belongs off node 0
    placeOwnMemory(this.kernel, this.topo, this.config, this.opts.dryRun, this.log);
    this.log.info({ dryRun: this.opts.dryRun }, this.opts.dryRun ? 'damos engine, dry-run: stat schemes count what migrate_hot/migrate_cold would try, nothing moves' : 'damos engine: DAMON paddr schemes move pages; tierd sets their quotas');
    try {
      while (!this.stopping) {
        if (this.opts.maxPeriods !== undefined && this.period >= this.opts.maxPeriods) break;
        await this.runPeriod();
      }
    } finally {
      this.damos.stop();
    }
  }

  private async runPeriod(): Promise<void> {
    const started = this.kernel.now();
    this.applyPending();
    this.selectIfDue(started);
    this.topo = classify(this.kernel.topology(), nodeMap(this.config), this.config.policy.demoteToLowest);
    const wanted = this.wanted();
    const quotas = gainedQuotas(this.contexts, wanted, this.gains, this.quotaParams());
    this.tune(quotas);
    await this.kernel.sleep(this.config.migrate.damos.tune, this.abort.signal);
    this.period++;
    const done = this.readStats();
    // a dry-run's stat schemes move nothing by design: no gain would ever make them
    if (!this.opts.dryRun) this.gains = nextGains(this.gains, wanted, quotas, done.tried, done.applied);
    this.report(started, wanted, quotas, done);
  }

  private applyPending(): void {
    if (this.pending === null) return;
    const restart = JSON.stringify(this.pending.migrate.damos) !== JSON.stringify(this.config.migrate.damos);
    this.config = this.pending;
    this.pending = null;
    this.lastSelectMs = -Infinity;
    if (restart) this.memcgs = []; // intervals live in the kdamonds: start them again
  }

  /** targets and their memcgs, every targets.rescan (every period while there are none) */
  private selectIfDue(now: number): void {
    if (this.targets.length > 0 && now - this.lastSelectMs < this.config.targets.rescan) return;
    this.lastSelectMs = now;
    this.targets = selectTargets(this.kernel, this.config.targets);
    const selected = new Set(selectTargets(this.kernel, { ...this.config.targets, minRss: 0 }).map((p) => p.pid));
    const choice = chooseMemcgs(this.targets, this.kernel.processes(), selected, (p) => this.damos.memcgUnavailable(p));
    for (const r of choice.refused) {
      const key = `${r.pid}:${r.why}`;
      if (this.refusedLogged.has(key)) continue;
      this.refusedLogged.add(key);
      this.log.warn({ pid: r.pid, comm: r.comm }, `damos engine leaves pid ${r.pid} (${r.comm}) alone: ${r.why}`);
    }
    this.opts.metrics?.targets.set(this.targets.length - choice.refused.length);
    if (choice.memcgs.join('\n') !== this.memcgs.join('\n')) this.restart(choice.memcgs);
  }

  private restart(memcgs: string[]): void {
    const d = this.config.migrate.damos;
    this.damos.stop();
    this.memcgs = memcgs;
    this.contexts = memcgs.length === 0 ? [] : damosContexts(this.topo, memcgs, this.opts.dryRun);
    this.last = [];
    this.gains = this.contexts.map((c) => c.schemes.map(() => 1));
    if (this.contexts.length === 0) {
      this.log.info({ memcgs }, memcgs.length === 0 ? 'damos engine: no target in a cgroup of its own yet; kdamonds stopped' : 'damos engine: one tier only, nothing to move');
      return;
    }
    const iv = { sampleUs: d.sample * 1000, aggrUs: d.aggregation * 1000, minRegions: d.minRegions, maxRegions: d.maxRegions, resetMs: d.tune };
    this.damos.start(this.contexts, iv, gainedQuotas(this.contexts, this.wanted(), this.gains, this.quotaParams()));
    this.log.info({ memcgs, kdamonds: this.contexts.map((c) => c.node) }, 'damos engine: kdamonds started, one per node, schemes per memcg');
  }

  private quotaParams(): DamosQuotaParams {
    const c = this.config;
    return { promoteRate: c.migrate.promoteRate, demoteRate: c.migrate.demoteRate, swapRate: c.migrate.damos.swapRate, freeReserve: c.policy.freeReserve, headroom: c.policy.headroom, intervalMs: c.migrate.damos.tune };
  }

  /** what each scheme should move next (the policy), before the gains */
  private wanted(): number[][] {
    return damosQuotas(this.topo, this.contexts, this.quotaParams());
  }

  private tune(quotas: number[][]): void {
    if (!this.damos.running || this.contexts.length === 0) return;
    this.damos.tune(quotas);
  }

  /** per scheme, bytes tried and applied since the last read */
  private readStats(): { tried: number[][]; applied: number[][] } {
    const now = this.damos.running ? this.damos.stats() : [];
    const zero = { triedBytes: 0, appliedBytes: 0, quotaExceeds: 0 };
    const delta = (f: (s: DamosStats) => number): number[][] =>
      this.contexts.map((c, k) => c.schemes.map((_, i) => {
        const cur = now[k]?.[i];
        return cur ? Math.max(0, f(cur) - f(this.last[k]?.[i] ?? zero)) : 0;
      }));
    const out = { tried: delta((s) => s.triedBytes), applied: delta((s) => s.appliedBytes) };
    this.last = now;
    return out;
  }

  /** what the schemes did since the last read: metrics, the period line, the onPeriod hook */
  private report(started: number, wanted: number[][], quotas: number[][], done: { tried: number[][]; applied: number[][] }): void {
    const m = this.opts.metrics;
    const sum = (x: number[][]): Record<'promote' | 'demote', number> => {
      const out = { promote: 0, demote: 0 };
      this.contexts.forEach((c, k) => c.schemes.forEach((s, i) => (out[s.direction] += x[k]?.[i] ?? 0)));
      return out;
    };
    this.contexts.forEach((c, k) => c.schemes.forEach((s, i) => {
      const applied = done.applied[k]?.[i] ?? 0;
      m?.damosTried.inc({ direction: s.direction }, done.tried[k]?.[i] ?? 0);
      if (applied === 0 || s.action === 'stat') return;
      const labels = { direction: s.direction, from_node: String(c.node), to_node: String(s.targetNid) };
      m?.migratedBytes.inc(labels, applied);
      m?.migratedPages.inc(labels, applied / 4096);
    }));
    const quota = sum(quotas);
    m?.damosQuota.set({ direction: 'promote' }, quota.promote);
    m?.damosQuota.set({ direction: 'demote' }, quota.demote);
    m?.periods.inc();
    for (const n of this.topo.nodes) m?.nodeFree.set({ node: String(n.id), tier: String(n.tier) }, n.memFreeBytes);
    const tried = sum(done.tried);
    const r = this.periodReport(started, sum(done.applied), tried, this.opts.dryRun ? quota : sum(wanted));
    this.log.info({ ...r, notes: undefined, triedPromoteBytes: tried.promote, triedDemoteBytes: tried.demote, quotaPromoteBytes: quota.promote, quotaDemoteBytes: quota.demote }, 'period');
    this.opts.onPeriod?.(r);
  }

  /** planned: what tierd asked the schemes to move (in a dry-run, the most the stat schemes tried) */
  private periodReport(started: number, moved: Record<'promote' | 'demote', number>, tried: Record<'promote' | 'demote', number>, quota: Record<'promote' | 'demote', number>): PeriodReport {
    const dry = this.opts.dryRun;
    return {
      period: this.period,
      startedMs: started,
      durationMs: this.kernel.now() - started,
      walks: 0,
      intervalMs: this.config.migrate.damos.tune,
      targets: this.targets.length,
      hotBytes: {},
      coldBytes: {},
      trackedBytes: {},
      hotSetBytes: 0,
      // a dry-run's stat schemes apply nothing: what they tried is what would have moved at most
      plannedPromoteBytes: dry ? Math.min(tried.promote, quota.promote) : quota.promote,
      plannedDemoteBytes: dry ? Math.min(tried.demote, quota.demote) : quota.demote,
      promotedBytes: dry ? 0 : moved.promote,
      demotedBytes: dry ? 0 : moved.demote,
      failures: {},
      pingPongPages: 0,
      movedPages: dry ? 0 : (moved.promote + moved.demote) / 4096,
      notes: [],
    };
  }
}
