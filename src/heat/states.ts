import { TierdError } from '../util/errors.js';

/**
 * The per-page state of the heat table, one byte (or two for large configs) per page:
 *
 *   s = (tierSlot × (K + 1) + streak) × P + pair(missed, count)
 *
 * - missed, count: walks of this period that did not report the page (gaps, holes, before it
 *   existed), and walks that reported it accessed (missed + count ≤ N). After the period's N
 *   walks, seen = N − missed; seen = 0 means unknown, never idle. Counting misses instead of
 *   sightings means an idle page costs no write in a walk: only accessed pages and the rare
 *   pages in a gap are touched.
 * - streak: previous consecutive periods in which the page was cold, capped at K − 1, so a
 *   page is confirmed cold when it is cold now and streak = K − 1; or K, the hot mark: the
 *   page was hot in the previous period. One period's count is noisy (a page accessed in a
 *   third of the walks is seen in all five one period in a hundred); hot now and marked is
 *   evidence enough to displace another page (an exchange).
 * - tierSlot: 0 = placement unknown, t + 1 = on a node of tier t (as last queried or moved).
 *
 * Transitions are table look-ups, so the per-page work of a walk is one load and one store.
 */
export interface StateSpaceParams {
  walks: number; // N
  coldPeriods: number; // K
  tiers: number;
}

export class StateSpace {
  readonly N: number;
  readonly K: number;
  readonly tiers: number;
  readonly P: number;
  readonly size: number;
  /** transition when the page is reported accessed / not reported at all in a walk (idle: none) */
  readonly acc: Uint8Array | Uint16Array;
  readonly miss: Uint8Array | Uint16Array;
  /** after the period's N walks: walks that reported the page */
  readonly seen: Uint8Array;
  readonly missed: Uint8Array;
  readonly count: Uint8Array;
  readonly streak: Uint8Array;
  /** 1 when the page carries the hot mark (hot in the previous period) */
  readonly hotBefore: Uint8Array;
  readonly tierSlot: Uint8Array;
  /** pair index → (missed, count) */
  private readonly pairMissed: Uint8Array;
  private readonly pairCount: Uint8Array;

  constructor(p: StateSpaceParams) {
    const { walks: N, coldPeriods: K, tiers } = p;
    if (!Number.isInteger(N) || N < 1 || N > 30) {
      throw new TierdError('CONFIG', `scan.walks must be 1..30, got ${N}`, 'set scan.walks between 3 and 10');
    }
    if (!Number.isInteger(K) || K < 1) throw new TierdError('CONFIG', `policy.coldPeriods must be ≥ 1, got ${K}`, 'set policy.coldPeriods to 1..4');
    this.N = N;
    this.K = K;
    this.tiers = tiers;
    this.P = ((N + 1) * (N + 2)) / 2;
    this.size = this.P * (K + 1) * (tiers + 1);
    if (this.size > 65536) {
      throw new TierdError(
        'CONFIG',
        `scan.walks=${N} with policy.coldPeriods=${K} and ${tiers} tiers needs ${this.size} states per page`,
        'lower scan.walks or policy.coldPeriods',
      );
    }
    const Arr = this.size <= 256 ? Uint8Array : Uint16Array;
    this.acc = new Arr(this.size);
    this.miss = new Arr(this.size);
    this.seen = new Uint8Array(this.size);
    this.missed = new Uint8Array(this.size);
    this.count = new Uint8Array(this.size);
    this.streak = new Uint8Array(this.size);
    this.hotBefore = new Uint8Array(this.size);
    this.tierSlot = new Uint8Array(this.size);
    this.pairMissed = new Uint8Array(this.P);
    this.pairCount = new Uint8Array(this.P);
    for (let missed = 0; missed <= N; missed++) {
      for (let c = 0; c + missed <= N; c++) {
        const pi = this.pair(missed, c);
        this.pairMissed[pi] = missed;
        this.pairCount[pi] = c;
      }
    }
    for (let s = 0; s < this.size; s++) {
      const pi = s % this.P;
      const rest = (s - pi) / this.P;
      const missed = this.pairMissed[pi]!;
      const c = this.pairCount[pi]!;
      this.missed[s] = missed;
      this.seen[s] = N - missed;
      this.count[s] = c;
      this.streak[s] = rest % (K + 1);
      this.hotBefore[s] = rest % (K + 1) === K ? 1 : 0;
      this.tierSlot[s] = Math.floor(rest / (K + 1));
      const base = s - pi;
      // a page reported twice in one walk cannot happen (non-overlapping reads); past N walks saturate
      const full = missed + c >= N;
      this.acc[s] = full ? s : base + this.pair(missed, c + 1);
      this.miss[s] = full ? s : base + this.pair(missed + 1, c);
    }
  }

  /** Uint8Array when the states fit a byte (the default configs), else Uint16Array. */
  alloc(n: number): Uint8Array | Uint16Array {
    return this.size <= 256 ? new Uint8Array(n) : new Uint16Array(n);
  }

  get bytesPerPage(): number {
    return this.size <= 256 ? 1 : 2;
  }

  /** index of (missed, count) among the pairs with missed + count ≤ N */
  pair(missed: number, count: number): number {
    const N = this.N;
    // rows missed = 0..missed-1 hold N+1, N, ... N-missed+2 pairs
    return missed * (N + 1) - (missed * (missed - 1)) / 2 + count;
  }

  /** A state from walks seen (as of the period's end), count, streak (K = the hot mark) and tier slot. */
  make(seen: number, count: number, streak: number, tierSlot: number): number {
    return (tierSlot * (this.K + 1) + streak) * this.P + this.pair(this.N - seen, count);
  }

  /** A state for a page first reported after `walksDone` walks of this period. */
  fresh(walksDone: number, streak = 0, tierSlot = 0): number {
    return (tierSlot * (this.K + 1) + streak) * this.P + this.pair(walksDone, 0);
  }

  /** The same page with a known tier (after a query or a move). */
  withTier(s: number, tierSlot: number): number {
    return (tierSlot * (this.K + 1) + this.streak[s]!) * this.P + (s % this.P);
  }

  /**
   * Period-end table: counts reset, streak advanced for pages cold this period, the hot mark
   * set on pages hot this period. `isCold`/`isHot(seen, count)` decide; a page not seen at all
   * keeps neither.
   */
  periodEndTable(isCold: (seen: number, count: number) => boolean, isHot: (seen: number, count: number) => boolean = () => false): Uint8Array | Uint16Array {
    const t = this.alloc(this.size);
    const K = this.K;
    for (let s = 0; s < this.size; s++) {
      const seen = this.seen[s]!;
      const c = this.count[s]!;
      const coldBefore = this.hotBefore[s] ? 0 : this.streak[s]!;
      const st = seen === 0 ? 0 : isHot(seen, c) ? K : isCold(seen, c) ? Math.min(coldBefore + 1, K - 1) : 0;
      t[s] = this.fresh(0, st, this.tierSlot[s]!);
    }
    return t;
  }

  /** Is the page confirmed cold: cold streak at K − 1 (never the hot mark)? */
  coldConfirmed(s: number): boolean {
    return this.hotBefore[s] === 0 && this.streak[s]! >= this.K - 1;
  }

  /** Map states of another space (before a reload) into this one: counts reset, streak and tier kept. */
  remapFrom(old: StateSpace): Uint8Array | Uint16Array {
    const t = this.alloc(old.size);
    for (let s = 0; s < old.size; s++) {
      const tier = old.tierSlot[s]! <= this.tiers ? old.tierSlot[s]! : 0;
      t[s] = this.fresh(0, old.hotBefore[s] ? this.K : Math.min(old.streak[s]!, this.K - 1), tier);
    }
    return t;
  }
}
