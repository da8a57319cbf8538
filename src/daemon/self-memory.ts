import type { Kernel } from '../kernel/types.js';
import type { Config } from '../config/schema.js';
import type { Topology } from '../topology/topology.js';
import type { Logger } from '../util/log.js';

/**
 * migrate.selfMemory slow: tierd's own memory prefers the slowest tier and leaves the faster
 * ones, which are what it manages. Not in a dry-run, which promises to move nothing.
 */
export function placeOwnMemory(kernel: Kernel, topo: Topology, config: Config, dryRun: boolean, log: Logger): void {
  const tiers = topo.tiers;
  if (config.migrate.selfMemory !== 'slow' || tiers.length < 2 || dryRun) return;
  const prefer = tiers[tiers.length - 1]!;
  const from = tiers.slice(0, -1).flat();
  const why = kernel.placeSelf(prefer, from);
  if (why === null) log.info({ nodes: prefer }, "tierd's own memory prefers the slowest tier");
  else log.warn({ nodes: prefer, why }, "tierd's own memory stays where the kernel puts it (set migrate.selfMemory: any to not try)");
}
