import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, parseConfig } from '../../src/config/load.js';
import { makeTracker } from '../../src/trackers/select.js';
import { ScanFlag } from '../../src/formats/idle-pages/types.js';
import { TierdError } from '../../src/util/errors.js';
import type { Kernel, TrackerSupport } from '../../src/kernel/types.js';

/** A kernel that offers idle_pages and records the flags each walk opens the file with. */
function idlePagesKernel(skimUnsafe: string | null): { kernel: Kernel; opened: number[] } {
  const opened: number[] = [];
  const support: TrackerSupport = { idlePages: 'rfc', pageIdle: false, damon: false, missing: {}, skimUnsafe };
  const kernel = {
    trackers: () => support,
    idlePagesOpener: () => null,
    usableCpus: () => 4,
    openIdlePages: (_pid: number, flags: number) => {
      opened.push(flags);
      throw new TierdError('PROCESS_GONE', 'gone');
    },
  } as unknown as Kernel;
  return { kernel, opened };
}

async function openFlags(skimUnsafe: string | null, yaml: string | null): Promise<{ flags: number; source: string }> {
  const { kernel, opened } = idlePagesKernel(skimUnsafe);
  const config = yaml === null ? defaultConfig() : parseConfig(yaml);
  const tracker = makeTracker(kernel, config.scan);
  const r = await tracker.walk(1, Float64Array.of(0x10000, 0x20000), null);
  assert.equal(r.status, 'gone');
  return { flags: opened[0]!, source: tracker.source?.() ?? '' };
}

test('idle_pages skims idle PMDs by default, not when scan.skimIdle is false, and not where MGLRU clears PMD accessed bits', async () => {
  const byDefault = await openFlags(null, null);
  assert.equal(byDefault.flags & ScanFlag.SCAN_SKIM_IDLE, ScanFlag.SCAN_SKIM_IDLE);
  assert.match(byDefault.source, /skimmed/);
  const off = await openFlags(null, 'scan:\n  skimIdle: false\n');
  assert.equal(off.flags & ScanFlag.SCAN_SKIM_IDLE, 0);
  assert.match(off.source, /skimIdle: false/);
  const mglru = await openFlags('MGLRU clears PMD accessed bits (lru_gen enabled has 0x4, LRU_GEN_NONLEAF_YOUNG)', null);
  assert.equal(mglru.flags & ScanFlag.SCAN_SKIM_IDLE, 0);
  assert.match(mglru.source, /every PTE read: MGLRU .*lru_gen\/enabled/);
});

test('idle_pages reads in workers where the kernel can open files from a worker (auto: half the CPUs), on the main thread with workers: 0', () => {
  const support: TrackerSupport = { idlePages: 'rfc', pageIdle: false, damon: false, missing: {}, skimUnsafe: null };
  const kernel = {
    trackers: () => support,
    idlePagesOpener: () => ({ module: 'file:///nonexistent.js', name: 'open', args: [] }),
    usableCpus: () => 6,
  } as unknown as Kernel;
  const auto = makeTracker(kernel, defaultConfig().scan);
  assert.equal(auto.concurrency, 3);
  assert.match(auto.source?.() ?? '', /3 read workers/);
  auto.close?.();
  const inThread = makeTracker(kernel, parseConfig('scan:\n  workers: 0\n').scan);
  assert.equal(inThread.concurrency ?? 1, 1);
  assert.doesNotMatch(inThread.source?.() ?? '', /worker/);
});
