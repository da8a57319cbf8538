import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PCP_REFILL_MAX_PAGES, parseZoneinfo } from '../../../src/kernel/linux/sysfs-topology.js';
import { roomOn } from '../../../src/topology/topology.js';

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
        protection: (0, 991, 991, 991)
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
        protection: (0, 0, 0, 0)
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
        min      100
        high     5000
  pagesets
    cpu: 0
              count:    7
              high:     100
`;

test("zoneinfo: free memory is the zones' free pages, not the per-cpu lists; kept back is each zone's high watermark (at least min and one refill of its per-cpu lists, by its batch, the largest where none is printed) and lowmem reserve, at most its free pages; slack is high − min less a refill", () => {
  const z = parseZoneinfo(ZONEINFO);
  assert.equal(z.get(0)!.free, (3840 + 1000) * 4096);
  assert.equal(z.get(1)!.free, 50000 * 4096);
  // DMA: min 8 + its own refill (batch 1 << 5, above its high of 14) + protection 991 for
  // movable pages; DMA32 has less free than its floor: all of it (the zone's own "high", not the
  // pagesets' "high:")
  assert.equal(z.get(0)!.reserved, (8 + 32 + 991 + 1000) * 4096);
  assert.equal(z.get(1)!.reserved, 5000 * 4096);
  // node 0's gaps are smaller than one refill: no slack
  assert.equal(z.get(0)!.slack, 0);
  assert.equal(z.get(1)!.slack, (5000 - 100 - PCP_REFILL_MAX_PAGES) * 4096);
});

test('zoneinfo: room and slack taken entirely from the free pages, and a per-cpu refill after them, leave the zone above min', () => {
  for (const gap of [500, 3000, 10000]) {
    for (const free of [900, 1000, 1400, 1500, 3000, 20000]) {
      const text = `Node 0, zone Normal\n  pages free     ${free}\n        min      1000\n        high     ${1000 + gap}\n  pagesets\n    cpu: 0\n              count:    5000\n`;
      const z = parseZoneinfo(text).get(0)!;
      const room = roomOn({ memFreeBytes: z.free, memTotalBytes: 2 ** 20 * 4096, reservedBytes: z.reserved }, 0) + z.slack;
      if (room <= 0) continue;
      assert.ok(free - room / 4096 - PCP_REFILL_MAX_PAGES >= 1000, `free ${free}, gap ${gap}: room ${room / 4096} pages`);
    }
  }
});

test('zoneinfo: the node where the VM refused a promotion with ENOMEM has no room (9 MiB on the per-cpu lists do not count)', () => {
  // node 0 of test/vm/guest/room-probe.mjs at its first ENOMEM (6.12, 2026-11-30)
  const text = `Node 0, zone      DMA
  pages free     1054
        min      87
        low      108
        high     129
        protection: (0, 991, 991, 991)
  pagesets
    cpu: 0
              count:    87
              high:     0
              batch:    1
Node 0, zone    DMA32
  pages free     5418
        min      5812
        low      7265
        high     8718
        protection: (0, 0, 0, 0)
  pagesets
    cpu: 0
              count:    2246
`;
  const z = parseZoneinfo(text).get(0)!;
  assert.equal(roomOn({ memFreeBytes: z.free, memTotalBytes: 2 ** 30, reservedBytes: z.reserved }, 0), 0);
});

test("zoneinfo: this host's own file parses, and its free memory is the kernel's free-page count", () => {
  const text = readFileSync('/proc/zoneinfo', 'utf8');
  const free = parseZoneinfo(text).get(0)!.free;
  assert.ok(free > 0);
  // nr_free_pages, the counter zoneinfo's "pages free" lines split by zone (this host has one
  // node). Not MemFree, which can disagree: on a Firecracker guest with 6.18 seen here, MemFree
  // said 24 GB and nr_free_pages 5 GB, its Normal zone managing 590 Ki of 5.5 Mi present pages.
  const counted = Number(/^nr_free_pages (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8'))![1]) * 4096;
  // read a moment apart: allow 64 MiB of churn either way
  assert.ok(Math.abs(free - counted) < 64 * 2 ** 20, `zoneinfo ${free} B, nr_free_pages ${counted} B`);
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
