#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { TierdError, EXIT } from '../util/errors.js';
import { VERSION } from '../metrics/metrics.js';
import { runCommand } from './run.js';
import { planCommand } from './plan.js';
import { simulateCommand } from './simulate.js';
import { decodeCommand } from './decode.js';
import { topologyCommand } from './topology.js';
import { checkConfigCommand } from './check-config.js';
import { reportCommand } from './report.js';

function fail(e: unknown): never {
  if (e instanceof TierdError) {
    process.stderr.write(`tierd: ${e.line()}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`tierd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(EXIT.software);
}

async function main(): Promise<void> {
  let y = yargs(hideBin(process.argv)).scriptName('tierd').version(VERSION);
  for (const add of [runCommand, planCommand, simulateCommand, decodeCommand, topologyCommand, checkConfigCommand, reportCommand]) y = add(y);
  await y
    .demandCommand(1, 'name a command: run, plan, simulate, decode, topology, check-config, report')
    .strict()
    .help()
    .fail((msg, err) => {
      if (err) fail(err);
      process.stderr.write(`tierd: ${msg.replace(/\s*\n\s*/g, ' ')} (see tierd --help)\n`);
      process.exit(EXIT.usage);
    })
    .parseAsync();
}

main().catch(fail);
