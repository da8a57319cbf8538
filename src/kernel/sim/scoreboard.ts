export interface HitSample {
  t: number; // seconds
  top: number; // cumulative accesses served from the top tier
  total: number;
  oracleTop: number;
}

/**
 * The simulated host's scoreboard: accesses served from the top tier, all accesses, and what the
 * oracle placement would have served, accumulated over virtual time, so that a hit ratio can be
 * read over any window.
 */
export class HitScoreboard {
  private readonly samples: HitSample[] = [{ t: 0, top: 0, total: 0, oracleTop: 0 }];

  /** dtSec seconds ending at tEnd, at these access rates (per second). */
  add(tEnd: number, dtSec: number, topRate: number, allRate: number, oracleFraction: number): void {
    const last = this.samples[this.samples.length - 1]!;
    this.samples.push({ t: tEnd, top: last.top + topRate * dtSec, total: last.total + allRate * dtSec, oracleTop: last.oracleTop + oracleFraction * allRate * dtSec });
  }

  /** Fraction of accesses served from the top tier over [fromSec, toSec] (and the oracle's). */
  ratio(fromSec: number, toSec: number): { actual: number; oracle: number } {
    const a = this.at(fromSec);
    const b = this.at(toSec);
    const total = b.total - a.total;
    if (total <= 0) return { actual: 1, oracle: 1 };
    return { actual: (b.top - a.top) / total, oracle: (b.oracleTop - a.oracleTop) / total };
  }

  /** The last sample at or before t. */
  private at(t: number): HitSample {
    const h = this.samples;
    let lo = 0;
    let hi = h.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (h[mid]!.t <= t) lo = mid;
      else hi = mid - 1;
    }
    return h[lo]!;
  }
}
