import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../../package.json') as { version: string }).version;

const DIRS = ['promote', 'demote'] as const;

/** Every metric tierd exports; labels are bounded (direction, node, tier, reason), never pid or address. */
export class Metrics {
  readonly registry = new Registry();
  readonly walkDuration = new Histogram({ name: 'tierd_walk_duration_seconds', help: 'Time to walk the access bits of all targets once', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers: [this.registry] });
  readonly walks = new Counter({ name: 'tierd_walks_total', help: 'Walks over all targets', registers: [this.registry] });
  readonly scannedBytes = new Counter({ name: 'tierd_scanned_bytes_total', help: 'Bytes of memory whose access bits were read', registers: [this.registry] });
  readonly skimmedBytes = new Counter({ name: 'tierd_skimmed_bytes_total', help: 'Of the scanned bytes, those reported idle by a clear PMD accessed bit without reading their PTEs (SCAN_SKIM_IDLE)', registers: [this.registry] });
  readonly periodDuration = new Histogram({ name: 'tierd_period_duration_seconds', help: 'Duration of a period: walks, plan and migration', buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120], registers: [this.registry] });
  readonly periods = new Counter({ name: 'tierd_periods_total', help: 'Completed periods', registers: [this.registry] });
  readonly interval = new Gauge({ name: 'tierd_scan_interval_seconds', help: 'Time between walks', registers: [this.registry] });
  readonly hotBytes = new Gauge({ name: 'tierd_hot_bytes', help: 'Bytes of hot pages by tier', labelNames: ['tier'], registers: [this.registry] });
  readonly coldBytes = new Gauge({ name: 'tierd_cold_bytes', help: 'Bytes of confirmed-cold pages by tier', labelNames: ['tier'], registers: [this.registry] });
  readonly trackedBytes = new Gauge({ name: 'tierd_tracked_bytes', help: 'Bytes of tracked pages by tier', labelNames: ['tier'], registers: [this.registry] });
  readonly migratedBytes = new Counter({ name: 'tierd_migrated_bytes_total', help: 'Bytes migrated', labelNames: ['direction', 'from_node', 'to_node'], registers: [this.registry] });
  readonly migratedPages = new Counter({ name: 'tierd_migrated_pages_total', help: 'Pages migrated', labelNames: ['direction', 'from_node', 'to_node'], registers: [this.registry] });
  readonly failures = new Counter({ name: 'tierd_migration_failures_total', help: 'Pages not migrated, by reason', labelNames: ['reason'], registers: [this.registry] });
  readonly callDuration = new Histogram({ name: 'tierd_move_pages_call_duration_seconds', help: 'Duration of one move_pages call', buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5], registers: [this.registry] });
  readonly budgetPause = new Counter({ name: 'tierd_cpu_budget_pause_seconds_total', help: 'Time paused between periods beyond the configured and settled pauses to keep within scan.cpuBudget', registers: [this.registry] });
  readonly settledPause = new Counter({ name: 'tierd_settled_pause_seconds_total', help: 'Time paused between periods because placement was settled (scan.settledPauseMax, scan.settledShare)', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'tierd_rate_limited_seconds_total', help: 'Time migration waited on the rate limits', labelNames: ['direction'], registers: [this.registry] });
  readonly pingPong = new Counter({ name: 'tierd_ping_pong_pages_total', help: 'Pages moved back within the ping-pong window', registers: [this.registry] });
  readonly fillThreshold = new Gauge({ name: 'tierd_fill_threshold', help: 'Walks in which a page must be seen to fill free fast-tier room (adapts unless policy.fillThreshold is set)', registers: [this.registry] });
  readonly extraColdPeriods = new Gauge({ name: 'tierd_hysteresis_extra_cold_periods', help: 'Cold periods added because ping-pong exceeded its limit', registers: [this.registry] });
  readonly damosTried = new Counter({ name: 'tierd_damos_tried_bytes_total', help: 'migrate.engine damos: bytes of regions the schemes tried (before the page filters; in a dry-run, what they would move at most)', labelNames: ['direction'], registers: [this.registry] });
  readonly damosQuota = new Gauge({ name: 'tierd_damos_quota_bytes', help: 'migrate.engine damos: bytes the schemes may move per tune interval, summed per direction (0: stopped)', labelNames: ['direction'], registers: [this.registry] });
  readonly nodeFree = new Gauge({ name: 'tierd_node_free_bytes', help: 'Free memory per node', labelNames: ['node', 'tier'], registers: [this.registry] });
  readonly targets = new Gauge({ name: 'tierd_targets', help: 'Processes managed', registers: [this.registry] });
  readonly reloads = new Counter({ name: 'tierd_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers: [this.registry] });
  readonly buildInfo = new Gauge({ name: 'tierd_build_info', help: 'tierd version', labelNames: ['version'], registers: [this.registry] });
  readonly hitRatio = new Gauge({ name: 'tierd_sim_fast_tier_hit_ratio', help: 'Simulated host only: fraction of accesses served by the fast tier', labelNames: ['placement'], registers: [this.registry] });

  constructor() {
    // the event-loop delay histogram samples with a timer: every 10 ms by default, which woke an
    // idle daemon 100 times a second (natively 0.3% of a CPU; under the VM's emulation several
    // %, more than a settled placement's walks). Every 100 ms still sees a blocked loop
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.buildInfo.set({ version: VERSION }, 1);
    for (const d of DIRS) this.rateLimited.inc({ direction: d }, 0);
    for (const r of ['busy', 'shared', 'gone', 'failed', 'no_room', 'not_attempted', 'pid_reused']) this.failures.inc({ reason: r }, 0);
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
  }

  direction(dir: number): string {
    return DIRS[dir] ?? 'promote';
  }
}
