import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter, parseJournal, type JournalRecord } from '../../src/journal/journal.js';
import { runSim } from '../helpers/sim-run.js';
import { TierdError } from '../../src/util/errors.js';

/** the demo's host and workload, shortened: the hot set (10% of 3 GiB) moves from 20% to 60% at 60 s */
const SCENARIO = `
seed: 7
duration: 120s
nodes:
  - { id: 0, tier: dram, capacity: 1GiB }
  - { id: 1, tier: pmem, capacity: 8GiB }
processes:
  - name: kvstore
    memory:
      - { size: 3GiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.2, hotRate: 50, coldRate: 0.001 }
      - { at: 60s, pattern: hotset, hotFraction: 0.1, hotOffset: 0.6, hotRate: 50, coldRate: 0.001 }
`;
const CONFIG = '{ scan: { walks: 4, interval: 1s }, policy: { coldPeriods: 2 }, migrate: { promoteRate: 64MiB/s, demoteRate: 64MiB/s } }';

class Capturing extends JournalWriter {
  readonly written: JournalRecord[] = [];
  override append(r: JournalRecord): void {
    this.written.push(JSON.parse(JSON.stringify(r)) as JournalRecord);
    super.append(r);
  }
}

/** the bin with the highest access frequency, as a fraction of the target's memory */
const hottest = (r: JournalRecord): number => r.heat.indexOf(Math.max(...r.heat)) / r.heat.length;

test('journal: a simulated run is read back exactly, and the hot set\'s move shows at the right time and place', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tierd-journal-')), 'run.journal');
  const w = new Capturing(path, { tierd: 'journal', version: 1, bins: 32, walks: 4, started: 0 }, 1 << 26);
  await runSim(SCENARIO, CONFIG.replace('policy:', 'journal: { bins: 32 }, policy:'), { journal: w });
  w.close();
  const { header, records } = parseJournal(readFileSync(path, 'utf8'));
  assert.equal(header.bins, 32);
  assert.ok(records.length >= 10, `${records.length} records`);
  assert.deepEqual(records, w.written);
  const before = records.filter((r) => r.t > 20 && r.t < 60);
  const after = records.filter((r) => r.t > 80);
  assert.ok(before.length > 0 && after.length > 0);
  // the hot set spans 10% of the memory from 20% (then 60%) of it
  for (const r of before) assert.ok(Math.abs(hottest(r) - 0.25) <= 0.06, `at ${r.t} s the hottest bin is at ${hottest(r).toFixed(2)}`);
  for (const r of after) assert.ok(Math.abs(hottest(r) - 0.65) <= 0.06, `at ${r.t} s the hottest bin is at ${hottest(r).toFixed(2)}`);
  const last = records[records.length - 1]!;
  assert.ok(last.tiers[0]![Math.round(0.65 * 32)]! >= 90, 'the new hot set is on the fast tier at the end');
  assert.ok(last.tiers[1]![Math.round(0.65 * 32)]! <= 10, 'and not on the slow one');
  assert.ok(records.some((r) => r.promoted > 0) && records.every((r) => r.demoted === 0), 'what moved, per target');
  assert.ok(last.hit !== undefined && last.hit > 0.9, 'the simulated host\'s hit ratio is in the record');
});

test('journal: at its size cap the file becomes PATH.1 and a new one starts with the header', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tierd-journal-')), 'small.journal');
  const header = { tierd: 'journal', version: 1, bins: 8, walks: 4, started: 0 } as const;
  const w = new JournalWriter(path, header, 2000);
  const rec = (t: number): JournalRecord => ({ t, period: t, pid: 1, comm: 'x', ranges: [[0, 4096 * 8]], binBytes: 4096, heat: [1, 2, 3, 4, 5, 6, 7, 8], tiers: [[0, 0, 0, 0, 100, 100, 100, 100], [100, 100, 100, 100, 0, 0, 0, 0]], hotFast: 0, hotSlow: 0, promoted: 0, demoted: 0 });
  for (let t = 0; t < 20; t++) w.append(rec(t));
  w.close();
  assert.ok(existsSync(`${path}.1`));
  const now = parseJournal(readFileSync(path, 'utf8'));
  const old = parseJournal(readFileSync(`${path}.1`, 'utf8'));
  assert.deepEqual(now.header, header);
  assert.equal(old.records.length + now.records.length <= 20, true);
  assert.equal(now.records[now.records.length - 1]!.t, 19, 'the newest record is in PATH');
  assert.ok(readFileSync(`${path}.1`, 'utf8').length < 2000 + 400, 'a file ends at the first record past the cap');
});

test('journal: a file that is not a journal, or a cut line, is one error that names the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-journal-'));
  const bad = join(dir, 'bad.journal');
  writeFileSync(bad, '{"tierd":"journal","version":1,"bins":4,"walks":4,"started":0}\n{"t":1,"pid":1,"heat":[1,2,3,4],"fa');
  assert.throws(() => parseJournal(readFileSync(bad, 'utf8'), 'bad.journal'), (e: unknown) => e instanceof TierdError && /^bad\.journal:2: not JSON$/.test(e.message));
  assert.throws(() => parseJournal('{"hello":1}\n', 'x'), (e: unknown) => e instanceof TierdError && /x:1: not a tierd journal/.test(e.message));
  assert.throws(() => parseJournal('', 'x'), (e: unknown) => e instanceof TierdError && /empty file/.test(e.message));
});

test('journal: a file kept with other bins (or not a journal) is set aside as PATH.1, not mixed with', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tierd-journal-')), 'j.journal');
  const header = (bins: number): { tierd: 'journal'; version: 1; bins: number; walks: number; started: number } => ({ tierd: 'journal', version: 1, bins, walks: 4, started: 0 });
  const rec = (bins: number): JournalRecord => ({ t: 1, period: 1, pid: 1, comm: 'x', ranges: [[0, 4096 * bins]], binBytes: 4096, heat: new Array<number>(bins).fill(0), tiers: [new Array<number>(bins).fill(0)], hotFast: 0, hotSlow: 0, promoted: 0, demoted: 0 });
  let w = new JournalWriter(path, header(8), 1 << 20);
  w.append(rec(8));
  w.close();
  w = new JournalWriter(path, header(8), 1 << 20); // same bins: appended to
  w.append(rec(8));
  w.close();
  assert.equal(parseJournal(readFileSync(path, 'utf8')).records.length, 2);
  w = new JournalWriter(path, header(16), 1 << 20);
  w.append(rec(16));
  w.close();
  assert.equal(parseJournal(readFileSync(path, 'utf8')).header.bins, 16);
  assert.equal(parseJournal(readFileSync(path, 'utf8')).records.length, 1);
  assert.equal(parseJournal(readFileSync(`${path}.1`, 'utf8')).records.length, 2, 'the old journal is kept whole');
});
