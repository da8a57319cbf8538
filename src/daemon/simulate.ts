import type { Config } from '../config/schema.js';
import { SimKernel, type SimOptions } from '../kernel/sim/sim-kernel.js';
import type { Scenario } from '../kernel/sim/scenario.js';
import { maxOverWindows } from '../mover/rate-window.js';
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
}

/** Run the daemon on the simulated host for the scenario's duration, in virtual time. */
export async function simulate(scenario: Scenario, config: Config, log: Logger, opts: SimRunOptions = {}): Promise<SimRun> {
  const kernel = opts.kernel ?? new SimKernel(scenario, opts.sim);
  const reports: PeriodReport[] = [];
  let daemon: Daemon | null = null;
  const d = new Daemon(kernel, config, log, {
    dryRun: opts.dryRun ?? false,
    moveLog: opts.moveLog ?? null,
    metrics: opts.metrics ?? null,
    untilMs: scenario.duration,
    ...(opts.maxPeriods !== undefined ? { maxPeriods: opts.maxPeriods } : {}),
    beforeMove: (plan) => opts.beforeMove?.(kernel, plan),
    onPeriod: (r, plan) => {
      reports.push(r);
      opts.metrics?.hitRatio.set({ placement: 'actual' }, kernel.instantHitRatio());
      opts.metrics?.hitRatio.set({ placement: 'oracle' }, kernel.oracleHitRatio());
      opts.onPeriod?.(r, kernel, daemon!, plan);
    },
  });
  daemon = d;
  void opts.stop?.then(() => d.stop());
  await d.run();
  return { kernel, daemon: d, reports, summary: summarize(kernel, d, reports) };
}

export function summarize(kernel: SimKernel, d: Daemon, reports: PeriodReport[]): SimSummary {
  const end = kernel.now() / 1000;
  const h = kernel.hitRatio(end * 0.9, end);
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
    maxPromoteBytesPerSec: maxOverWindows(d.moverLog[0]),
    maxDemoteBytesPerSec: maxOverWindows(d.moverLog[1]),
    failedPages: sum((r) => Object.values(r.failures).reduce((s, v) => s + v, 0)),
  };
}
