import type { Argv } from 'yargs';
import { Daemon } from '../daemon/daemon.js';
import { SimKernel } from '../kernel/sim/sim-kernel.js';
import { MoveLog } from '../mover/dry-run.js';
import { checkExplicitPids, makeKernel, makeLogger, resolveConfig, withFlags } from './common.js';
import { TierdError } from '../util/errors.js';

export function planCommand(y: Argv): Argv {
  return y.command(
    'plan',
    'run one period on the live system (or --sim) and print the plan; moves nothing',
    (a) =>
      a
        .option('pid', { type: 'number', array: true, describe: 'target process (repeatable)' })
        .option('log-level', { choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, describe: 'log level (default warn)' })
        .option('walks', { type: 'number', describe: 'walks in the period' })
        .option('interval', { type: 'string', describe: 'time between walks, e.g. 1s' })
        .option('json', { type: 'boolean', default: false })
        .option('config', { type: 'string' })
        .option('sim', { type: 'string', describe: 'plan on a simulated host from this scenario' }),
    async (argv) => {
      const { config: base } = resolveConfig(argv, false);
      const pids = argv.pid ?? [];
      if (pids.length === 0 && argv.sim === undefined && base.targets.pids.length === 0 && base.targets.comm === undefined && base.targets.cgroup === undefined) {
        throw new TierdError('USAGE', 'no target', 'name one with --pid PID');
      }
      const flags: Parameters<typeof withFlags>[1] = [];
      if (argv.walks !== undefined) flags.push({ flag: '--walks', path: ['scan', 'walks'], value: argv.walks });
      if (argv.interval !== undefined) flags.push({ flag: '--interval', path: ['scan', 'interval'], value: argv.interval });
      const config = withFlags(base, flags);
      const kernel0 = makeKernel(argv);
      if (pids.length > 0) {
        checkExplicitPids(kernel0, pids, 'flag');
        config.targets = { ...config.targets, pids, comm: undefined, cgroup: undefined };
      } else checkExplicitPids(kernel0, config.targets.pids, 'config');
      const kernel = kernel0;
      const log = makeLogger({ ...argv, 'log-level': argv['log-level'] ?? 'warn' }, config);
      const moveLog = new MoveLog();
      const d = new Daemon(kernel, config, log, { dryRun: true, moveLog, maxPeriods: 1, everyProcessByDefault: kernel instanceof SimKernel });
      await d.run();
      process.stdout.write(argv.json ? moveLog.json().map((l) => l + '\n').join('') : moveLog.lines.length > 0 ? moveLog.table() : 'nothing to move\n');
    },
  );
}
