import { Reason } from './plan.js';

/** Direction of a move. */
export const Dir = { PROMOTE: 0, DEMOTE: 1 } as const;

/**
 * The evidence a move was made on: a hot count (hot), a count at or above the fill threshold
 * but under the hot one (fill, exchange), or a confirmed-cold count (cold).
 */
const evidence = (reason: number): number => (reason === Reason.HOT ? 2 : reason === Reason.COLD ? 0 : 1);

/**
 * Recent moves of one process, page address → (period, reason, direction). Bounded by what the
 * rate limits let move within the window, never by the size of the process.
 *
 * A ping-pong is a page moved back within the window on the same class of evidence as its
 * last move: the policy changed its mind, the page did not. A page whose accesses changed is
 * not one: promoted hot or by fill and demoted confirmed-cold after its accesses stopped (a
 * hot-set shift), or demoted cold and promoted when they came back. Nor is a page promoted
 * into free room (fill) whose room an exchange reclaimed for a hotter page: that is what fill
 * room is for. What remains is a page exchanged out and filled back in while its count stayed
 * where it was.
 */
export class MoveHistory {
  private readonly moves = new Map<number, number>();
  pingPongs = 0;

  /** Was the page moved in the last `periods` periods? */
  recentlyMoved(addr: number, period: number, periods: number): boolean {
    const e = this.moves.get(addr);
    return e !== undefined && period - Math.floor(e / 8) < periods;
  }

  /** Record a move; true when it moves the page back within the window (a ping-pong). */
  record(addr: number, period: number, dir: number, reason: number, window: number): boolean {
    const e = this.moves.get(addr);
    this.moves.set(addr, period * 8 + reason * 2 + dir);
    if (e === undefined || (e & 1) === dir || period - Math.floor(e / 8) > window) return false;
    const was = (e >>> 1) & 3;
    if (evidence(was) !== evidence(reason)) return false;
    if (was === Reason.FILL && reason === Reason.EXCHANGE) return false;
    this.pingPongs++;
    return true;
  }

  /** Call f for every page moved in the last `periods` periods. */
  forEachRecent(period: number, periods: number, f: (addr: number) => void): void {
    for (const [a, e] of this.moves) if (period - Math.floor(e / 8) < periods) f(a);
  }

  prune(period: number, keep: number): void {
    for (const [a, e] of this.moves) if (period - Math.floor(e / 8) > keep) this.moves.delete(a);
  }

  get size(): number {
    return this.moves.size;
  }
}
