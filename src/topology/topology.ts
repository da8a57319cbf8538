import type { NodeInfo, RawTopology } from '../kernel/types.js';
import { TierdError } from '../util/errors.js';

export interface TierNode {
  id: number;
  /** 0 = fastest */
  tier: number;
  evidence: string;
  cpus: number[];
  memTotalBytes: number;
  memFreeBytes: number;
  /** free memory the kernel keeps back (zone high watermarks and lowmem reserves; see NodeInfo) */
  reservedBytes: number;
  distance: Record<number, number>;
  /** nearest node of the next tier up / down, null at the ends */
  promoteTo: number | null;
  demoteTo: number | null;
}

/**
 * Bytes a node can still take from moves: its free memory less the larger of tierd's headroom
 * and the kernel's watermarks (move_pages below them fails with ENOMEM and a kernel warning).
 */
export function roomOn(n: { memFreeBytes: number; memTotalBytes: number; reservedBytes: number }, headroom: number): number {
  return n.memFreeBytes - Math.max(headroom * n.memTotalBytes, n.reservedBytes);
}

export interface Topology {
  nodes: TierNode[];
  /** tiers[t] = node ids of tier t, fastest first */
  tiers: number[][];
  conflicts: string[];
}

/** An explicit node map from the config: node id → tier (and optional targets). */
export interface NodeMapEntry {
  tier: number;
  promoteTo?: number;
  demoteTo?: number;
}

type Evidence = { tiers: Map<number, number>; why: (n: NodeInfo) => string } | null;

/**
 * Classify memory nodes into tiers by the best evidence available, in order: explicit config,
 * the 2018 nodeN/type file, kernel memory tiers, HMAT read latency, then CPU-less and distance.
 * A source is used only when it covers every memory node and tells at least two tiers apart
 * (or is the config, which always wins).
 */
export function classify(raw: RawTopology, nodeMap?: Record<number, NodeMapEntry>, demoteToLowest = false): Topology {
  const mem = raw.nodes.filter((n) => n.online && n.hasMemory);
  if (mem.length === 0) throw new TierdError('NO_FEATURE', 'no online NUMA node with memory', 'check /sys/devices/system/node');
  const ev =
    fromConfig(mem, nodeMap) ??
    fromTypeFile(mem) ??
    fromKernelTiers(mem) ??
    fromHmat(mem) ??
    fromCpuless(mem);
  const rank = new Map<number, number>();
  [...new Set(ev.tiers.values())].sort((a, b) => a - b).forEach((v, i) => rank.set(v, i));
  const nodes: TierNode[] = mem.map((n) => ({
    id: n.id,
    tier: rank.get(ev.tiers.get(n.id)!)!,
    evidence: ev.why(n),
    cpus: n.cpus,
    memTotalBytes: n.memTotalBytes,
    memFreeBytes: n.memFreeBytes,
    reservedBytes: n.reservedBytes ?? 0,
    distance: n.distance,
    promoteTo: null,
    demoteTo: null,
  }));
  const tiers: number[][] = [];
  for (const n of nodes) (tiers[n.tier] ??= []).push(n.id);
  for (const n of nodes) {
    const up = n.tier > 0 ? tiers[n.tier - 1]! : [];
    const downTier = demoteToLowest ? tiers.length - 1 : n.tier + 1;
    const down = n.tier < tiers.length - 1 ? tiers[downTier]! : [];
    n.promoteTo = nodeMap?.[n.id]?.promoteTo ?? nearest(n, up);
    n.demoteTo = nodeMap?.[n.id]?.demoteTo ?? nearest(n, down);
  }
  return { nodes, tiers, conflicts: conflicts(raw, nodes) };
}

function nearest(from: TierNode, ids: number[]): number | null {
  let best: number | null = null;
  let bestD = Infinity;
  for (const id of ids) {
    const d = from.distance[id] ?? 255;
    if (d < bestD || (d === bestD && best !== null && id < best)) {
      best = id;
      bestD = d;
    }
  }
  return best;
}

function distinct(m: Map<number, number>): number {
  return new Set(m.values()).size;
}

function fromConfig(mem: NodeInfo[], map?: Record<number, NodeMapEntry>): Evidence {
  if (!map || Object.keys(map).length === 0) return null;
  const tiers = new Map<number, number>();
  for (const n of mem) {
    const e = map[n.id];
    if (!e) throw new TierdError('CONFIG', `nodes.map has no entry for memory node ${n.id}`, `add node ${n.id} to nodes.map, or set nodes: auto`);
    tiers.set(n.id, e.tier);
  }
  return { tiers, why: () => 'config (nodes.map)' };
}

function fromTypeFile(mem: NodeInfo[]): Evidence {
  if (!mem.every((n) => n.type !== undefined)) return null;
  const tiers = new Map(mem.map((n) => [n.id, n.type === 'dram' ? 0 : 1]));
  return distinct(tiers) >= 2 || mem.length === 1 ? { tiers, why: (n) => `nodeN/type = ${n.type}` } : null;
}

function fromKernelTiers(mem: NodeInfo[]): Evidence {
  if (!mem.every((n) => n.memoryTier !== undefined)) return null;
  const tiers = new Map(mem.map((n) => [n.id, n.memoryTier!]));
  return distinct(tiers) >= 2 || mem.length === 1 ? { tiers, why: (n) => `kernel memory_tier${n.memoryTier}` } : null;
}

function fromHmat(mem: NodeInfo[]): Evidence {
  if (!mem.every((n) => n.hmat?.readLatencyNs !== undefined)) return null;
  // nodes within 30% of each other's read latency share a tier
  const sorted = [...mem].sort((a, b) => a.hmat!.readLatencyNs! - b.hmat!.readLatencyNs!);
  const tiers = new Map<number, number>();
  let tier = 0;
  let base = sorted[0]!.hmat!.readLatencyNs!;
  for (const n of sorted) {
    const lat = n.hmat!.readLatencyNs!;
    if (lat > base * 1.3) {
      tier++;
      base = lat;
    }
    tiers.set(n.id, tier);
  }
  // measured latencies are evidence even when they say the nodes are alike (HBM is CPU-less and fast)
  return { tiers, why: (n) => `HMAT read latency ${n.hmat!.readLatencyNs} ns` };
}

function fromCpuless(mem: NodeInfo[]): NonNullable<Evidence> {
  const withCpu = mem.filter((n) => n.hasCpu);
  const tiers = new Map<number, number>();
  for (const n of mem) {
    if (n.hasCpu || withCpu.length === 0) {
      tiers.set(n.id, 0);
      continue;
    }
    // a CPU-less node is usually PMEM or CXL; the farther it is, the slower we take it to be
    const d = Math.min(...withCpu.map((c) => c.distance[n.id] ?? 255));
    tiers.set(n.id, d);
  }
  return {
    tiers,
    why: (n) => (n.hasCpu ? 'has CPUs' : 'CPU-less (taken as slower; if it is HBM, set nodes.map in the config)'),
  };
}

function conflicts(raw: RawTopology, nodes: TierNode[]): string[] {
  const out: string[] = [];
  const multiTier = nodes.some((n) => n.tier > 0);
  if (raw.numaBalancing !== null && (raw.numaBalancing & 2) !== 0) {
    out.push('kernel.numa_balancing has the memory-tiering bit (2): the kernel promotes pages itself and will fight tierd; set it to 0');
  } else if (raw.numaBalancing === 1 && multiTier) {
    out.push('kernel.numa_balancing = 1 moves pages back toward CPUs and undoes demotions; set it to 0');
  }
  if (raw.demotionEnabled === true) {
    out.push('/sys/kernel/mm/numa/demotion_enabled is true: reclaim demotes pages behind tierd; set it to false');
  }
  return out;
}

export function nodeById(t: Topology, id: number): TierNode | undefined {
  return t.nodes.find((n) => n.id === id);
}

/** The memory of a tier's nodes, in bytes (the fast tier's size for the free reserve and the fill rule). */
export function tierBytes(t: Topology, tier: number): number {
  return (t.tiers[tier] ?? []).reduce((s, id) => s + (nodeById(t, id)?.memTotalBytes ?? 0), 0);
}

/** node id → tier index, -1 for a node not in the topology: a look-up per page without a Map */
export function tierIndex(topo: Topology): Int32Array {
  const ids = topo.nodes.map((n) => n.id);
  const out = new Int32Array(Math.max(0, ...ids) + 1).fill(-1);
  for (const n of topo.nodes) out[n.id] = n.tier;
  return out;
}
