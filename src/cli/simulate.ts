import type { Argv } from 'yargs';
import { drawHint, openJournal } from './report.js';
import { withFlags } from './common.js';
import { loadScenario } from '../kernel/sim/scenario.js';
import { simulate } from '../daemon/simulate.js';
import { defaultConfig, loadConfig } from '../config/load.js';
import { createLogger } from '../util/log.js';
import { periodLine } from './period-line.js';
import { formatBytes } from '../util/units.js';

export function simulateCommand(y: Argv): Argv {
  return y.command(
    'simulate <scenario>',
    'run the daemon on a simulated host for the scenario\'s duration, in virtual time',
    (a) =>
      a
        .positional('scenario', { type: 'string', demandOption: true })
        .option('config', { type: 'string' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per period, then {"summary":…}' })
        .option('journal', { type: 'string', describe: 'keep a journal in this file (journal.path); tierd report draws it' })
        .option('log-level', { choices: ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const, default: 'warn' as const }),
    async (argv) => {
      const scenario = loadScenario(argv.scenario!);
      const loaded = argv.config !== undefined ? loadConfig(argv.config) : defaultConfig();
      const config = argv.journal === undefined ? loaded : withFlags(loaded, [{ flag: '--journal', path: ['journal', 'path'], value: argv.journal }]);
      const journal = openJournal(config);
      const log = createLogger({ level: argv['log-level'], format: 'auto' });
      const run = await simulate(scenario, config, log, {
        journal,
        onPeriod: (r, k) => {
          if (argv.json) process.stdout.write(JSON.stringify({ ...r, simulatedSeconds: k.now() / 1000, dramHitRatio: k.instantHitRatio(), oracleHitRatio: k.oracleHitRatio() }) + '\n');
          else process.stdout.write(periodLine(r, k) + '\n');
        },
      });
      journal?.close();
      if (journal) process.stderr.write(`${drawHint(journal.path)}\n`);
      const s = run.summary;
      if (argv.json) {
        process.stdout.write(JSON.stringify({ summary: s }) + '\n');
        return;
      }
      process.stdout.write(
        [
          '',
          `periods ${s.periods}, ${s.simulatedSeconds.toFixed(0)} s simulated`,
          `DRAM hit ratio ${s.dramHitRatio.toFixed(4)} over the last 10% (oracle ${s.oracleHitRatio.toFixed(4)}, efficiency ${s.efficiency.toFixed(4)})`,
          `time-averaged efficiency ${s.timeAveragedEfficiency.toFixed(4)}; recovery to 0.9 of the oracle after each phase change: ${s.recoveries.map((r) => (r.seconds === null ? 'never' : `${r.seconds.toFixed(0)}s`)).join(' ')}`,
          `promoted ${formatBytes(s.promotedBytes)}, demoted ${formatBytes(s.demotedBytes)}, ping-pong ${s.pingPongPages} of ${s.movedPages} pages, failed ${s.failedPages}`,
          `max rates over 1 s: promote ${formatBytes(s.maxPromoteBytesPerSec)}/s, demote ${formatBytes(s.maxDemoteBytesPerSec)}/s`,
        ].join('\n') + '\n',
      );
    },
  );
}
