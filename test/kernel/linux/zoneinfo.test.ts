import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseZoneinfoFree, parseZoneinfoReserved } from '../../../src/kernel/linux/sysfs-topology.js';

// the shape of /proc/zoneinfo (6.12), cut down: two zones of node 0, one of node 1
const ZONEINFO = `Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 100
  pages free     3840
        boost    0
        min      8
        low      11
        high     14
        spanned  4095
  pagesets
    cpu: 0
              count:    5
              high:     0
              batch:    1
    cpu: 1
              count:    0
              high:     0
              batch:    1
Node 0, zone    DMA32
  pages free     1000
        min      1000
        low      1250
        high     1500
  pagesets
    cpu: 0
              count:    2000
              high:     6000
              batch:    63
    cpu: 1
              count:    3000
              high:     6000
              batch:    63
Node 1, zone   Normal
  pages free     50000
        high     700
  pagesets
    cpu: 0
              count:    7
              high:     100
`;

test("zoneinfo: free memory per node counts the zones' free pages and the per-cpu lists, not their limits", () => {
  const free = parseZoneinfoFree(ZONEINFO);
  assert.equal(free.get(0), (3840 + 5 + 1000 + 2000 + 3000) * 4096);
  assert.equal(free.get(1), (50000 + 7) * 4096);
  // the watermarks are the zone's own "high", not the pagesets' "high:"
  assert.deepEqual([...parseZoneinfoReserved(ZONEINFO)], [[0, (14 + 1500) * 4096], [1, 700 * 4096]]);
});

test("zoneinfo: this host's own file parses, and its free memory is at least MemFree", () => {
  const text = readFileSync('/proc/zoneinfo', 'utf8');
  const free = parseZoneinfoFree(text).get(0)!;
  assert.ok(free > 0);
  const memFree = Number(/MemFree:\s+(\d+) kB/.exec(readFileSync('/sys/devices/system/node/node0/meminfo', 'utf8'))![1]) * 1024;
  // read a moment apart: allow 64 MiB of churn either way
  assert.ok(Math.abs(free - memFree) < 64 * 2 ** 20 || free > memFree, `zoneinfo ${free} B, MemFree ${memFree} B`);
});

test('topology between full reads: free memory from one read of zoneinfo; a node gone from it is offline and forces a full read', async () => {
  const { LinuxKernel } = await import('../../../src/kernel/linux/linux-kernel.js');
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = mkdtempSync(join(tmpdir(), 'tierd-topo-'));
  const sys = join(root, 'sys');
  const proc = join(root, 'proc');
  const base = join(sys, 'devices/system/node');
  mkdirSync(proc, { recursive: true });
  for (const id of [0, 1]) {
    mkdirSync(join(base, `node${id}`), { recursive: true });
    writeFileSync(join(base, `node${id}/meminfo`), `Node ${id} MemTotal: 1048576 kB\nNode ${id} MemFree: 524288 kB\n`);
    writeFileSync(join(base, `node${id}/distance`), id === 0 ? '10 20' : '20 10');
  }
  writeFileSync(join(base, 'online'), '0-1');
  writeFileSync(join(base, 'possible'), '0-1');
  const zone = (free0: number, withNode1: boolean): string => `Node 0, zone Normal\n  pages free     ${free0}\n        high     10\n${withNode1 ? 'Node 1, zone Normal\n  pages free     1000\n        high     10\n' : ''}`;
  writeFileSync(join(proc, 'zoneinfo'), zone(2000, true));
  const k = new LinuxKernel({ procRoot: proc, sysRoot: sys });
  assert.deepEqual(k.topology().nodes.map((n) => [n.id, n.online, n.memFreeBytes]), [[0, true, 2000 * 4096], [1, true, 1000 * 4096]]);
  // free memory changes: zoneinfo alone says so (the meminfo files were not rewritten)
  writeFileSync(join(proc, 'zoneinfo'), zone(3000, true));
  assert.deepEqual(k.topology().nodes.map((n) => n.memFreeBytes), [3000 * 4096, 1000 * 4096]);
  // node 1 goes offline: gone from zoneinfo and from sysfs; the full read drops it
  writeFileSync(join(proc, 'zoneinfo'), zone(3000, false));
  writeFileSync(join(base, 'online'), '0');
  rmSync(join(base, 'node1/meminfo'));
  assert.deepEqual(k.topology().nodes.map((n) => [n.id, n.online]), [[0, true]]);
});
