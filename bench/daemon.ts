import { performance } from 'node:perf_hooks';
import { SimKernel } from '../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../src/kernel/sim/scenario.js';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/util/log.js';
import { Daemon } from '../src/daemon/daemon.js';
import { fmt, table } from './util.js';

export interface DaemonResult {
  periods: number;
  gib: number;
  cpuSecondsPerGiBPeriod: number;
  kernelSecondsPerPeriod: number;
  tierdSecondsPerPeriod: number;
  simGiBSecondsPerWallSecond: number;
}

/** Wrap the simulated kernel's methods so the time spent inside them (the "kernel") can be excluded. */
function instrument(k: SimKernel): { seconds: () => number } {
  let spent = 0;
  let depth = 0;
  const wrap = <A extends unknown[], R>(f: (...a: A) => R): ((...a: A) => R) => (...a: A): R => {
    if (depth > 0) return f(...a);
    depth++;
    const t0 = performance.now();
    try {
      return f(...a);
    } finally {
      spent += performance.now() - t0;
      depth--;
    }
  };
  const open = k.openIdlePages.bind(k);
  k.openIdlePages = (pid: number, flags: number) => {
    const f = open(pid, flags);
    return { pread: wrap(f.pread.bind(f)), close: wrap(f.close.bind(f)) };
  };
  k.movePages = wrap(k.movePages.bind(k));
  const sleep = k.sleep.bind(k);
  k.sleep = async (ms: number): Promise<void> => {
    const t0 = performance.now();
    await sleep(ms);
    spent += performance.now() - t0;
  };
  for (const m of ['topology', 'processes', 'process', 'maps'] as const) {
    const f = (k[m] as (...a: unknown[]) => unknown).bind(k);
    (k as unknown as Record<string, unknown>)[m] = wrap(f);
  }
  return { seconds: () => spent / 1000 };
}

export async function benchDaemon(periods: number): Promise<DaemonResult> {
  const gib = 16;
  const k = new SimKernel(parseScenario(`
seed: 3
duration: 1h
nodes: [ { id: 0, tier: dram, capacity: 4GiB }, { id: 1, tier: pmem, capacity: 32GiB } ]
processes:
  - name: db
    memory: [ { size: ${gib}GiB, pageSize: 4KiB, node: 1 } ]
    phases: [ { at: 0s, pattern: hotset, hotFraction: 0.1, hotRate: 20, coldRate: 0.01 } ]
`));
  const kt = instrument(k);
  const d = new Daemon(k, parseConfig('scan: { walks: 5, interval: 1s, bufferSize: 1MiB }\n'), silentLogger, { dryRun: false, everyProcessByDefault: true });
  await d.runPeriod(); // warm-up: tables allocated, placement learned
  const cpu0 = process.cpuUsage();
  const k0 = kt.seconds();
  const w0 = performance.now();
  const v0 = k.now();
  for (let p = 0; p < periods; p++) await d.runPeriod();
  const wall = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  const kernelSec = kt.seconds() - k0;
  const tierd = Math.max(0, cpuSec - kernelSec);
  return {
    periods,
    gib,
    cpuSecondsPerGiBPeriod: tierd / periods / gib,
    kernelSecondsPerPeriod: kernelSec / periods,
    tierdSecondsPerPeriod: tierd / periods,
    simGiBSecondsPerWallSecond: (gib * (k.now() - v0)) / 1000 / wall,
  };
}

export function daemonTable(r: DaemonResult): string {
  return table(
    `Whole daemon on the simulated host: ${r.gib} GiB process, N = 5 walks, ${r.periods} periods after one warm-up`,
    ['tierd CPU s/period', 'simulated kernel s/period', 'tierd CPU s per GiB·period', 'simulation GiB·s per wall s'],
    [[fmt.n(r.tierdSecondsPerPeriod, 3), fmt.n(r.kernelSecondsPerPeriod, 3), fmt.n(r.cpuSecondsPerGiBPeriod, 5), fmt.n(r.simGiBSecondsPerWallSecond, 1)]],
  );
}
