/**
 * scan.cpuBudget: a bound on tierd's duty cycle, as DAMON's quotas bound DAMON's work. A
 * period's cost grows with the memory tracked and the pages moved, not with time, so where the
 * periods are expensive (a host with terabytes, a slow or shared CPU) the daemon would otherwise
 * use whatever CPU it is given: every saving only brings the next period sooner. After a period
 * that used C ms of CPU in W ms of wall time, the daemon pauses until C is at most `share` of the
 * cycle, period and pause: max(0, C / share - W). Reaction time is what it trades: a hot-set
 * shift waits at most that pause longer to be seen.
 */
export interface CpuClock {
  now(): number;
  cpuMs(): number;
}

export class CpuBudget {
  private wall0: number;
  private cpu0: number;

  /** share: of one CPU (0.25 = a quarter of a core; above 1 where tierd's threads may use several); 0 = no bound */
  constructor(private readonly clock: CpuClock, private share: number) {
    this.wall0 = clock.now();
    this.cpu0 = clock.cpuMs();
  }

  /** A reloaded config's share applies from the next cycle. */
  setShare(share: number): void {
    this.share = share;
  }

  /** The pause that keeps the cycle begun at the last begin() within the share, ms. */
  pauseNeeded(): number {
    if (this.share <= 0) return 0;
    const cpu = this.clock.cpuMs() - this.cpu0;
    const wall = this.clock.now() - this.wall0;
    return Math.max(0, cpu / this.share - wall);
  }

  /** A cycle begins: the CPU and wall time of the next period are counted from here. */
  begin(): void {
    this.wall0 = this.clock.now();
    this.cpu0 = this.clock.cpuMs();
  }
}
