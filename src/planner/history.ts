/** Direction of a move. */
export const Dir = { PROMOTE: 0, DEMOTE: 1 } as const;

/**
 * Recent moves of one process, page address → (period << 1 | direction). Bounded by what the
 * rate limits let move within the window, never by the size of the process.
 */
export class MoveHistory {
  private readonly moves = new Map<number, number>();
  pingPongs = 0;

  /** Was the page moved in the last `periods` periods? */
  recentlyMoved(addr: number, period: number, periods: number): boolean {
    const e = this.moves.get(addr);
    return e !== undefined && period - (e >>> 1) < periods;
  }

  /** Record a move; true when it moves the page back within the window (a ping-pong). */
  record(addr: number, period: number, dir: number, window: number): boolean {
    const e = this.moves.get(addr);
    this.moves.set(addr, (period << 1) | dir);
    if (e !== undefined && (e & 1) !== dir && period - (e >>> 1) <= window) {
      this.pingPongs++;
      return true;
    }
    return false;
  }

  /** Call f for every page moved in the last `periods` periods. */
  forEachRecent(period: number, periods: number, f: (addr: number) => void): void {
    for (const [a, e] of this.moves) if (period - (e >>> 1) < periods) f(a);
  }

  prune(period: number, keep: number): void {
    for (const [a, e] of this.moves) if (period - (e >>> 1) > keep) this.moves.delete(a);
  }

  get size(): number {
    return this.moves.size;
  }
}
