import { AddrMap } from '../util/addr-map.js';
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
  /** page address → period × 8 + reason × 2 + direction of its last move */
  private readonly moves = new AddrMap();
  /**
   * The pages each kept period moved, oldest period first: pruning and the recent-move sweep
   * visit only the periods they need, not every page still remembered.
   */
  private readonly periods: { period: number; addrs: Float64Array; n: number }[] = [];
  pingPongs = 0;

  /** Was the page moved in the last `periods` periods? */
  recentlyMoved(addr: number, period: number, periods: number): boolean {
    const e = this.moves.get(addr);
    return e >= 0 && period - Math.floor(e / 8) < periods;
  }

  /** Record a move; true when it moves the page back within the window (a ping-pong). */
  record(addr: number, period: number, dir: number, reason: number, window: number): boolean {
    const e = this.moves.get(addr);
    this.moves.set(addr, period * 8 + reason * 2 + dir);
    if (e < 0 || Math.floor(e / 8) !== period) this.append(period, addr);
    if (e < 0 || (e & 1) === dir || period - Math.floor(e / 8) > window) return false;
    const was = (e >>> 1) & 3;
    if (evidence(was) !== evidence(reason)) return false;
    if (was === Reason.FILL && reason === Reason.EXCHANGE) return false;
    this.pingPongs++;
    return true;
  }

  /** Call f for every page moved in the last `periods` periods. */
  forEachRecent(period: number, periods: number, f: (addr: number) => void): void {
    for (const p of this.periods) {
      if (period - p.period >= periods) continue;
      for (let i = 0; i < p.n; i++) {
        const a = p.addrs[i]!;
        // a page moved again later is listed under its later period
        if (Math.floor(this.moves.get(a) / 8) === p.period) f(a);
      }
    }
  }

  prune(period: number, keep: number): void {
    while (this.periods.length > 0 && period - this.periods[0]!.period > keep) {
      const p = this.periods.shift()!;
      for (let i = 0; i < p.n; i++) {
        const e = this.moves.get(p.addrs[i]!);
        if (e >= 0 && Math.floor(e / 8) === p.period) this.moves.delete(p.addrs[i]!);
      }
    }
  }

  get size(): number {
    return this.moves.size;
  }

  private append(period: number, addr: number): void {
    let p = this.periods[this.periods.length - 1];
    if (p === undefined || p.period !== period) {
      p = { period, addrs: new Float64Array(256), n: 0 };
      this.periods.push(p);
    }
    if (p.n === p.addrs.length) {
      const grown = new Float64Array(p.n * 2);
      grown.set(p.addrs);
      p.addrs = grown;
    }
    p.addrs[p.n++] = addr;
  }
}
