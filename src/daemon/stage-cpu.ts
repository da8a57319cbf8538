/** CPU time since some origin, as process.cpuUsage() reports it (microseconds). */
export type CpuUsageFn = () => { user: number; system: number };

/** One period's CPU per stage, in ms: all of it, and its system part. */
export interface StageCpuTake {
  cpuMs: Record<string, number>;
  /** the kernel's share of cpuMs (move_pages, the walks' reads, /proc): the rest is tierd's JavaScript */
  sysMs: Record<string, number>;
}

/**
 * tierd's own CPU time per stage of a period (user + system, all threads), for the period's log
 * line: where the daemon's cost goes on a real host, without a profiler's overhead. The stages
 * are marked in order; each mark charges the time since the previous one. The system part is
 * kept apart: a stage whose time is the kernel's work (a migration) is cut by moving less, one
 * whose time is JavaScript by doing less per page.
 */
export class StageCpu {
  private last: { user: number; system: number };
  private cpu: Record<string, number> = {};
  private sys: Record<string, number> = {};

  constructor(private readonly usage: CpuUsageFn = () => process.cpuUsage()) {
    this.last = usage();
  }

  mark(stage: string): void {
    const now = this.usage();
    const user = now.user - this.last.user;
    const system = now.system - this.last.system;
    this.cpu[stage] = round1((this.cpu[stage] ?? 0) + (user + system) / 1000);
    this.sys[stage] = round1((this.sys[stage] ?? 0) + system / 1000);
    this.last = now;
  }

  /** The stages marked since the last take, and a fresh start. */
  take(): StageCpuTake {
    const t = { cpuMs: this.cpu, sysMs: this.sys };
    this.cpu = {};
    this.sys = {};
    return t;
  }
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;
