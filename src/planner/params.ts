/** The policy's knobs for one period (from the config, with the daemon's adaptations). */
export interface PlannerParams {
  hotThreshold: number;
  coldThreshold: number;
  headroom: number;
  minResidency: number;
  periodCap: number;
  demoteToLowest: boolean;
  /** a fast-tier page may make room for a slower page only when their counts differ by this much */
  exchangeGap: number;
  /**
   * pages of slower tiers accessed in at least this many walks (but fewer than hotThreshold) fill
   * the fast tier's free room beyond the headroom, highest count first; 0 = no fill
   */
  fillThreshold: number;
  /**
   * a fill candidate displaces a confirmed-cold fast-tier page (room that is not free) only when
   * accessed in at least this many walks: more evidence than free room asks for
   */
  displaceThreshold: number;
  /** fraction of the fast tier kept free: cold pages are demoted to restore it, fill leaves it alone */
  freeReserve: number;
}
