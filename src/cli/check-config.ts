import type { Argv } from 'yargs';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH, effective, loadConfig } from '../config/load.js';

export function checkConfigCommand(y: Argv): Argv {
  return y.command(
    'check-config [file]',
    'validate a config file and print the effective config (defaults filled in; the printout is itself a valid config)',
    (a) => a.positional('file', { type: 'string', default: DEFAULT_CONFIG_PATH }),
    (argv) => {
      const c = loadConfig(argv.file ?? DEFAULT_CONFIG_PATH);
      process.stdout.write(`# ${argv.file}: valid\n` + stringify(effective(c)));
    },
  );
}
