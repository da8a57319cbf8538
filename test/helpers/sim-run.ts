import { parseScenario } from '../../src/kernel/sim/scenario.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/util/log.js';
import { simulate, type SimRun, type SimRunOptions } from '../../src/daemon/simulate.js';
import type { SimKernel } from '../../src/kernel/sim/sim-kernel.js';
import type { SimProcess } from '../../src/kernel/sim/sim-process.js';

export async function runSim(scenario: string, config = '{}', opts: SimRunOptions = {}): Promise<SimRun> {
  return simulate(parseScenario(scenario), parseConfig(config), silentLogger, opts);
}

/** Fraction of the bytes of pages with rate ≥ minRate that sit on node `node`. */
export function fractionOn(k: SimKernel, node: number, pick: (p: SimProcess, i: number) => boolean): number {
  let all = 0;
  let on = 0;
  for (const p of k.allProcesses()) {
    for (let i = 0; i < p.pages; i++) {
      if (!pick(p, i)) continue;
      const b = p.units[i]!;
      all += b;
      if (p.node[i] === node) on += b;
    }
  }
  return all === 0 ? 1 : on / all;
}
