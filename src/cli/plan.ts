import type { Argv } from 'yargs';
import { Daemon } from '../daemon/daemon.js';
import { MoveLog } from '../mover/dry-run.js';
import { makeKernel, makeLogger, resolveConfig } from './common.js';
import { TierdError } from '../util/errors.js';

export function planCommand(y: Argv): Argv {
  return y.command(
    'plan',
    'run one period on the live system (or --sim) and print the plan; moves nothing',
    (a) =>
      a
        .option('pid', { type: 'number', array: true, describe: 'target process (repeatable)' })
        .option('walks', { type: 'number', describe: 'walks in the period' })
        .option('interval', { type: 'string', describe: 'time between walks, e.g. 1s' })
        .option('json', { type: 'boolean', default: false })
        .option('config', { type: 'string' })
        .option('sim', { type: 'string', describe: 'plan on a simulated host from this scenario' }),
    async (argv) => {
      const { config } = resolveConfig(argv, false);
      const pids = argv.pid ?? [];
      if (pids.length === 0 && argv.sim === undefined && config.targets.pids.length === 0 && config.targets.comm === undefined && config.targets.cgroup === undefined) {
        throw new TierdError('USAGE', 'no target', 'name one with --pid PID');
      }
      if (pids.length > 0) config.targets = { ...config.targets, pids, comm: undefined, cgroup: undefined };
      if (argv.walks !== undefined) config.scan.walks = argv.walks;
      if (argv.interval !== undefined) {
        const { parseDuration } = await import('../util/units.js');
        const ms = parseDuration(argv.interval);
        if (ms === undefined) throw new TierdError('USAGE', `--interval: "${argv.interval}" is not a duration`, 'use e.g. 500ms or 1s');
        config.scan.interval = ms;
      }
      const kernel = makeKernel(argv);
      const log = makeLogger({ ...argv, 'log-level': argv['log-level'] as string | undefined ?? 'warn' }, config);
      const moveLog = new MoveLog();
      const d = new Daemon(kernel, config, log, { dryRun: true, moveLog, maxPeriods: 1 });
      await d.run();
      process.stdout.write(argv.json ? moveLog.json().map((l) => l + '\n').join('') : moveLog.lines.length > 0 ? moveLog.table() : 'nothing to move\n');
    },
  );
}
