/**
 * scan.cpuBudget: a bound on tierd's CPU, as DAMON's quotas bound DAMON's work. A period's cost
 * grows with the memory tracked and the pages moved, not with time, so where periods are
 * expensive (a host with terabytes, a slow or shared CPU) the daemon would otherwise use whatever
 * CPU it is given: every saving only brings the next period sooner.
 *
 * A credit of CPU time accrues at `share` of the wall clock (up to BURST_MS of it) and every CPU
 * millisecond tierd uses is drawn from it. Two places spend it:
 * - the moves, the part of a period that can wait: the mover stops once the credit is gone, and
 *   the rest of the plan (its coldest promotions and warmest demotions, since it moves the
 *   others first) waits for the next period's plan;
 * - the rest of a period (walks, placement, plan), which cannot be cut short without losing its
 *   evidence: after a period, the daemon pauses until the credit covers what the last period
 *   cost outside its moves.
 * So a period that cannot fit stretches the cycle, and the moves get only what is left: a
 * hot-set shift is still seen within a cycle, where one long pause after a period that moved
 * hundreds of MiB hid a shift for minutes in the VM. Over a run, tierd's CPU is at most `share`
 * of the time plus the initial burst and one period's overshoot.
 */
export interface CpuClock {
  now(): number;
  cpuMs(): number;
}

/** the credit's cap, in wall time at the budget's share: a daemon that idled may burst this long */
export const BURST_MS = 30_000;

export class CpuBudget {
  private credit: number;
  private wall: number;
  private cpu: number;
  /** CPU of the current period outside its moves, so far */
  private periodCpu0 = 0;
  private movesCpu = 0;
  private movesCpu0 = 0;
  /** the last period's CPU outside its moves: the credit the next period starts with */
  private fixedMs = 0;

  /** share: of one CPU (0.25 = a quarter of a core; above 1 where tierd's threads may use several); 0 = no bound */
  constructor(private readonly clock: CpuClock, private share: number) {
    this.wall = clock.now();
    this.cpu = clock.cpuMs();
    this.credit = share * BURST_MS;
  }

  /** A reloaded config's share applies from now. */
  setShare(share: number): void {
    this.settle();
    this.share = share;
    this.credit = Math.min(this.credit, share * BURST_MS);
  }

  beginPeriod(): void {
    this.periodCpu0 = this.clock.cpuMs();
    this.movesCpu = 0;
  }

  beginMoves(): void {
    this.movesCpu0 = this.clock.cpuMs();
  }

  endMoves(): void {
    this.movesCpu = this.clock.cpuMs() - this.movesCpu0;
  }

  /** The mover's check before each batch: false once the credit is spent. */
  mayMove(): boolean {
    if (this.share <= 0) return true;
    this.settle();
    return this.credit > 0;
  }

  /** After a period: the pause until the credit covers the next period's work outside its moves, ms. */
  pauseNeeded(): number {
    this.fixedMs = this.clock.cpuMs() - this.periodCpu0 - this.movesCpu;
    if (this.share <= 0) return 0;
    this.settle();
    const short = this.fixedMs - this.credit;
    return short > 0 ? short / this.share : 0;
  }

  /** Accrue the wall time since the last settle at the share, and draw the CPU used since. */
  private settle(): void {
    const wall = this.clock.now();
    const cpu = this.clock.cpuMs();
    // the cap covers at least a period's fixed work: a pause must be able to pay for it
    const cap = Math.max(this.share * BURST_MS, this.fixedMs);
    this.credit = Math.min(cap, this.credit + this.share * (wall - this.wall) - (cpu - this.cpu));
    this.wall = wall;
    this.cpu = cpu;
  }
}
