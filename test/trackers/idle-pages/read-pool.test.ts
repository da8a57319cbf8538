import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateSpace } from '../../../src/heat/states.js';
import { HeatTable } from '../../../src/heat/heat-table.js';
import { IdlePagesPool } from '../../../src/trackers/idle-pages/read-pool.js';
import { IdlePagesReader } from '../../../src/trackers/idle-pages/reader.js';
import { DecodeError } from '../../../src/formats/idle-pages/decode.js';
import { openScripted, type ReadScript } from '../../helpers/scripted-opener.js';
import type { WalkResult } from '../../../src/trackers/tracker.js';

const OPENER_MODULE = new URL('../../helpers/scripted-opener.js', import.meta.url).href;
const TRACES = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../test/fixtures/idle-pages-trace.json', import.meta.url)), 'utf8')) as Record<string, { ranges: [string, string][]; reads: Record<string, string> }>;
/** the buffer size each recorded trace was made with (test/heat's reader tests) */
const BUFFER: Record<string, number> = { vector1: 1 << 20, eptBeyond: 4096, continuation: 20, vanished: 20, stall: 4096 };

function pool(script: ReadScript, workers: number, bufferBytes = 4096): IdlePagesPool {
  return new IdlePagesPool({ module: OPENER_MODULE, name: 'openScripted', args: [JSON.stringify(script)] }, { workers, bufferBytes, flags: 0, variant: 'mod' });
}

function heatTable(): HeatTable {
  return new HeatTable(new StateSpace({ walks: 3, coldPeriods: 2, tiers: 2 }));
}

/** every tracked page as "address:state" */
function snapshot(heat: HeatTable): string[] {
  return heat.segments.flatMap((s) => Array.from(s.states.subarray(0, s.length), (st, i) => `${s.start + i * s.pageSize}:${st}`));
}

const ranges = (name: string): Float64Array => Float64Array.from(TRACES[name]!.ranges.flat().map((h) => parseInt(h, 16)));

test('read pool: the same heat and counts as the in-thread reader on every recorded trace', async () => {
  for (const name of Object.keys(BUFFER)) {
    const script: ReadScript = { reads: TRACES[name]!.reads };
    const inThread = heatTable();
    const kernel = { openIdlePages: (pid: number) => openScripted(JSON.stringify(script), pid) };
    const want = await new IdlePagesReader(kernel, { bufferBytes: BUFFER[name]!, flags: 0, variant: 'mod' }).walk(1, ranges(name), inThread);
    const p = pool(script, 1, BUFFER[name]);
    try {
      const viaPool = heatTable();
      const got: WalkResult = await p.walk(1, ranges(name), viaPool);
      assert.deepEqual(snapshot(viaPool), snapshot(inThread), name);
      assert.equal(got.status, want.status, name);
      if (want.status === 'ok') assert.deepEqual({ reads: got.reads, bytes: got.bytes, stalls: got.stalls }, { reads: want.reads, bytes: want.bytes, stalls: want.stalls }, name);
    } finally {
      p.close();
    }
  }
});

test('read pool: a gone process is a gone walk, and a broken stream rejects its walk with the decode error while the worker goes on', async () => {
  const p = pool({ reads: { '10000000': 'A0 00 00 00 00 10 00 00 00 03 FF', '20000000': 'A0 00 00 00 00 20 00 00 00 02' } }, 1);
  try {
    assert.equal((await p.walk(0, Float64Array.of(0x10000000, 0x10100000), heatTable())).status, 'gone');
    await assert.rejects(p.walk(1, Float64Array.of(0x10000000, 0x10100000), heatTable()), DecodeError);
    const heat = heatTable();
    const r = await p.walk(1, Float64Array.of(0x20000000, 0x20100000), heat);
    assert.equal(r.status, 'ok');
    assert.equal(heat.trackedPages(), 2, 'the next walk on the same worker counts');
  } finally {
    p.close();
  }
});

test('read pool: the event loop runs while a worker is blocked in a read', async () => {
  const p = pool({ reads: { '10000000': 'A0 00 00 00 00 10 00 00 00 05' }, blockMs: 400 }, 1);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await p.walk(1, Float64Array.of(0x10000000, 0x10100000), heatTable());
  } finally {
    clearInterval(timer);
    p.close();
  }
  assert.ok(ticks >= 5, `${ticks} timer ticks during a 400 ms read`);
});

test('read pool: targets are spread over the workers and read at the same time (each read waits for both files to be open)', async () => {
  const walkBoth = async (workers: number): Promise<string[]> => {
    const dir = mkdtempSync(join(tmpdir(), 'tierd-pool-'));
    const p = pool({ reads: { '10000000': 'A0 00 00 00 00 10 00 00 00 01' }, rendezvous: { dir, count: 2, waitMs: 1500 } }, workers);
    try {
      const rs = await Promise.allSettled([1, 2].map((pid) => p.walk(pid, Float64Array.of(0x10000000, 0x10100000), heatTable())));
      return rs.map((r) => (r.status === 'fulfilled' ? r.value.status : String((r.reason as Error).message)));
    } finally {
      p.close();
    }
  };
  assert.deepEqual(await walkBoth(2), ['ok', 'ok']);
  const one = await walkBoth(1);
  assert.match(one[0]!, /only 1 of 2 files open/, 'one worker reads one target at a time');
});

test('read pool: a worker that dies fails its walk, and the next walk gets a new worker', async () => {
  const p = pool({ reads: { '10000000': 'A0 00 00 00 00 10 00 00 00 01' }, exitOnReadOf: 7 }, 1);
  try {
    await assert.rejects(p.walk(7, Float64Array.of(0x10000000, 0x10100000), heatTable()), /read worker: exited with code 3/);
    assert.equal((await p.walk(1, Float64Array.of(0x10000000, 0x10100000), heatTable())).status, 'ok');
  } finally {
    p.close();
  }
});
