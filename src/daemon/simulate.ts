import type { Config } from '../config/schema.js';
import type { JournalWriter } from '../journal/journal.js';
import { SimKernel, type SimOptions } from '../kernel/sim/sim-kernel.js';
import type { Scenario } from '../kernel/sim/scenario.js';
import type { MoveLog } from '../mover/dry-run.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/log.js';
import { Daemon, type PeriodReport } from './daemon.js';
import type { Plan } from '../planner/plan.js';

export interface SimSummary {
  periods: number;
  simulatedSeconds: number;
  dramHitRatio: number;
  oracleHitRatio: number;
  efficiency: number;
  promotedBytes: number;
  demotedBytes: number;
  pingPongPages: number;
  movedPages: number;
  maxPromoteBytesPerSec: number;
  maxDemoteBytesPerSec: number;
  failedPages: number;
  /** access-weighted efficiency over the whole run (hit ratio ÷ the oracle's) */
  timeAveragedEfficiency: number;
  /**
   * per phase change of the scenario (its time in s): seconds until a period ended with the
   * instant hit ratio at ≥ 0.9 of the oracle's, null if none did before the next change
   */
  recoveries: { atSec: number; seconds: number | null }[];
}

export interface SimRun {
  kernel: SimKernel;
  daemon: Daemon;
  reports: PeriodReport[];
  summary: SimSummary;
}

export interface SimRunOptions {
  dryRun?: boolean;
  moveLog?: MoveLog | null;
  metrics?: Metrics | null;
  sim?: SimOptions;
  /** called after each period, with the kernel, before the next one starts */
  onPeriod?: (r: PeriodReport, k: SimKernel, d: Daemon, plan: Plan) => void;
  maxPeriods?: number;
  /** use this kernel instead of a new one */
  kernel?: SimKernel;
  beforeMove?: (k: SimKernel, plan: Plan) => void;
  /** the daemon is stopped (SIGTERM) from outside when this resolves */
  stop?: Promise<void>;
  /** keep a journal here, with the simulated host's hit ratio in each record */
  journal?: JournalWriter | null;
}

/** Run the daemon on the simulated host for the scenario's duration, in virtual time. */
export async function simulate(scenario: Scenario, config: Config, log: Logger, opts: SimRunOptions = {}): Promise<SimRun> {
  const kernel = opts.kernel ?? new SimKernel(scenario, opts.sim);
  const reports: PeriodReport[] = [];
  const marks: EfficiencyMark[] = [];
  let daemon: Daemon | null = null;
  const d = new Daemon(kernel, config, log, {
    dryRun: opts.dryRun ?? false,
    moveLog: opts.moveLog ?? null,
    metrics: opts.metrics ?? null,
    untilMs: scenario.duration,
    everyProcessByDefault: true,
    journal: opts.journal ? { writer: opts.journal, hit: () => kernel.instantHitRatio() } : null,
    ...(opts.maxPeriods !== undefined ? { maxPeriods: opts.maxPeriods } : {}),
    beforeMove: (plan) => opts.beforeMove?.(kernel, plan),
    onPeriod: (r, plan) => {
      reports.push(r);
      const actual = kernel.instantHitRatio();
      const oracle = kernel.oracleHitRatio();
      marks.push({ t: kernel.now() / 1000, efficiency: oracle > 0 ? actual / oracle : 1 });
      opts.metrics?.hitRatio.set({ placement: 'actual' }, actual);
      opts.metrics?.hitRatio.set({ placement: 'oracle' }, oracle);
      opts.onPeriod?.(r, kernel, daemon!, plan);
    },
  });
  daemon = d;
  void opts.stop?.then(() => d.stop());
  await d.run();
  return { kernel, daemon: d, reports, summary: summarize(kernel, d, reports, marks) };
}

/** Instant efficiency at the end of a period. */
export interface EfficiencyMark {
  t: number;
  efficiency: number;
}

/** Seconds from each phase change to the first period end at ≥ 0.9 of the oracle. */
export function recoveries(scenario: Scenario, marks: readonly EfficiencyMark[]): SimSummary['recoveries'] {
  const changes = [...new Set([0, ...scenario.processes.flatMap((p) => p.phases.map((ph) => ph.at / 1000))])].sort((a, b) => a - b);
  return changes.map((at, i) => {
    const next = changes[i + 1] ?? Infinity;
    const m = marks.find((x) => x.t > at && x.t <= next && x.efficiency >= 0.9);
    return { atSec: at, seconds: m ? m.t - at : null };
  });
}

export function summarize(kernel: SimKernel, d: Daemon, reports: PeriodReport[], marks: readonly EfficiencyMark[] = []): SimSummary {
  const end = kernel.now() / 1000;
  const h = kernel.hitRatio(end * 0.9, end);
  const whole = kernel.hitRatio(0, end);
  const sum = (f: (r: PeriodReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  return {
    periods: reports.length,
    simulatedSeconds: end,
    dramHitRatio: h.actual,
    oracleHitRatio: h.oracle,
    efficiency: h.oracle > 0 ? h.actual / h.oracle : 1,
    promotedBytes: sum((r) => r.promotedBytes),
    demotedBytes: sum((r) => r.demotedBytes),
    pingPongPages: sum((r) => r.pingPongPages),
    movedPages: sum((r) => r.movedPages),
    maxPromoteBytesPerSec: d.moverPeaks[0].peak,
    maxDemoteBytesPerSec: d.moverPeaks[1].peak,
    failedPages: sum((r) => Object.values(r.failures).reduce((s, v) => s + v, 0)),
    timeAveragedEfficiency: whole.oracle > 0 ? whole.actual / whole.oracle : 1,
    recoveries: recoveries(kernel.scenario, marks),
  };
}
