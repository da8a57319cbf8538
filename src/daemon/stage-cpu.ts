/**
 * tierd's own CPU time per stage of a period (user + system, all threads), for the period's log
 * line: where the daemon's cost goes on a real host, without a profiler's overhead. The stages
 * are marked in order; each mark charges the time since the previous one.
 */
export class StageCpu {
  private last = process.cpuUsage();
  private stages: Record<string, number> = {};

  mark(stage: string): void {
    const now = process.cpuUsage();
    const ms = (now.user - this.last.user + now.system - this.last.system) / 1000;
    this.stages[stage] = (this.stages[stage] ?? 0) + Math.round(ms * 10) / 10;
    this.last = now;
  }

  /** The stages marked since the last take, and a fresh start. */
  take(): Record<string, number> {
    const s = this.stages;
    this.stages = {};
    return s;
  }
}
