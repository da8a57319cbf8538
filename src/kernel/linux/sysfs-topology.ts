import type { NodeInfo, RawTopology } from '../types.js';
import { listDir, parseList, readInt, readText } from './files.js';

/** Free memory per node now (nodeN/meminfo), for a cached topology between full reads. */
export function readNodeFree(sysRoot: string, id: number): number | undefined {
  const t = readText(`${sysRoot}/devices/system/node/node${id}/meminfo`);
  return t === undefined ? undefined : parseNodeMeminfo(t).free;
}

/** Per node, free and kept-back bytes from /proc/zoneinfo (parseZoneinfo); null without the file. */
export function readZones(procRoot: string): Map<number, ZoneRoom> | null {
  const t = readText(`${procRoot}/zoneinfo`);
  return t === undefined ? null : parseZoneinfo(t);
}

/** Read every NUMA node's facts from sysfs and procfs. */
export function readTopology(sysRoot: string, procRoot: string): RawTopology {
  const base = `${sysRoot}/devices/system/node`;
  const online = new Set(parseList(readText(`${base}/online`)));
  const possible = parseList(readText(`${base}/possible`) ?? readText(`${base}/online`));
  const hasCpu = new Set(parseList(readText(`${base}/has_cpu`)));
  const hasMemory = new Set(parseList(readText(`${base}/has_memory`)));
  const tierOf = memoryTiers(sysRoot);
  const zones = readZones(procRoot) ?? new Map<number, ZoneRoom>();
  const ids = possible.length > 0 ? possible : [...online];
  const nodes: NodeInfo[] = [];
  for (const id of ids) {
    const dir = `${base}/node${id}`;
    const meminfo = readText(`${dir}/meminfo`);
    if (meminfo === undefined && !online.has(id)) continue;
    const mem = parseNodeMeminfo(meminfo ?? '');
    const distances = (readText(`${dir}/distance`) ?? '').trim().split(/\s+/).map(Number);
    const distance: Record<number, number> = {};
    ids.forEach((other, i) => {
      const d = distances[i];
      if (d !== undefined && Number.isFinite(d)) distance[other] = d;
    });
    const node: NodeInfo = {
      id,
      online: online.has(id),
      hasCpu: hasCpu.has(id),
      hasMemory: hasMemory.has(id),
      cpus: parseList(readText(`${dir}/cpulist`)),
      memTotalBytes: mem.total,
      memFreeBytes: zones.get(id)?.free ?? mem.free,
      distance,
    };
    const tier = tierOf.get(id);
    if (tier !== undefined) node.memoryTier = tier;
    const z = zones.get(id);
    if (z !== undefined) {
      node.reservedBytes = z.reserved;
      node.slackBytes = z.slack;
    }
    const type = readText(`${dir}/type`)?.trim();
    if (type === 'dram' || type === 'pmem') node.type = type;
    const peer = readInt(`${dir}/peer_node`);
    if (peer !== undefined) node.peerNode = peer;
    const hmat = readHmat(`${dir}/access0/initiators`);
    if (hmat) node.hmat = hmat;
    const huge = readHugePages(`${dir}/hugepages`);
    if (huge.length > 0) node.hugePages = huge;
    nodes.push(node);
  }
  const nb = readInt(`${procRoot}/sys/kernel/numa_balancing`);
  const de = readText(`${sysRoot}/kernel/mm/numa/demotion_enabled`)?.trim();
  return {
    nodes,
    numaBalancing: nb ?? null,
    demotionEnabled: de === undefined ? null : de === 'true' || de === '1',
  };
}

/** A node's free memory, the part of it an allocation for a page we move cannot take, and the slack below that. */
export interface ZoneRoom {
  /** the zones' free pages (MemFree), without the per-cpu lists */
  free: number;
  /**
   * per zone, the free pages under its high watermark (or min plus one per-cpu refill, if that
   * is higher) plus its lowmem reserve, at most its free pages
   */
  reserved: number;
  /** of what is kept back, per zone, the part above min plus one per-cpu refill (and the lowmem reserve) */
  slack: number;
}

/** CONFIG_PCP_BATCH_SCALE_MAX's default: nr_pcp_alloc doubles a refill up to batch << 5 */
const PCP_BATCH_SCALE_MAX = 5;

/**
 * Most pages one per-cpu list refill takes from a zone at once: the largest batch the kernel
 * sizes (63 pages: zone_batchsize caps it at 1 MiB / 4, rounded to 2^n − 1) scaled up by
 * CONFIG_PCP_BATCH_SCALE_MAX in nr_pcp_alloc. A zone whose pagesets print their batch refills
 * at most that batch scaled the same way.
 */
export const PCP_REFILL_MAX_PAGES = 63 << PCP_BATCH_SCALE_MAX;

/**
 * Node id → free, kept-back and slack bytes, per zone of /proc/zoneinfo. move_pages allocates
 * with __GFP_THISNODE: the fast path wants a zone's free pages above its low watermark plus the
 * reserve it keeps for allocations that may use higher zones (protection, the last entry for
 * movable pages), the slow path above min; below min, on a node whose memory reclaim cannot
 * free (anonymous, no swap), it fails with ENOMEM and a kernel warning. The watermark test reads
 * the zone's free pages only, not the per-cpu lists, and a refill of a list can take up to its
 * batch << 5 (PCP_REFILL_MAX_PAGES where zoneinfo prints no batch) from the zone after the test
 * passed: 2016 pages in a large zone, 32 in the 16 MiB DMA zone (batch 1), where counting a
 * large zone's refill kept 7.8 MiB of the VM's node 0 from every promotion. So room starts
 * above the high watermark (where kswapd is not woken, and NUMA balancing's own promotions stop
 * too) or above min plus one refill where a zone's watermarks are closer than that, and the
 * per-cpu lists are not room: `test/vm/guest/room-probe.mjs` failed with 9 MiB on them and the
 * zone under min. The slack is what the mover may lend against pages its own demotions just
 * freed onto its CPU's list (see Mover.refreshFree).
 */
export function parseZoneinfo(text: string, pageSize = 4096): Map<number, ZoneRoom> {
  const out = new Map<number, ZoneRoom>();
  let node: ZoneRoom | null = null;
  let zone = { free: 0, min: 0, high: 0, protection: 0, batch: 0 };
  const close = (): void => {
    if (node === null) return;
    node.free += zone.free * pageSize;
    const refill = zone.batch > 0 ? Math.min(PCP_REFILL_MAX_PAGES, zone.batch << PCP_BATCH_SCALE_MAX) : PCP_REFILL_MAX_PAGES;
    const lowest = zone.min + refill + zone.protection;
    const kept = Math.min(zone.free, Math.max(zone.high + zone.protection, lowest));
    node.reserved += kept * pageSize;
    node.slack += Math.max(0, kept - lowest) * pageSize;
  };
  for (const l of text.split('\n')) {
    const head = /^Node (\d+), zone/.exec(l);
    if (head) {
      close();
      const id = Number(head[1]);
      node = out.get(id) ?? { free: 0, reserved: 0, slack: 0 };
      out.set(id, node);
      zone = { free: 0, min: 0, high: 0, protection: 0, batch: 0 };
      continue;
    }
    let m: RegExpExecArray | null;
    // the zone's own "high" (no colon); the per-cpu pagesets print "high:"
    if ((m = /^\s+pages free\s+(\d+)$/.exec(l))) zone.free = Number(m[1]);
    else if ((m = /^\s+(min|high)\s+(\d+)$/.exec(l))) zone[m[1] as 'min' | 'high'] = Number(m[2]);
    else if ((m = /^\s+protection: \((.*)\)$/.exec(l))) zone.protection = Number(m[1]!.split(',').pop()) || 0;
    else if ((m = /^\s+batch:\s+(\d+)$/.exec(l))) zone.batch = Math.max(zone.batch, Number(m[1]));
  }
  close();
  return out;
}

export function parseNodeMeminfo(text: string): { total: number; free: number } {
  const total = /MemTotal:\s+(\d+) kB/.exec(text);
  const free = /MemFree:\s+(\d+) kB/.exec(text);
  return { total: total ? Number(total[1]) * 1024 : 0, free: free ? Number(free[1]) * 1024 : 0 };
}

function memoryTiers(sysRoot: string): Map<number, number> {
  const out = new Map<number, number>();
  const dir = `${sysRoot}/devices/virtual/memory_tiering`;
  for (const name of listDir(dir)) {
    const m = /^memory_tier(\d+)$/.exec(name);
    if (!m) continue;
    for (const node of parseList(readText(`${dir}/${name}/nodelist`) ?? readText(`${dir}/${name}/nodes`))) out.set(node, Number(m[1]));
  }
  return out;
}

function readHmat(dir: string): NodeInfo['hmat'] | undefined {
  const h: NonNullable<NodeInfo['hmat']> = {};
  const rl = readInt(`${dir}/read_latency`);
  const wl = readInt(`${dir}/write_latency`);
  const rb = readInt(`${dir}/read_bandwidth`);
  const wb = readInt(`${dir}/write_bandwidth`);
  if (rl !== undefined) h.readLatencyNs = rl;
  if (wl !== undefined) h.writeLatencyNs = wl;
  if (rb !== undefined) h.readBandwidthMBps = rb;
  if (wb !== undefined) h.writeBandwidthMBps = wb;
  return Object.keys(h).length > 0 ? h : undefined;
}

function readHugePages(dir: string): { sizeBytes: number; total: number; free: number }[] {
  const out: { sizeBytes: number; total: number; free: number }[] = [];
  for (const name of listDir(dir)) {
    const m = /^hugepages-(\d+)kB$/.exec(name);
    if (!m) continue;
    out.push({
      sizeBytes: Number(m[1]) * 1024,
      total: readInt(`${dir}/${name}/nr_hugepages`) ?? 0,
      free: readInt(`${dir}/${name}/free_hugepages`) ?? 0,
    });
  }
  return out;
}
