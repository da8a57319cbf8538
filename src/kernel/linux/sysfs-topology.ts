import type { NodeInfo, RawTopology } from '../types.js';
import { listDir, parseList, readInt, readText } from './files.js';

/** Free memory per node now (nodeN/meminfo), for a cached topology between full reads. */
export function readNodeFree(sysRoot: string, id: number): number | undefined {
  const t = readText(`${sysRoot}/devices/system/node/node${id}/meminfo`);
  return t === undefined ? undefined : parseNodeMeminfo(t).free;
}

/** Free bytes per node with the per-cpu lists (parseZoneinfoFree); null without /proc/zoneinfo. */
export function readZoneFree(procRoot: string): Map<number, number> | null {
  const t = readText(`${procRoot}/zoneinfo`);
  return t === undefined ? null : parseZoneinfoFree(t);
}

/** Read every NUMA node's facts from sysfs and procfs. */
export function readTopology(sysRoot: string, procRoot: string): RawTopology {
  const base = `${sysRoot}/devices/system/node`;
  const online = new Set(parseList(readText(`${base}/online`)));
  const possible = parseList(readText(`${base}/possible`) ?? readText(`${base}/online`));
  const hasCpu = new Set(parseList(readText(`${base}/has_cpu`)));
  const hasMemory = new Set(parseList(readText(`${base}/has_memory`)));
  const tierOf = memoryTiers(sysRoot);
  const zoneinfo = readText(`${procRoot}/zoneinfo`) ?? '';
  const reserved = parseZoneinfoReserved(zoneinfo);
  const zoneFree = parseZoneinfoFree(zoneinfo);
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
      memFreeBytes: zoneFree.get(id) ?? mem.free,
      distance,
    };
    const tier = tierOf.get(id);
    if (tier !== undefined) node.memoryTier = tier;
    const r = reserved.get(id);
    if (r !== undefined) node.reservedBytes = r;
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

/**
 * Node id → free bytes an allocation on it can get: the zones' free pages plus the pages on
 * the per-cpu lists (zoneinfo's pageset "count:"). MemFree counts only the former; in the VM
 * the per-cpu lists of a 1 GiB node held 9 to 38 MiB, and freed pages of a demotion go there
 * first, so room measured by MemFree alone vanished right after the demotions that made it.
 * An allocation below the watermarks drains them (drain_all_pages) and gets them.
 */
export function parseZoneinfoFree(text: string, pageSize = 4096): Map<number, number> {
  return sumPerNode(text, /^\s+(?:pages free|count:)\s+(\d+)$/, pageSize);
}

/** Node id → bytes under the high watermarks of its zones, from /proc/zoneinfo. */
export function parseZoneinfoReserved(text: string, pageSize = 4096): Map<number, number> {
  // the zone's own "high" (no colon); the per-cpu pagesets print "high:"
  return sumPerNode(text, /^\s+high\s+(\d+)$/, pageSize);
}

/** Sum, per node of /proc/zoneinfo, the page counts of the lines that `line` matches. */
function sumPerNode(text: string, line: RegExp, pageSize: number): Map<number, number> {
  const out = new Map<number, number>();
  let node = -1;
  for (const l of text.split('\n')) {
    const head = /^Node (\d+), zone/.exec(l);
    if (head) {
      node = Number(head[1]);
      if (!out.has(node)) out.set(node, 0);
      continue;
    }
    const m = node >= 0 ? line.exec(l) : null;
    if (m) out.set(node, out.get(node)! + Number(m[1]) * pageSize);
  }
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
