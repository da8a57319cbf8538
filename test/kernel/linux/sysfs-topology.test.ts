import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readTopology } from '../../../src/kernel/linux/sysfs-topology.js';
import { classify } from '../../../src/topology/topology.js';

/** sysfs and procfs as the VM's kernel shows them: node 0 DRAM with CPUs, node 1 CPU-less and slower, node 2 possible but offline. */
function fixture(): { sys: string; proc: string } {
  const root = mkdtempSync(join(tmpdir(), 'tierd-sysfs-'));
  const sys = join(root, 'sys');
  const proc = join(root, 'proc');
  const files: Record<string, string> = {
    'devices/system/node/online': '0-1\n',
    'devices/system/node/possible': '0-2\n',
    'devices/system/node/has_cpu': '0\n',
    'devices/system/node/has_memory': '0-1\n',
    'devices/system/node/node0/meminfo': 'Node 0 MemTotal:        1048576 kB\nNode 0 MemFree:          524288 kB\n',
    'devices/system/node/node0/distance': '10 20 30\n',
    'devices/system/node/node0/cpulist': '0-1\n',
    'devices/system/node/node0/access0/initiators/read_latency': '100\n',
    'devices/system/node/node1/meminfo': 'Node 1 MemTotal:        2097152 kB\nNode 1 MemFree:         2000000 kB\n',
    'devices/system/node/node1/distance': '20 10 30\n',
    'devices/system/node/node1/cpulist': '\n',
    'devices/system/node/node1/access0/initiators/read_latency': '300\n',
    'devices/system/node/node1/access0/initiators/read_bandwidth': '5120\n',
    'devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages': '4\n',
    'devices/system/node/node1/hugepages/hugepages-2048kB/free_hugepages': '3\n',
    'devices/virtual/memory_tiering/memory_tier4/nodelist': '0\n',
    'devices/virtual/memory_tiering/memory_tier54/nodelist': '1\n',
    'kernel/mm/numa/demotion_enabled': 'false\n',
  };
  const procFiles: Record<string, string> = {
    'sys/kernel/numa_balancing': '0\n',
    // zone free pages, not the per-cpu lists' count; the zone's own high watermark (no colon)
    zoneinfo: ['Node 0, zone    DMA32', '  pages free     1000', '        high     300', '    pagesets', '    cpu: 0', '              count: 24', '              high:  378',
      'Node 1, zone   Normal', '  pages free     500000', '        high     1200', '    pagesets', '    cpu: 0', '              count: 0', ''].join('\n'),
  };
  for (const [base, set] of [[sys, files], [proc, procFiles]] as const) {
    for (const [f, v] of Object.entries(set)) {
      mkdirSync(dirname(join(base, f)), { recursive: true });
      writeFileSync(join(base, f), v);
    }
  }
  return { sys, proc };
}

test('sysfs topology: nodes, distances, CPUs, memory tiers, HMAT, huge pages; free memory and reserve from zoneinfo; an offline node left out', () => {
  const { sys, proc } = fixture();
  const raw = readTopology(sys, proc);
  assert.equal(raw.numaBalancing, 0);
  assert.equal(raw.demotionEnabled, false);
  assert.deepEqual(raw.nodes.map((n) => n.id), [0, 1]);
  const [n0, n1] = raw.nodes;
  assert.deepEqual([n0!.hasCpu, n0!.cpus, n1!.hasCpu, n1!.cpus], [true, [0, 1], false, []]);
  assert.deepEqual(n1!.distance, { 0: 20, 1: 10, 2: 30 });
  assert.equal(n0!.memTotalBytes, 1024 * 2 ** 20);
  // zoneinfo's free pages, not MemFree, and not the per-cpu lists
  assert.equal(n0!.memFreeBytes, 1000 * 4096);
  // kept back: min (0 here) plus one per-cpu refill is above its high of 300, and above its 1000 free pages
  assert.equal(n0!.reservedBytes, 1000 * 4096);
  assert.deepEqual([n0!.memoryTier, n1!.memoryTier], [4, 54]);
  assert.deepEqual(n1!.hmat, { readLatencyNs: 300, readBandwidthMBps: 5120 });
  assert.deepEqual(n1!.hugePages, [{ sizeBytes: 2 * 2 ** 20, total: 4, free: 3 }]);
  const t = classify(raw);
  assert.deepEqual(t.tiers, [[0], [1]]);
  assert.deepEqual(t.nodes.map((n) => n.evidence), ['kernel memory_tier4', 'kernel memory_tier54']);
  assert.deepEqual(t.conflicts, []);
});
