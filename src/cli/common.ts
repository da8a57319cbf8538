import { existsSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_PATH, defaultConfig, effective, loadConfig, parseConfig } from '../config/load.js';
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

/**
 * Explicit targets must be user processes that exist now: a typo'd or stale pid, or a kernel
 * thread, is one line (exit 2 when it came from the config, 64 from a flag), not a quiet
 * "nothing to move".
 */
export function checkExplicitPids(kernel: Kernel, pids: readonly number[], from: 'config' | 'flag'): void {
  const code = from === 'config' ? 'CONFIG' : 'USAGE';
  const where = from === 'config' ? 'targets.pids' : '--pid';
  for (const pid of pids) {
    if (!Number.isInteger(pid) || pid < 1) throw new TierdError(code, `${where}: ${String(pid)} is not a process id`, 'give a positive whole number');
    const p = kernel.process(pid);
    if (p === null) throw new TierdError(code, `${where}: no process ${pid}`, 'check the pid (ps -p PID), or select by targets.comm / targets.cgroup, which follow restarts');
    if (p.kernelThread) throw new TierdError(code, `${where}: process ${pid} (${p.comm}) is a kernel thread: it has no user memory to place`, 'name a user process');
  }
}

/**
 * Apply command-line overrides through the config schema, so a flag has the same bounds and
 * messages as the key it sets; a refused value is a usage error naming the flag.
 */
export function withFlags(config: Config, flags: { flag: string; path: string[]; value: unknown }[]): Config {
  const raw = effective(config) as Record<string, Record<string, unknown>>;
  for (const f of flags) {
    let node: Record<string, unknown> = raw;
    for (const k of f.path.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[f.path[f.path.length - 1]!] = f.value;
  }
  try {
    return parseConfig(stringify(raw), 'flags');
  } catch (e) {
    if (!(e instanceof TierdError)) throw e;
    const key = /^flags(?::\d+)?: ([\w.]+): (.*)$/.exec(e.message);
    const f = key ? flags.find((x) => x.path.join('.') === key[1]) : undefined;
    throw new TierdError('USAGE', f ? `${f.flag}: ${key![2]}` : e.message, e.hint);
  }
}
