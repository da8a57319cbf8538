import type { Kernel } from '../kernel/types.js';
import { roomOn, type Topology } from '../topology/topology.js';
import type { StateSpace } from '../heat/states.js';
import { SyscallError, ERRNO } from '../util/errors.js';
import { Dir } from './history.js';
import { PlanList, Reason, type Plan, type Target } from './plan.js';

export interface PlannerParams {
  hotThreshold: number;
  coldThreshold: number;
  headroom: number;
  minResidency: number;
  periodCap: number;
  placementQueries: number;
  demoteToLowest: boolean;
  /** a fast-tier page may make room for a slower page only when their counts differ by this much */
  exchangeGap: number;
  /**
   * pages of slower tiers accessed in at least this many walks (but fewer than hotThreshold) fill
   * the fast tier's free room beyond the headroom, highest count first; 0 = no fill
   */
  fillThreshold: number;
  /** fraction of the fast tier kept free: cold pages are demoted to restore it, fill leaves it alone */
  freeReserve: number;
}

const NONE = 255;

/**
 * Promotion ranks, highest first: hot with the hot mark (a candidate last period too), hot,
 * fill candidate with the mark, fill candidate; within a band by count.
 * rank = band × (N + 1) + count.
 */
const BAND_FILL = 0;
const BAND_HOT = 2;
const bandBase = (N: number, band: number): number => band * (N + 1);

/**
 * Per-state look-ups for one period: a page's promotion rank (see above; its count scaled to N
 * when it was seen in fewer walks) if a hot or fill candidate, its coldness if confirmed cold,
 * its count if fully seen and not confirmed cold.
 */
function stateTables(space: StateSpace, p: PlannerParams): { hot: Uint8Array; cold: Uint8Array; warm: Uint8Array } {
  const hot = new Uint8Array(space.size).fill(NONE);
  const cold = new Uint8Array(space.size).fill(NONE);
  const warm = new Uint8Array(space.size).fill(NONE);
  const N = space.N;
  const minSeen = Math.ceil(N / 2);
  for (let s = 0; s < space.size; s++) {
    const seen = space.seen[s]!;
    const c = space.count[s]!;
    if (seen >= minSeen) {
      const rank = Math.floor((c * N) / seen);
      const band = rank >= p.hotThreshold ? BAND_HOT : p.fillThreshold > 0 && rank >= p.fillThreshold ? BAND_FILL : -1;
      if (band >= 0) hot[s] = bandBase(N, band + space.hotBefore[s]!) + rank;
    }
    if (seen === N && c <= p.coldThreshold && space.coldConfirmed(s)) cold[s] = c;
    else if (seen === N) warm[s] = c;
  }
  return { hot, cold, warm };
}

/**
 * Turns heat + placement + capacity into a plan: promote the highest-ranked hot pages of slower
 * tiers into the fast tier's free room (minus headroom), demote confirmed-cold pages of faster
 * tiers (first as many as the promotions need room for), all within the per-period cap and
 * never a page moved in the last minResidency periods.
 */
export class Planner {
  private qAddrs = new Float64Array(1024);
  private qStatus = new Int32Array(1024);
  private qSeg = new Int32Array(1024);
  private qSlot = new Int32Array(1024);

  constructor(private readonly kernel: Kernel) {}

  plan(targets: Target[], topo: Topology, space: StateSpace, period: number, p: PlannerParams): Plan {
    const tiers = topo.tiers.length;
    const tierOfNode = new Map(topo.nodes.map((n) => [n.id, n.tier]));
    const { hot, cold, warm } = stateTables(space, p);
    const N = space.N;
    const plan: Plan = {
      period, walks: N, lists: [], promoteBytes: 0, demoteBytes: 0,
      hotBytes: new Array<number>(tiers + 1).fill(0), coldBytes: new Array<number>(tiers + 1).fill(0),
      trackedBytes: new Array<number>(tiers + 1).fill(0), hotSetBytes: 0, warmSetBytes: 0, placementQueries: 0, notes: [],
    };

    // 1. look up the placement of candidates whose tier is unknown, and re-check a quarter of
    //    the hot pages believed in the fast tier (bounded per period)
    let budget = p.placementQueries;
    for (const t of targets) {
      if (t.gone || budget <= 0) continue;
      budget -= this.discover(t, space, hot, cold, tierOfNode, budget, period & 3);
    }
    plan.placementQueries = p.placementQueries - budget;

    // 2. histograms: pages per state in one pass (one increment per page), then per state:
    //    promotion bytes by rank, demotion bytes by source tier and coldness, warm fast-tier bytes
    const promo = new Float64Array(bandBase(N, 4));
    const HOT = bandBase(N, BAND_HOT);
    const CONFIRMED = bandBase(N, BAND_HOT + 1);
    const demo: Float64Array[] = Array.from({ length: tiers }, () => new Float64Array(N + 1));
    const warm0 = new Float64Array(N + 1); // fast-tier pages by count, full evidence, not confirmed cold
    const ts = space.tierSlot;
    const bytesOf = new Float64Array(space.size);
    const blockedOf = new Float64Array(space.size); // bytes of pages moved too recently to move again
    const pagesOf = new Float64Array(space.size);
    for (const t of targets) {
      if (t.gone) continue;
      for (const seg of t.heat.segments) {
        const st = seg.states;
        pagesOf.fill(0);
        for (let i = 0; i < seg.length; i++) pagesOf[st[i]!]!++;
        const size = seg.pageSize;
        for (let s = 0; s < space.size; s++) if (pagesOf[s]! > 0) bytesOf[s]! += pagesOf[s]! * size;
      }
      // the move history is bounded by the rate limits, not by the process: subtract it
      t.history.forEachRecent(period, p.minResidency, (addr) => {
        const loc = t.heat.locate(addr);
        if (loc) blockedOf[loc.seg.states[loc.slot]!]! += loc.seg.pageSize;
      });
    }
    for (let s = 0; s < space.size; s++) {
      const bytes = bytesOf[s]!;
      if (bytes === 0) continue;
      const free = bytes - blockedOf[s]!;
      const slot = ts[s]!;
      const tier = slot === 0 ? tiers : slot - 1;
      plan.trackedBytes[tier]! += bytes;
      const h = hot[s]!;
      if (h !== NONE) {
        if (h >= HOT) plan.hotBytes[tier]! += bytes;
        if (h >= HOT && h % (N + 1) === N) plan.hotSetBytes += bytes;
        plan.warmSetBytes += bytes;
        if (slot > 1) {
          promo[h]! += free;
          continue;
        }
      }
      const c = cold[s]!;
      if (c !== NONE) {
        plan.coldBytes[tier]! += bytes;
        if (slot !== 0 && slot < tiers) demo[slot - 1]![c]! += free;
      } else if (slot === 1 && tiers > 1 && warm[s] !== NONE && space.hotBefore[s] === 0) {
        warm0[warm[s]!]! += free;
      }
    }

    // 3. budgets: room per node, promotions into the top tier, demotions one tier down
    const room = new Map<number, number>();
    // whole pages; below zero when other allocations took the node under its headroom (a deficit)
    for (const n of topo.nodes) room.set(n.id, Math.floor(roomOn(n, p.headroom) / 4096) * 4096);
    const tierRoom = (t: number): number => Math.max(0, (topo.tiers[t] ?? []).reduce((s, id) => s + Math.max(0, room.get(id)!), 0));
    const deficit = Math.max(0, -(topo.tiers[0] ?? []).reduce((s, id) => s + room.get(id)!, 0));
    const destTier = (t: number): number => (p.demoteToLowest ? tiers - 1 : t + 1);
    let cap = p.periodCap;
    const sum = (a: Float64Array, from = 0): number => a.subarray(from).reduce((x, y) => x + y, 0);
    const hotWant = Math.min(sum(promo, HOT), cap);
    const confirmedWant = Math.min(sum(promo, CONFIRMED), hotWant);
    const fillWant = sum(promo) - sum(promo, HOT);
    const coldTop = tiers > 1 ? sum(demo[0]!) : 0;
    let promoteBudget = Math.min(hotWant, tierRoom(0));
    let demoteBudget = new Array<number>(tiers).fill(0);
    let exchange = 0;
    if (tiers > 1) {
      // the fast tier is short: demote its coldest pages first, promote into the room they free
      // (a deficit is paid first: the room a demotion frees under the headroom is not room)
      const short = hotWant - promoteBudget;
      const forRoom = Math.min(Math.ceil((short + deficit) / 4096) * 4096, coldTop, tierRoom(destTier(0)), cap - promoteBudget);
      demoteBudget[0] = forRoom;
      promoteBudget += Math.max(0, Math.min(forRoom - deficit, cap - promoteBudget - forRoom));
      cap -= promoteBudget + forRoom;
      // still short: exchange warm fast-tier pages for clearly hotter ones (counts apart by
      // exchangeGap), marked hot pages for unmarked ones (one period's count is noisy:
      // exchanging on it swaps equally warm pages back and forth);
      // what is left of a deficit is paid first, else the exchange would demote pages into
      // room that the promotions then cannot use
      const stillShort = confirmedWant - promoteBudget;
      const unpaid = Math.max(0, deficit - forRoom);
      if (stillShort > 0 && p.exchangeGap > 0) {
        const lowestWanted = cut(promo, confirmedWant, true).rank % (N + 1);
        let avail = 0;
        for (let c = 0; c <= lowestWanted - p.exchangeGap; c++) avail += warm0[c]!;
        exchange = Math.max(0, Math.min(stillShort + unpaid, avail, tierRoom(destTier(0)) - forRoom, cap / 2));
        if (exchange <= unpaid) exchange = 0;
        promoteBudget += Math.max(0, exchange - unpaid);
        cap -= 2 * exchange;
      }
      // the fast tier's room once the hot moves are done, and the reserve kept free in it
      const roomAfter = tierRoom(0) - deficit + forRoom + exchange - promoteBudget;
      const reserve = p.freeReserve * (topo.tiers[0] ?? []).reduce((s, id) => s + (topo.nodes.find((n) => n.id === id)?.memTotalBytes ?? 0), 0);
      // room beyond the reserve: warm pages fill it, highest count first; they are the first the
      // exchange reclaims when hot pages need the room
      const fill = Math.max(0, Math.min(fillWant, roomAfter - reserve, cap));
      promoteBudget += fill;
      cap -= fill;
      // then confirmed-cold pages: out of the fast tier only as far as the reserve needs (a
      // cold page in otherwise free room costs nothing, and moving it and a warm page back and
      // forth would be churn), out of the middle tiers all of them, within the cap
      const coldWant = (t: number): number => (t === 0 ? Math.max(0, reserve - (roomAfter - fill)) : Infinity);
      for (let t = 0; t < tiers - 1; t++) {
        const extra = Math.max(0, Math.min(sum(demo[t]!) - demoteBudget[t]!, coldWant(t), tierRoom(destTier(t)) - demoteBudget[t]!, cap));
        demoteBudget[t]! += extra;
        cap -= extra;
      }
    } else {
      demoteBudget = [0];
      promoteBudget = 0;
    }

    // 4. thresholds by rank (promotion) and by coldness (demotion)
    const promoCut = cut(promo, promoteBudget, true);
    const demoCut = demo.map((h, t) => cut(h, demoteBudget[t] ?? 0, false));
    const warmCut = cut(warm0, exchange, false);
    let warmLeft = exchange;
    const partialW = { left: warmCut.partial };

    // 5. collect addresses, assigning each move to the node with the most room in its tier
    const pick = (tier: number, bytes: number): number => {
      let best = -1;
      let bestRoom = -Infinity; // room may be spent below zero: demotions free more than it counts
      for (const id of topo.tiers[tier] ?? []) {
        const r = room.get(id)!;
        if (r > bestRoom) {
          best = id;
          bestRoom = r;
        }
      }
      if (best >= 0) room.set(best, bestRoom - bytes);
      return best;
    };
    let promLeft = promoteBudget;
    const demLeft = [...demoteBudget];
    const partialP = { left: promoCut.partial };
    const partialD = demoCut.map((c) => ({ left: c.partial }));
    // one look-up per page decides whether it is a candidate at all
    const PROMOTE = 1;
    const COLD = 2;
    const WARM = 3;
    const want = new Uint8Array(space.size);
    for (let s = 0; s < space.size; s++) {
      const slot = ts[s]!;
      if (slot === 0) continue;
      const tier = slot - 1;
      const h = hot[s]!;
      if (h !== NONE && slot > 1) {
        if (h >= promoCut.rank) want[s] = PROMOTE;
        continue;
      }
      const c = cold[s]!;
      if (c !== NONE) {
        if (tier < tiers - 1 && c <= demoCut[tier]!.rank) want[s] = COLD;
      } else if (tier === 0 && warm[s] !== NONE && warm[s]! <= warmCut.rank && exchange > 0 && space.hotBefore[s] === 0) {
        want[s] = WARM;
      }
    }
    for (const t of targets) {
      if (t.gone) continue;
      const list = new PlanList(t);
      for (const seg of t.heat.segments) {
        const st = seg.states;
        const size = seg.pageSize;
        const shift = seg.shift;
        for (let i = 0; i < seg.length; i++) {
          const s = st[i]!;
          const w = want[s]!;
          if (w === 0) continue;
          const addr = seg.start + i * size;
          if (w === PROMOTE) {
            const h = hot[s]!;
            if (promLeft < size) continue;
            if (h === promoCut.rank) {
              if (partialP.left < size || t.history.recentlyMoved(addr, period, p.minResidency)) continue;
              partialP.left -= size;
            } else if (t.history.recentlyMoved(addr, period, p.minResidency)) continue;
            promLeft -= size;
            list.push(addr, shift, pick(0, size), Dir.PROMOTE, h >= HOT ? Reason.HOT : Reason.FILL, space.count[s]!);
          } else if (w === COLD) {
            const c = cold[s]!;
            const tier = ts[s]! - 1;
            if (demLeft[tier]! < size) continue;
            if (c === demoCut[tier]!.rank) {
              if (partialD[tier]!.left < size || t.history.recentlyMoved(addr, period, p.minResidency)) continue;
              partialD[tier]!.left -= size;
            } else if (t.history.recentlyMoved(addr, period, p.minResidency)) continue;
            demLeft[tier]! -= size;
            list.push(addr, shift, pick(destTier(tier), size), Dir.DEMOTE, Reason.COLD, space.count[s]!);
          } else {
            if (warmLeft < size) continue;
            if (warm[s] === warmCut.rank) {
              if (partialW.left < size || t.history.recentlyMoved(addr, period, p.minResidency)) continue;
              partialW.left -= size;
            } else if (t.history.recentlyMoved(addr, period, p.minResidency)) continue;
            warmLeft -= size;
            list.push(addr, shift, pick(destTier(0), size), Dir.DEMOTE, Reason.EXCHANGE, space.count[s]!);
          }
        }
      }
      if (list.length > 0) {
        plan.lists.push(list);
        plan.promoteBytes += list.bytes(Dir.PROMOTE);
        plan.demoteBytes += list.bytes(Dir.DEMOTE);
      }
    }
    if (hotWant > promoteBudget) plan.notes.push(`fast tier short: ${Math.round(hotWant - promoteBudget)} hot bytes stay on slower tiers this period`);
    return plan;
  }

  /**
   * Query the node of unknown-tier candidates, and of the hot pages believed in the fast tier
   * whose index is `stripe` mod 4; returns the number of pages queried. A believed placement
   * goes stale when something else moves the page (the application's own move_pages or mbind,
   * the kernel's demotion or NUMA balancing): a hot page wrongly believed in the fast tier
   * would never be planned again, so every hot page is re-checked every four periods.
   */
  private discover(t: Target, space: StateSpace, hot: Uint8Array, cold: Uint8Array, tierOfNode: Map<number, number>, budget: number, stripe: number): number {
    const addrs = this.qAddrs;
    const status = this.qStatus;
    const qSeg = this.qSeg;
    const qSlot = this.qSlot;
    let pending = 0;
    let queried = 0;
    const flush = (): void => {
      const n = pending;
      if (n === 0) return;
      status.fill(-1, 0, n);
      try {
        this.kernel.movePages(t.id.pid, n, addrs, null, status, 0);
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ERRNO.ESRCH) t.gone = true;
        else throw e;
      }
      for (let k = 0; k < n; k++) {
        const node = status[k]!;
        if (node < 0) continue;
        const tier = tierOfNode.get(node);
        if (tier === undefined) continue;
        const seg = t.heat.segments[qSeg[k]!]!;
        seg.states[qSlot[k]!] = space.withTier(seg.states[qSlot[k]!]!, tier + 1);
      }
      queried += n;
      pending = 0;
    };
    const segs = t.heat.segments;
    for (let g = 0; g < segs.length && !t.gone; g++) {
      const seg = segs[g]!;
      const st = seg.states;
      for (let i = 0; i < seg.length; i++) {
        const s = st[i]!;
        const slot = space.tierSlot[s]!;
        const recheck = slot === 1 && hot[s] !== NONE && (i & 3) === stripe;
        if (!recheck && (slot !== 0 || (hot[s] === NONE && cold[s] === NONE))) continue;
        addrs[pending] = seg.start + i * seg.pageSize;
        qSeg[pending] = g;
        qSlot[pending] = i;
        pending++;
        if (pending === addrs.length) flush();
        if (queried + pending >= budget) break;
      }
      if (queried + pending >= budget) break;
    }
    if (!t.gone) flush();
    return queried;
  }
}

/**
 * Where a budget cuts a histogram: every bucket beyond `rank` is taken whole, bucket `rank`
 * takes `partial` bytes. Descending (promotion: highest rank first) or ascending (coldest first).
 */
function cut(hist: Float64Array, budget: number, descending: boolean): { rank: number; partial: number } {
  let left = budget;
  const n = hist.length;
  for (let k = 0; k < n; k++) {
    const r = descending ? n - 1 - k : k;
    const b = hist[r]!;
    if (b === 0) continue;
    if (b >= left) return { rank: r, partial: left };
    left -= b;
  }
  return descending ? { rank: 0, partial: Infinity } : { rank: n - 1, partial: Infinity };
}
