import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seriesOf } from '../../src/report/series.js';
import { renderSvg } from '../../src/report/svg.js';
import { renderText } from '../../src/report/text.js';
import type { JournalRecord } from '../../src/journal/journal.js';
import { decodePng } from '../helpers/png.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BINS = 16;

/** a journal of 30 periods: a hot band that moves from bins 3–5 to bins 10–12 at period 15 */
function records(): JournalRecord[] {
  return Array.from({ length: 30 }, (_, p) => {
    const hot = (b: number): boolean => (p < 15 ? b >= 3 && b <= 5 : b >= 10 && b <= 12);
    return {
      t: 5 * p, period: p, pid: 42, comm: 'kvstore', ranges: [[0x7f0000000000, 0x7f0000000000 + BINS * 2 ** 24]], binBytes: 2 ** 24,
      heat: Array.from({ length: BINS }, (_, b) => (hot(b) ? 100 : 5)),
      tiers: [0, 1].map((k) => Array.from({ length: BINS }, (_, b) => ((hot(b) && p % 15 > 2) === (k === 0) ? 100 : 0))),
      hotFast: p % 15 > 2 ? 3 * 2 ** 24 : 0, hotSlow: p % 15 > 2 ? 0 : 3 * 2 ** 24, promoted: p % 15 === 2 ? 3 * 2 ** 24 : 0, demoted: 0, hit: p % 15 > 2 ? 0.95 : 0.1,
    };
  });
}

/** Tags balance and attributes are quoted: enough of XML's well-formedness for our writer's output. */
function wellFormed(xml: string): boolean {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(xml); m !== null; m = tag.exec(xml)) {
    if (/[<>]/.test(xml.slice(at, m.index))) return false; // a stray bracket between tags
    at = m.index + m[0].length;
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else if (m[4] !== '/') stack.push(m[2]!);
  }
  return stack.length === 0 && !/[<>]/.test(xml.slice(at));
}

test('report: the SVG is well-formed and each grid has one cell per bin and column', () => {
  const svg = renderSvg(seriesOf(records(), BINS, undefined, 240));
  assert.ok(wellFormed(svg), 'well-formed');
  assert.equal(svg.match(/class="cell heat"/g)?.length, BINS * 30);
  assert.equal(svg.match(/class="cell fast"/g)?.length, BINS * 30);
  assert.match(svg, /0x7f0000000000/, 'addresses in hex on the axis');
  // a longer journal is merged into at most the column limit
  assert.equal(renderSvg(seriesOf(records(), BINS, undefined, 10)).match(/class="cell heat"/g)?.length, BINS * 10);
});

test('report: the text form shows the band move as rows of characters', () => {
  const lines = renderText(seriesOf(records(), BINS, undefined, 240), BINS).split('\n');
  const heatRows = lines.slice(2, 2 + BINS);
  assert.equal(heatRows[4]!.slice(-30), '@'.repeat(15) + ' '.repeat(15), 'bin 4: hot, then not');
  assert.equal(heatRows[11]!.slice(-30), ' '.repeat(15) + '@'.repeat(15), 'bin 11: not, then hot');
});

test('report: bad input is one line and exit 64', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-report-'));
  const j = join(dir, 'x.journal');
  writeFileSync(j, ['{"tierd":"journal","version":1,"bins":16,"walks":4,"started":0}', ...records().map((r) => JSON.stringify(r))].join('\n') + '\n');
  for (const [args, msg] of [
    [[join(dir, 'missing.journal')], /missing\.journal: cannot read: ENOENT/],
    [[j, '--pid', '7'], /--pid 7: not in the journal \(pids in it: 42\)/],
    [[j, '--pid', 'abc'], /--pid: NaN is not a process id/],
    [[j, '--format', 'png'], /Invalid values/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'report', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 64, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, msg);
  }
  const ok = spawnSync(process.execPath, [CLI, 'report', j, '--out', join(dir, 'x.svg')], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(wellFormed(readFileSync(join(dir, 'x.svg'), 'utf8')));
});

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

test('report: a real browser renders the heatmap (headless Chromium screenshot, pixel statistics)', { skip: CHROMIUM === undefined ? 'Chromium is not installed: apt-get install chromium' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierd-report-'));
  const svg = join(dir, 'r.svg');
  writeFileSync(svg, renderSvg(seriesOf(records(), BINS, undefined, 240)));
  const png = join(dir, 'r.png');
  const r = spawnSync(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1000,790', `file://${svg}`], { encoding: 'utf8', timeout: 120_000 });
  assert.ok(existsSync(png), `no screenshot: ${r.stderr.slice(-500)}`);
  const { width, height, rgba } = decodePng(readFileSync(png));
  assert.equal(width, 1000);
  // the heatmap panel (x 110..940, y 50..350): dark cold cells and yellow hot ones, no blank
  const at = (x: number, y: number): number[] => Array.from(rgba.subarray(4 * (y * width + x), 4 * (y * width + x) + 3));
  let dark = 0;
  let yellow = 0;
  let white = 0;
  for (let y = 52; y < 348; y += 3) {
    for (let x = 112; x < 938; x += 3) {
      const [r0, g0, b0] = at(x, y) as [number, number, number];
      if (r0 > 230 && g0 > 230 && b0 > 230) white++;
      else if (r0 > 200 && g0 > 200 && b0 < 120) yellow++;
      else if (r0 < 100 && g0 < 60) dark++;
    }
  }
  const all = (Math.ceil((348 - 52) / 3) * Math.ceil((938 - 112) / 3));
  assert.ok(white / all < 0.02, `blank heatmap: ${white} of ${all} samples white`);
  assert.ok(yellow / all > 0.1 && yellow / all < 0.3, `hot cells (3 of 16 bins): ${(yellow / all).toFixed(3)}`);
  assert.ok(dark / all > 0.6, `cold cells: ${(dark / all).toFixed(3)}`);
  // the hot band moves: bin 4 is yellow on the left and dark on the right, bin 11 the reverse
  const rowY = (b: number): number => Math.round(50 + (b + 0.5) * (300 / BINS));
  assert.ok(at(200, rowY(4))[2]! < 120 && at(850, rowY(4))[0]! < 100, 'bin 4: hot, then cold');
  assert.ok(at(200, rowY(11))[0]! < 100 && at(850, rowY(11))[2]! < 120, 'bin 11: cold, then hot');
  assert.ok(height >= 700);
});
