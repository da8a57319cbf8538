/** No period for this long (or 3 periods' time, if longer) and /healthz answers 503. */
export const LIVENESS_FLOOR_MS = 120_000;

/** When the last period ended and how long it took (wall clock): /healthz's liveness. */
export class Liveness {
  private lastWall: number;
  private lastDuration = 0;
  private stopping = false;

  constructor(now: number) {
    this.lastWall = now;
  }

  periodDone(at: number): void {
    this.lastDuration = at - this.lastWall;
    this.lastWall = at;
  }

  stop(): void {
    this.stopping = true;
  }

  /** null = healthy; otherwise the reason */
  problem(now: number): string | null {
    if (this.stopping) return 'stopping';
    const late = now - this.lastWall;
    const limit = Math.max(LIVENESS_FLOOR_MS, 3 * this.lastDuration);
    return late > limit ? `no period completed for ${(late / 1000).toFixed(0)} s (limit ${(limit / 1000).toFixed(0)} s)` : null;
  }
}
