import type { Damos, DamosContext, DamosStats, Kernel, ProcessInfo } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import { nodeMap } from '../config/load.js';
import { classify, type Topology } from '../topology/topology.js';
import { selectTargets } from '../targets/select.js';
import { chooseMemcgs } from '../targets/memcgs.js';
import { damosContexts, damosQuotas } from '../planner/damos-quotas.js';
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
    const quotas = this.quotas();
    this.startOrTune(quotas);
    await this.kernel.sleep(this.config.migrate.damos.tune, this.abort.signal);
    this.period++;
    this.report(started, quotas);
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
    if (this.contexts.length === 0) {
      this.log.info({ memcgs }, memcgs.length === 0 ? 'damos engine: no target in a cgroup of its own yet; kdamonds stopped' : 'damos engine: one tier only, nothing to move');
      return;
    }
    this.damos.start(this.contexts, { sampleUs: d.sample * 1000, aggrUs: d.aggregation * 1000, minRegions: d.minRegions, maxRegions: d.maxRegions, resetMs: d.tune }, this.quotas());
    this.log.info({ memcgs, kdamonds: this.contexts.map((c) => c.node) }, 'damos engine: kdamonds started, one per node, schemes per memcg');
  }

  private quotas(): number[][] {
    const c = this.config;
    return damosQuotas(this.topo, this.contexts, { promoteRate: c.migrate.promoteRate, demoteRate: c.migrate.demoteRate, freeReserve: c.policy.freeReserve, headroom: c.policy.headroom, intervalMs: c.migrate.damos.tune });
  }

  private startOrTune(quotas: number[][]): void {
    if (!this.damos.running || this.contexts.length === 0) return;
    this.damos.tune(quotas);
  }

  /** what the schemes did since the last read: metrics, the period line, the onPeriod hook */
  private report(started: number, quotas: number[][]): void {
    const now = this.damos.running ? this.damos.stats() : [];
    const moved = { promote: 0, demote: 0 };
    const tried = { promote: 0, demote: 0 };
    const m = this.opts.metrics;
    this.contexts.forEach((c, k) => {
      c.schemes.forEach((s, i) => {
        const cur = now[k]?.[i];
        if (cur === undefined) return;
        const prev = this.last[k]?.[i] ?? { triedBytes: 0, appliedBytes: 0, quotaExceeds: 0 };
        const applied = Math.max(0, cur.appliedBytes - prev.appliedBytes);
        const tr = Math.max(0, cur.triedBytes - prev.triedBytes);
        moved[s.direction] += applied;
        tried[s.direction] += tr;
        m?.damosTried.inc({ direction: s.direction }, tr);
        if (applied > 0 && s.action !== 'stat') {
          m?.migratedBytes.inc({ direction: s.direction, from_node: String(c.node), to_node: String(s.targetNid) }, applied);
          m?.migratedPages.inc({ direction: s.direction, from_node: String(c.node), to_node: String(s.targetNid) }, applied / 4096);
        }
      });
    });
    this.last = now;
    const quota = { promote: 0, demote: 0 };
    this.contexts.forEach((c, k) => c.schemes.forEach((s, i) => (quota[s.direction] += quotas[k]?.[i] ?? 0)));
    m?.damosQuota.set({ direction: 'promote' }, quota.promote);
    m?.damosQuota.set({ direction: 'demote' }, quota.demote);
    m?.periods.inc();
    for (const n of this.topo.nodes) m?.nodeFree.set({ node: String(n.id), tier: String(n.tier) }, n.memFreeBytes);
    const r = this.periodReport(started, moved, tried, quota);
    this.log.info({ ...r, notes: undefined, triedPromoteBytes: tried.promote, triedDemoteBytes: tried.demote }, 'period');
    this.opts.onPeriod?.(r);
  }

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
