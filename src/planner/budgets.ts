import { roomOn, tierBytes, type Topology } from '../topology/topology.js';
import type { Histograms, Recency } from './histograms.js';
import { FILL_ADAPT } from './fill-adapt.js';
import type { PlannerParams } from './params.js';
import { cut, fillRank, hotRank, lowRank, markedHotRank, sum } from './ranks.js';

/** What the period may move: bytes to promote into the top tier, to demote from each tier, to exchange. */
export interface Budgets {
  promote: number;
  demote: number[];
  /** warm fast-tier bytes demoted to make room for hotter pages */
  exchange: number;
  /** hot bytes wanted in the top tier (for the "fast tier short" note) */
  hotWant: number;
  /** room per node, whole pages; below zero when other allocations took a node under its headroom */
  room: Map<number, number>;
  /** fast-tier room beyond the free reserve left empty after fill */
  spare: number;
}

/** the tier a page of tier t is demoted to */
export const destTier = (t: number, tiers: number, p: PlannerParams): number => (p.demoteToLowest ? tiers - 1 : t + 1);

/**
 * Room per node, then in order: hot promotions into free room; cold demotions to make room for
 * the rest; exchanges; fill of the room left beyond the reserve; cold demotions that restore
 * the reserve. Everything within the period's cap.
 */
export function budgets(h: Histograms, topo: Topology, p: PlannerParams, N: number): Budgets {
  const tiers = topo.tiers.length;
  const room = new Map<number, number>();
  for (const n of topo.nodes) room.set(n.id, Math.floor(roomOn(n, p.headroom) / 4096) * 4096);
  const tierRoom = (t: number): number => Math.max(0, (topo.tiers[t] ?? []).reduce((s, id) => s + Math.max(0, room.get(id)!), 0));
  const deficit = Math.max(0, -(topo.tiers[0] ?? []).reduce((s, id) => s + room.get(id)!, 0));
  const dest = (t: number): number => destTier(t, tiers, p);
  let cap = p.periodCap;
  // when the hot pages do not all fit, the room goes to pages hot two periods running: one
  // period's count takes warm pages lucky enough to be seen in every walk, and each one would
  // hold room a hot page needs until an exchange takes it back
  const hotAll = sum(h.promo, hotRank(N));
  const hotWant = Math.min(hotAll > tierRoom(0) ? sum(h.promo, markedHotRank(N)) : hotAll, cap);
  const b: Budgets = { promote: Math.min(hotWant, tierRoom(0)), demote: new Array<number>(tiers).fill(0), exchange: 0, hotWant, room, spare: 0 };
  if (tiers <= 1) {
    b.promote = 0;
    b.demote = [0];
    return b;
  }
  // the fast tier is short: demote its coldest pages first, promote into the room they free
  // (a deficit is paid first: the room a demotion frees under the headroom is not room)
  const coldTop = sum(h.demo[0]!);
  const short = hotWant - b.promote;
  const forRoom = Math.min(Math.ceil((short + deficit) / 4096) * 4096, coldTop, tierRoom(dest(0)), cap - b.promote);
  b.demote[0] = forRoom;
  b.promote += Math.max(0, Math.min(forRoom - deficit, cap - b.promote - forRoom));
  cap -= b.promote + forRoom;
  cap -= exchangeInto(b, h, p, N, { deficit: Math.max(0, deficit - forRoom), destRoom: tierRoom(dest(0)) - forRoom, cap });
  // the fast tier's room once the hot moves are done, and the reserve kept free in it
  const roomAfter = tierRoom(0) - deficit + forRoom + b.exchange - b.promote;
  const reserve = p.freeReserve * tierBytes(topo, 0);
  // room beyond the reserve: warm pages fill it, highest count first; they are the first the
  // exchange reclaims when hot pages need the room
  const candidates = sum(h.promo, fillRank(p, N)) - hotAll;
  const fill = Math.max(0, Math.min(candidates, roomAfter - reserve, cap));
  b.promote += fill;
  // room no candidate at this fill threshold wants (a capped fill leaves none spare)
  b.spare = Math.max(0, roomAfter - reserve - Math.max(fill, candidates));
  cap -= fill;
  const roomLeft = roomAfter - reserve - fill;
  cap -= displaceCold(b, h, p, N, { fill, hotAll, destRoom: tierRoom(dest(0)) - b.demote[0]!, cap, roomFull: roomLeft < FILL_ADAPT.minSpare * tierBytes(topo, 0) });
  // then confirmed-cold pages: out of the fast tier only as far as the reserve needs (a cold
  // page in otherwise free room costs nothing, and moving it and a warm page back and forth
  // would be churn), out of the middle tiers all of them, within the cap
  const coldWant = (t: number): number => (t === 0 ? Math.max(0, reserve - (roomAfter - fill)) : Infinity);
  for (let t = 0; t < tiers - 1; t++) {
    const extra = Math.max(0, Math.min(sum(h.demo[t]!) - b.demote[t]!, coldWant(t), tierRoom(dest(t)) - b.demote[t]!, cap));
    b.demote[t]! += extra;
    cap -= extra;
  }
  return b;
}

/**
 * The fast tier has no room left for warm pages, and holds confirmed-cold ones (another managed
 * process's idle memory, or pages that went cold since they came): fill candidates counted at
 * least the displace threshold (one above the default fill threshold, whatever fill threshold
 * is set) displace those cold pages one for one, highest count first. A cold page in free room
 * costs nothing, but this room is not free. The extra access is what keeps equally cold pages
 * from trading places: in the simulated `full` scenario a
 * cold page (seen in 14% of the walks) reaches 3 of 5 in 2% of periods and 4 of 5 in 0.2%,
 * and at 3 tierd swapped 8–12 MiB of them each period for no gain; a warm page (68%) reaches
 * 4 of 5 in half of them. While the room beyond the reserve is full and recency pays
 * (recencyPays), pages counted from one above the cold threshold displace them too.
 * Adds to b.demote[0] and b.promote; returns the cap it uses.
 */
function displaceCold(b: Budgets, h: Histograms, p: PlannerParams, N: number, o: { fill: number; hotAll: number; destRoom: number; cap: number; roomFull: boolean }): number {
  if (p.fillThreshold <= 0) return 0;
  const high = Math.min(N, Math.max(p.fillThreshold, p.displaceThreshold));
  const d = o.roomFull && recencyPays(h.recency) ? lowRank(p) : high;
  if (d === high && !slowerTiersWarmer(h, d, p.hotThreshold)) return 0;
  // ranks from here: fill candidates counted at the displace threshold, and all of those hot
  // last period (the marked fill band)
  const warm = sum(h.promo, d) - o.hotAll;
  const cold = sum(h.demo[0]!) - b.demote[0]!;
  const n = Math.floor(Math.max(0, Math.min(warm - o.fill, cold, o.destRoom, o.cap / 2)) / 4096) * 4096;
  b.demote[0]! += n;
  b.promote += n;
  return 2 * n;
}

/** how much more likely a recently accessed slow page must be to be accessed again than a cold fast one */
const RECENCY_GAIN = 1.25;
/** ... and by how many standard errors of the two rates (pages as samples) */
const RECENCY_SIGMAS = 2;

/**
 * Is a slow page accessed last period accessed again more often than a fast page cold in the
 * periods before, by RECENCY_GAIN and beyond the noise? Then a slow page accessed this period,
 * however few times, displaces a confirmed-cold fast page: the fast tier is full of memory
 * whose accesses stopped (a key-value store whose popular keys changed: the new ones are asked
 * a few times a minute, seen in one walk of five, never at the displace threshold; in Debian's
 * Redis in the VM the hit ratio sat at 0.87 of 0.95 for the rest of the phase). Where both
 * sides hold the same kind of page (the cold pages of `multi`, another process's idle memory
 * as in `full-both`) the two rates are equal, whatever the kind, and nothing trades: the rule
 * compares how pages behave, not how many are touched. Trades stop where the rates meet the
 * gain: the fast tier's cold pages then come back as often as what would replace them.
 */
export function recencyPays(r: Recency): boolean {
  const ns = r.slowWarm / 4096;
  const nf = r.fastCold / 4096;
  if (ns < 64 || nf < 64) return false;
  const ps = r.slowWarmAgain / r.slowWarm;
  const pf = r.fastColdAgain / r.fastCold;
  const sigma = Math.sqrt((ps * (1 - ps)) / ns + (RECENCY_GAIN * RECENCY_GAIN * pf * (1 - pf)) / nf);
  return ps - RECENCY_GAIN * pf > RECENCY_SIGMAS * sigma;
}

/** how much more often the slower tiers' pages below hot must reach the displace threshold */
const WARMER = 2;

/**
 * Do the slower tiers hold warmer pages below hot than the fast tier does? Of the pages seen in
 * every walk and counted below hot, the share counted `d` or more, on each side. When both
 * sides hold the same kind of page (a fast tier filled with a workload's cold pages, the rest
 * of them below), each period some pages on both sides land in the noise tails, a few counted
 * `d` below and a few confirmed cold above, and trading them gains nothing: in the VM's `multi`
 * (three processes, their cold pages touched about once in three walks) that was 10 MiB each
 * way every period, 180 MiB moved back in 180 s, and no period ever counted as settled. When the
 * fast tier holds memory that is really idle (another process's, an old hot set) the share
 * above is near zero and the trade goes on until the two sides look alike.
 */
export function slowerTiersWarmer(h: Histograms, d: number, hot: number): boolean {
  // a displace threshold at or above hot: the candidates are counted hot (no noise tail below
  // hot to compare), so they displace cold pages as they did before this rule
  if (d >= hot) return true;
  const tailShare = (a: Float64Array): number => {
    let tail = 0;
    let all = 0;
    for (let c = 0; c < hot; c++) {
      all += a[c]!;
      if (c >= d) tail += a[c]!;
    }
    return all === 0 ? 0 : tail / all;
  };
  return tailShare(h.seenSlow) > WARMER * tailShare(h.seenFast);
}

/**
 * Still short: exchange warm fast-tier pages for clearly hotter ones (counts apart by
 * exchangeGap), marked hot pages for unmarked ones (one period's count is noisy: exchanging
 * on it swaps equally warm pages back and forth). What is left of a deficit is paid first,
 * else the exchange would demote pages into room that the promotions then cannot use.
 * Sets b.exchange and adds its promotions; returns the cap it uses.
 */
function exchangeInto(b: Budgets, h: Histograms, p: PlannerParams, N: number, o: { deficit: number; destRoom: number; cap: number }): number {
  const confirmedWant = Math.min(sum(h.promo, markedHotRank(N)), b.hotWant);
  const stillShort = confirmedWant - b.promote;
  if (stillShort <= 0 || p.exchangeGap <= 0) return 0;
  const lowestWanted = cut(h.promo, confirmedWant, true).rank % (N + 1);
  let avail = 0;
  for (let c = 0; c <= lowestWanted - p.exchangeGap; c++) avail += h.warm0[c]!;
  let exchange = Math.max(0, Math.min(stillShort + o.deficit, avail, o.destRoom, o.cap / 2));
  if (exchange <= o.deficit) exchange = 0;
  b.exchange = exchange;
  b.promote += Math.max(0, exchange - o.deficit);
  return 2 * exchange;
}
