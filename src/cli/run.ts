import type { Argv } from 'yargs';
import { Daemon, type PeriodReport } from '../daemon/daemon.js';
import { DamosLoop } from '../daemon/damos-loop.js';
import { MoveLog } from '../mover/dry-run.js';
import { Metrics } from '../metrics/metrics.js';
import { serveMetrics, type MetricsServer } from '../metrics/server.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { SimKernel } from '../kernel/sim/sim-kernel.js';
import { summarize } from '../daemon/simulate.js';
import { TierdError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { Kernel } from '../kernel/types.js';
import { formatBytes } from '../util/units.js';
import { checkExplicitPids, makeKernel, makeLogger, resolveConfig, withFlags } from './common.js';
import { periodLine } from './period-line.js';
import { drawHint, openJournal } from './report.js';

function runOptions(a: Argv) {
  return a
    .option('config', { type: 'string', describe: 'config file (default /etc/tierd/tierd.yaml)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the planned migrations instead of moving' })
    .option('sim', { type: 'string', describe: 'run on a simulated host from this scenario' })
    .option('pace', { type: 'number', describe: 'with --sim: simulated seconds per wall second (default: as fast as possible)' })
    .option('periods', { type: 'number', describe: 'stop after this many periods' })
    .option('metrics-listen', { type: 'string', describe: 'HOST:PORT for /metrics and /healthz' })
    .option('journal', { type: 'string', describe: 'keep a journal in this file (journal.path); tierd report draws it' })
    .option('log-format', { choices: ['json', 'pretty', 'auto'] as const })
    .option('log-level', { choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const });
}
type RunArgs = Awaited<ReturnType<typeof runOptions>['argv']>;

export function runCommand(y: Argv): Argv {
  return y.command('run', 'the daemon: walk, plan, migrate, period after period', runOptions, runDaemon);
}

/** The config file with the command line's flags over it, and the flags' own checks. */
function runConfig(argv: RunArgs): { config: Config; file: string | null } {
  const { config: base, file } = resolveConfig(argv, argv.sim === undefined);
  const flags = [
    ...(argv['metrics-listen'] === undefined ? [] : [{ flag: '--metrics-listen', path: ['metrics', 'listen'], value: argv['metrics-listen'] }]),
    ...(argv.journal === undefined ? [] : [{ flag: '--journal', path: ['journal', 'path'], value: argv.journal }]),
  ];
  if (argv.pace !== undefined && !(argv.pace > 0 && Number.isFinite(argv.pace))) throw new TierdError('USAGE', `--pace: ${argv.pace} is not a positive number of simulated seconds per second`, 'e.g. --pace 8');
  if (argv.periods !== undefined && !(Number.isInteger(argv.periods) && argv.periods >= 1)) throw new TierdError('USAGE', `--periods: ${argv.periods} is not a whole number of periods ≥ 1`, 'e.g. --periods 10');
  return { config: flags.length === 0 ? base : withFlags(base, flags), file };
}

/** After each period: the simulated host's line and hit ratios, the dry-run's table. */
function printPeriod(r: PeriodReport, sim: SimKernel | null, moveLog: MoveLog | null, metrics: Metrics): void {
  if (sim) {
    metrics.hitRatio.set({ placement: 'actual' }, sim.instantHitRatio());
    metrics.hitRatio.set({ placement: 'oracle' }, sim.oracleHitRatio());
    process.stdout.write(periodLine(r, sim) + '\n');
  }
  if (moveLog) {
    process.stdout.write(moveLog.lines.length > 0 ? moveLog.table() : `period ${r.period}: nothing to move\n`);
    moveLog.clear();
  }
}

/** SIGTERM and SIGINT stop after the current move_pages call; SIGHUP reloads the config file. */
function handleSignals(daemon: Daemon | DamosLoop, log: Logger, file: string | null, metrics: Metrics, stopping: () => void): void {
  const onStop = (sig: string): void => {
    log.info({ signal: sig }, 'stopping after the current move_pages call');
    daemon.stop();
    stopping();
  };
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGHUP', () => {
    if (file === null) {
      log.warn('SIGHUP: no config file to reload (running on defaults)');
      return;
    }
    try {
      const next = loadConfig(file);
      if (next.migrate.engine !== (daemon instanceof DamosLoop ? 'damos' : 'pages')) {
        throw new TierdError('CONFIG', `migrate.engine: a change to ${next.migrate.engine} needs a restart`, 'systemctl restart tierd');
      }
      daemon.reload(next);
      metrics.reloads.inc({ result: 'success' });
      log.info({ file }, 'config reloaded: applies at the next period boundary');
    } catch (e) {
      metrics.reloads.inc({ result: 'failure' });
      log.error({ file, error: e instanceof TierdError ? e.line() : String(e) }, 'config reload failed; the running config stays');
    }
  });
}

/** migrate.engine damos: the kernel's schemes move; a dry-run prints what they would try */
function damosLoop(kernel: Kernel, config: Config, log: Logger, argv: RunArgs, metrics: Metrics, periodDone: () => void): DamosLoop {
  const dry = argv['dry-run'];
  return new DamosLoop(kernel, config, log, {
    dryRun: dry,
    metrics,
    ...(argv.periods !== undefined ? { maxPeriods: argv.periods } : {}),
    onPeriod: (r) => {
      periodDone();
      if (dry) process.stdout.write(`period ${r.period}: DAMOS would promote up to ${formatBytes(r.plannedPromoteBytes)} and demote up to ${formatBytes(r.plannedDemoteBytes)} (regions that match the patterns, before the page filters)\n`);
    },
  });
}

async function runDaemon(argv: RunArgs): Promise<void> {
  const { config, file } = runConfig(argv);
  if (config.migrate.engine === 'damos' && config.journal.path !== undefined) {
    throw new TierdError('CONFIG', 'journal.path: migrate.engine damos keeps no journal (tierd never sees its pages, the kernel does)', 'remove journal.path (and --journal), or use migrate.engine pages');
  }
  const log = makeLogger(argv, config);
  const kernel = makeKernel(argv, argv.pace);
  checkExplicitPids(kernel, config.targets.pids, 'config');
  const metrics = new Metrics();
  const moveLog = argv['dry-run'] ? new MoveLog() : null;
  const sim = kernel instanceof SimKernel ? kernel : null;
  const journal = openJournal(config);
  let server: MetricsServer | null = null;
  const daemon = config.migrate.engine === 'damos' ? damosLoop(kernel, config, log, argv, metrics, () => server?.periodDone()) : new Daemon(kernel, config, log, {
    dryRun: argv['dry-run'],
    journal: journal ? { writer: journal, ...(sim ? { hit: () => sim.instantHitRatio() } : {}) } : null,
    moveLog,
    metrics,
    ...(argv.periods !== undefined ? { maxPeriods: argv.periods } : {}),
    ...(sim ? { untilMs: sim.scenario.duration, everyProcessByDefault: true } : {}),
    onPeriod: (r) => {
      server?.periodDone();
      printPeriod(r, sim, moveLog, metrics);
    },
  });
  if (config.metrics.enabled) {
    server = await serveMetrics(metrics, config.metrics.listen, log);
    log.info({ listen: config.metrics.listen, port: server.port }, 'metrics on /metrics and /healthz');
  }
  handleSignals(daemon, log, file, metrics, () => server?.stopping());
  try {
    await daemon.run();
  } finally {
    await server?.close();
    journal?.close();
  }
  if (journal) process.stderr.write(`${drawHint(journal.path)}\n`);
  if (sim && daemon instanceof Daemon) {
    const s = summarize(sim, daemon, []);
    process.stdout.write(`done: ${s.simulatedSeconds.toFixed(0)} s simulated; DRAM hit ratio ${s.dramHitRatio.toFixed(3)} (oracle ${s.oracleHitRatio.toFixed(3)}); promote peak ${formatBytes(s.maxPromoteBytesPerSec)}/s\n`);
  }
  log.info('stopped');
}
