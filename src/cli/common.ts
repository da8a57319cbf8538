import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { DEFAULT_CONFIG_PATH, defaultConfig, loadConfig } from '../config/load.js';
import { LinuxKernel } from '../kernel/linux/linux-kernel.js';
import { SimKernel } from '../kernel/sim/sim-kernel.js';
import { loadScenario } from '../kernel/sim/scenario.js';
import type { Kernel } from '../kernel/types.js';
import { createLogger, type Logger } from '../util/log.js';
import { TierdError } from '../util/errors.js';

export interface CommonArgs {
  config?: string | undefined;
  sim?: string | undefined;
  'log-format'?: string | undefined;
  'log-level'?: string | undefined;
}

/** The config file: --config, else the default path on Linux; the defaults for the simulated host. */
export function resolveConfig(args: CommonArgs, requireFile: boolean): { config: Config; file: string | null } {
  if (args.config !== undefined) return { config: loadConfig(args.config), file: args.config };
  if (existsSync(DEFAULT_CONFIG_PATH)) return { config: loadConfig(DEFAULT_CONFIG_PATH), file: DEFAULT_CONFIG_PATH };
  if (requireFile) {
    throw new TierdError('CONFIG', `no config: ${DEFAULT_CONFIG_PATH} does not exist`, 'create it from config/tierd.yaml, or pass --config FILE');
  }
  return { config: defaultConfig(), file: null };
}

export function makeLogger(args: CommonArgs, config: Config): Logger {
  const format = (args['log-format'] ?? config.log.format) as 'json' | 'pretty' | 'auto';
  const level = (args['log-level'] ?? config.log.level) as Config['log']['level'];
  return createLogger({ level, format });
}

export function makeKernel(args: CommonArgs, pace?: number): Kernel {
  if (args.sim !== undefined) return new SimKernel(loadScenario(args.sim), pace !== undefined ? { pace } : {});
  return new LinuxKernel();
}
