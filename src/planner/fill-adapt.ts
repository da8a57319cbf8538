/**
 * The fill threshold when the config leaves it to tierd: the default (3 of 5 walks with a
 * per-page tracker) while the fast tier has no spare room, lower one walk at a time while the
 * room it leaves sits empty and the band below carries a material share of what the walks see.
 *
 * Why: at 3 of 5 a sparse key-value store (Debian's Redis in the VM: Zipfian GETs over 327 680
 * values of 4 KB) left the free DRAM empty, for below its few hundred most popular values no
 * page is seen in 3 of 5 walks (0.52 of the best; 0.76 with 1 walk); while 1 walk from the start
 * filled the room with pages seen once before the warm pages of the next periods came, which then
 * needed exchanges (`shift`: 78 s to 90% of the best against 27–33 s). Stepping down only after
 * the room sat empty for `patience` periods, with next to nothing promoted in them, lets hot and
 * warm pages go first (counting periods that were still promoting stepped down at the first
 * promotions of `shift` and `zipf`, before their warm sets were in); stepping down only
 * when the band holds `minShare` of the sightings keeps a static hot set's cold pages, each
 * touched once in a long while, where they are (in the simulated hot set they were 0.4% of the
 * sightings, in the sparse store and in `shift`'s cold 5% more than 10%). Any shortage (hot
 * pages that did not fit, an exchange) goes back to the default at once: the room is wanted.
 */
export interface FillSignal {
  /** fast-tier bytes beyond the free reserve that the period's plan left empty */
  spareBytes: number;
  /** the fast tier's size */
  fastBytes: number;
  /** bytes the period's plan promoted (hot and fill) */
  promoteBytes: number;
  /** the fast tier was short of hot pages' room, or an exchange ran */
  short: boolean;
  /** bytes of pages seen in all N walks, by how many of them reported the page accessed */
  countBytes: readonly number[];
}

export interface FillAdaptParams {
  /** the threshold without spare room (the default fill threshold) */
  ceiling: number;
  /** the lowest it may go: one above the cold threshold, and at least 1 */
  floor: number;
  /**
   * spare room worth filling, as a share of the fast tier; a period that promoted more than
   * this share is still filling at the current threshold and does not count as calm
   */
  minSpare: number;
  /** the band's share of all sightings (Σ count × bytes) needed to step down into it */
  minShare: number;
  /** consecutive periods of spare room before a step down */
  patience: number;
}

/** The adaptation tierd runs: 2% of the fast tier spare, 5% of the sightings, two periods. */
export const FILL_ADAPT = { minSpare: 0.02, minShare: 0.05, patience: 2 } as const;

export class FillAdapt {
  private current: number;
  private calm = 0;
  /**
   * the last period counted toward a step down (or made one): the threshold is still on its way
   * down, and the daemon does not take such a period for settled placement (a settled pause
   * between them held redis's first fill back by 35 s in the VM)
   */
  lowering = false;

  constructor(private readonly p: FillAdaptParams) {
    this.current = p.ceiling;
  }

  get threshold(): number {
    return this.current;
  }

  /** Take one period's outcome; returns the threshold for the next period. */
  observe(s: FillSignal): number {
    this.lowering = false;
    if (s.short) {
      this.current = this.p.ceiling;
      this.calm = 0;
    } else if (this.current > this.p.floor && this.roomSitsEmpty(s) && bandShare(s.countBytes, this.current - 1) >= this.p.minShare) {
      this.lowering = true;
      if (++this.calm >= this.p.patience) {
        this.current--;
        this.calm = 0;
      }
    } else {
      this.calm = 0;
    }
    return this.current;
  }

  /** Room beyond the reserve that the current threshold neither fills nor is still filling. */
  private roomSitsEmpty(s: FillSignal): boolean {
    const worth = this.p.minSpare * s.fastBytes;
    return s.spareBytes >= worth && s.promoteBytes <= worth;
  }
}

/** The share of all sightings (count × bytes over every count) that pages counted `c` hold. */
export function bandShare(countBytes: readonly number[], c: number): number {
  let all = 0;
  for (let k = 1; k < countBytes.length; k++) all += k * countBytes[k]!;
  return all === 0 ? 0 : (c * (countBytes[c] ?? 0)) / all;
}
