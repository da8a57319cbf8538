import type { DamosContext, DamosScheme } from '../kernel/types.js';
import { roomOn, type Topology } from '../topology/topology.js';

export interface DamosQuotaParams {
  promoteRate: number;
  demoteRate: number;
  /** how fast promotions may eat into the fast tier's free reserve (migrate.damos.swapRate) */
  swapRate: number;
  /** free room kept in the fast tier, as a fraction of each node (policy.freeReserve) */
  freeReserve: number;
  /** free memory kept on every node (policy.headroom; the zone watermarks where larger) */
  headroom: number;
  /** the quotas' reset interval, ms */
  intervalMs: number;
}

/**
 * The schemes each node's kdamond runs: promote schemes where the node has a tier above it,
 * demote schemes where it has one below, one of each per memcg. Nodes with neither get none.
 */
export function damosContexts(topo: Topology, memcgs: readonly string[], dryRun: boolean): DamosContext[] {
  const out: DamosContext[] = [];
  for (const n of topo.nodes) {
    const schemes = [];
    for (const memcgPath of memcgs) {
      if (n.promoteTo !== null) schemes.push({ action: dryRun ? 'stat' : 'migrate_hot', direction: 'promote', targetNid: n.promoteTo, memcgPath } as const);
      if (n.demoteTo !== null) schemes.push({ action: dryRun ? 'stat' : 'migrate_cold', direction: 'demote', targetNid: n.demoteTo, memcgPath } as const);
    }
    if (schemes.length > 0) out.push({ node: n.id, schemes });
  }
  return out;
}

/** the most a scheme's quota may exceed what it should move (see nextGains) */
export const GAIN_MAX = 64;

/**
 * How far each scheme's quota must exceed what it should move. A DAMOS quota is charged by the
 * size of the regions a scheme tries, and the page filters run after: a region of other
 * processes' memory (page cache, tierd's own heap, anything outside the memcg) costs quota and
 * moves nothing. When such memory comes first in the order the kernel tries regions (by score,
 * or by address where every region scores alike), a quota equal to the bytes wanted is spent on
 * it every interval. The gain doubles while a scheme used its quota and
 * moved less than half of what was wanted, and halves once it moved all of it.
 */
export function nextGains(gains: number[][], wanted: number[][], quotas: number[][], tried: number[][], applied: number[][]): number[][] {
  return gains.map((row, k) =>
    row.map((g, i) => {
      const w = wanted[k]?.[i] ?? 0;
      const a = applied[k]?.[i] ?? 0;
      const spent = (tried[k]?.[i] ?? 0) >= 0.9 * (quotas[k]?.[i] ?? 0);
      if (w > 0 && spent && a < w / 2) return Math.min(GAIN_MAX, g * 2);
      if (w === 0 || a >= w) return Math.max(1, g / 2);
      return g;
    }),
  );
}

/** the quotas to set: what each scheme should move times its gain, within its rate */
export function gainedQuotas(contexts: readonly DamosContext[], wanted: number[][], gains: number[][], p: DamosQuotaParams): number[][] {
  return contexts.map((c, k) =>
    c.schemes.map((s, i) => {
      const cap = ((s.direction === 'promote' ? p.promoteRate : p.demoteRate) * p.intervalMs) / 1000;
      const w = wanted[k]?.[i] ?? 0;
      return w <= 0 ? 0 : Math.floor(Math.min(cap, w * (gains[k]?.[i] ?? 1)));
    }),
  );
}

/**
 * Bytes each scheme should move in the next interval. The kernel's own pattern and young filter
 * choose the pages; tierd's policy chooses how many:
 * - promotions, at most the rate: the target node's free room above its reserve at once, and
 *   below the reserve (down to the headroom: a migration past it fails in the kernel after the
 *   work of isolating the pages) at the swap rate. Below the reserve every promotion is paid for
 *   by a demotion, and the evidence is thin on both sides (touched once since the last check,
 *   over a window of seconds on the slow node): without the swap rate, a converged zipf kept
 *   exchanging ~8 MiB/s each way, two migrations a page that bought nothing;
 * - demotions only while a node has less free than its reserve, as far as the reserve needs
 *   and the room below takes. DAMON's schemes alone demote every cold page at once and bring
 *   them back when touched; a page that stays up until the room is needed cannot ping-pong.
 * A node's share is split evenly over the schemes (memcgs) that draw on it.
 */
export function damosQuotas(topo: Topology, contexts: readonly DamosContext[], p: DamosQuotaParams): number[][] {
  const perInterval = (rate: number): number => (rate * p.intervalMs) / 1000;
  const rooms = nodeRooms(topo, p, perInterval(p.swapRate));
  const share = sharingOf(contexts);
  return contexts.map((c) =>
    c.schemes.map((s) => {
      if (s.direction === 'promote') {
        const total = Math.min(perInterval(p.promoteRate), rooms.get(s.targetNid)?.promote ?? 0);
        return Math.floor(total / share(c.node, s));
      }
      const total = Math.min(perInterval(p.demoteRate), rooms.get(c.node)?.reserveNeed ?? 0, rooms.get(s.targetNid)?.room ?? 0);
      return Math.floor(total / share(c.node, s));
    }),
  );
}

/** What a node can take and what it lacks, in bytes, for one interval. */
interface NodeRoom {
  /** free above the headroom (or the watermarks): what demotions into it may fill */
  room: number;
  /** what its free memory lacks of the reserve: what demotions out of it should free */
  reserveNeed: number;
  /** what promotions into it may fill: the room above the reserve, and below it up to the swap allowance */
  promote: number;
}

function nodeRooms(topo: Topology, p: DamosQuotaParams, swapAllowance: number): Map<number, NodeRoom> {
  const out = new Map<number, NodeRoom>();
  for (const n of topo.nodes) {
    const room = Math.max(0, roomOn(n, p.headroom));
    const reserve = p.freeReserve * n.memTotalBytes;
    const aboveReserve = Math.min(room, Math.max(0, n.memFreeBytes - reserve));
    out.set(n.id, { room, reserveNeed: Math.max(0, reserve - n.memFreeBytes), promote: aboveReserve + Math.min(swapAllowance, room - aboveReserve) });
  }
  return out;
}

/** how many schemes share a scheme's budget: those promoting into its target node, or demoting out of its node */
function sharingOf(contexts: readonly DamosContext[]): (node: number, s: DamosScheme) => number {
  const key = (node: number, s: DamosScheme): string => (s.direction === 'promote' ? `p:${s.targetNid}` : `d:${node}`);
  const sharing = new Map<string, number>();
  for (const c of contexts) for (const s of c.schemes) sharing.set(key(c.node, s), (sharing.get(key(c.node, s)) ?? 0) + 1);
  return (node, s) => sharing.get(key(node, s)) ?? 1;
}
