import { performance } from 'node:perf_hooks';
import { SimKernel } from '../src/kernel/sim/sim-kernel.js';
import { parseScenario } from '../src/kernel/sim/scenario.js';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/util/log.js';
import { Daemon } from '../src/daemon/daemon.js';
import { fmt, table } from './util.js';

export interface DaemonResult {
  /** what the process's memory does outside its hot set */
  host: string;
  periods: number;
  gib: number;
  cpuSecondsPerGiBPeriod: number;
  kernelSecondsPerPeriod: number;
  tierdSecondsPerPeriod: number;
  simGiBSecondsPerWallSecond: number;
}

/**
 * The two hosts, one size: every page of the busy one is touched now and then (0.01 accesses/s,
 * so every 4 MiB chunk sees a few each period), the idle one's pages outside its hot set never
 * are, as most of a host of terabytes: its passes skip whole chunks.
 */
const WARM_UP_PERIODS = 5;

export const DAEMON_HOSTS = [
  { host: 'busy: 10% hot, every other page touched now and then', coldRate: 0.01 },
  { host: 'mostly idle: 10% hot, the rest never touched', coldRate: 0 },
] as const;

/**
 * Wrap the simulated kernel's methods so the CPU time spent inside them (the "kernel") can be
 * excluded. CPU, not wall time: on a shared machine the wall clock inside a call counts the
 * other processes' time too, and tierd's share came out negative.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function instrument(k: SimKernel): { seconds: () => number } {
  let spent = 0;
  let depth = 0;
  const wrap = <A extends unknown[], R>(f: (...a: A) => R): ((...a: A) => R) => (...a: A): R => {
    if (depth > 0) return f(...a);
    depth++;
    const t0 = cpuMs();
    try {
      return f(...a);
    } finally {
      spent += cpuMs() - t0;
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
    const t0 = cpuMs();
    await sleep(ms);
    spent += cpuMs() - t0;
  };
  for (const m of ['topology', 'processes', 'process', 'maps'] as const) {
    const f = (k[m] as (...a: unknown[]) => unknown).bind(k);
    (k as unknown as Record<string, unknown>)[m] = wrap(f);
  }
  return { seconds: () => spent / 1000 };
}

export async function benchDaemon(periods: number, host: (typeof DAEMON_HOSTS)[number]): Promise<DaemonResult> {
  const gib = 16;
  const k = new SimKernel(parseScenario(`
seed: 3
duration: 1h
nodes: [ { id: 0, tier: dram, capacity: 4GiB }, { id: 1, tier: pmem, capacity: 32GiB } ]
processes:
  - name: db
    memory: [ { size: ${gib}GiB, pageSize: 4KiB, node: 1 } ]
    phases: [ { at: 0s, pattern: hotset, hotFraction: 0.1, hotRate: 20, coldRate: ${host.coldRate} } ]
`));
  const kt = instrument(k);
  const d = new Daemon(k, parseConfig('scan: { walks: 5, interval: 1s, bufferSize: 1MiB }\n'), silentLogger, { dryRun: false, everyProcessByDefault: true });
  // warm-up: tables allocated, placement learned, the hot set promoted, idle pages' cold streaks full
  for (let p = 0; p < WARM_UP_PERIODS; p++) await d.runPeriod();
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
    host: host.host,
    periods,
    gib,
    cpuSecondsPerGiBPeriod: tierd / periods / gib,
    kernelSecondsPerPeriod: kernelSec / periods,
    tierdSecondsPerPeriod: tierd / periods,
    simGiBSecondsPerWallSecond: (gib * (k.now() - v0)) / 1000 / wall,
  };
}

export function daemonTable(rs: DaemonResult[]): string {
  const r0 = rs[0]!;
  return table(
    `Whole daemon on the simulated host: ${r0.gib} GiB process, N = 5 walks, ${r0.periods} periods after ${WARM_UP_PERIODS} of warm-up`,
    ['host', 'tierd CPU s/period', 'simulated kernel s/period', 'tierd CPU s per GiB·period', 'simulation GiB·s per wall s'],
    rs.map((r) => [r.host, fmt.n(r.tierdSecondsPerPeriod, 3), fmt.n(r.kernelSecondsPerPeriod, 3), fmt.n(r.cpuSecondsPerGiBPeriod, 5), fmt.n(r.simGiBSecondsPerWallSecond, 1)]),
  );
}
