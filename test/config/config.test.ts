import { test } from 'node:test';
import { stringify } from 'yaml';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, defaultConfig, effective, fillThreshold, displaceThreshold } from '../../src/config/load.js';
import { loadScenario } from '../../src/kernel/sim/scenario.js';
import { TierdError } from '../../src/util/errors.js';

const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));

test('the reference config and every example validate', () => {
  const files = ['tierd.yaml', 'demo.yaml', ...readdirSync(`${CONFIG_DIR}/examples`).map((f) => `examples/${f}`)];
  assert.ok(files.length >= 5);
  for (const f of files) assert.doesNotThrow(() => loadConfig(`${CONFIG_DIR}/${f}`), f);
  assert.doesNotThrow(() => loadScenario(`${CONFIG_DIR}/demo-scenario.yaml`));
  const ref = loadConfig(`${CONFIG_DIR}/tierd.yaml`);
  const def = defaultConfig();
  // the reference documents the defaults: apart from its example selector, it equals them
  assert.deepEqual({ ...ref, targets: def.targets }, def);
});

test('units and defaults', () => {
  const c = parseConfig('migrate: { promoteRate: 1GiB/s, periodCap: 512MiB }\nscan: { interval: 250ms }\npolicy: { headroom: "5%" }\n');
  assert.equal(c.migrate.promoteRate, 2 ** 30);
  assert.equal(c.migrate.periodCap, 512 * 2 ** 20);
  assert.equal(c.scan.interval, 250);
  assert.equal(c.policy.headroom, 0.05);
  assert.equal(c.scan.walks, 5);
  assert.equal(c.metrics.listen, '127.0.0.1:9477');
});

test('fill needs 3 walks with a per-page tracker and 1 with DAMON, unless set; never at or below the cold threshold', () => {
  const d = defaultConfig();
  assert.equal(fillThreshold(d, 'page'), 3);
  assert.equal(fillThreshold(d, 'region'), 1);
  const set = parseConfig('policy: { fillThreshold: 2 }\n');
  assert.equal(fillThreshold(set, 'page'), 2);
  assert.equal(fillThreshold(set, 'region'), 2);
  assert.equal(fillThreshold(parseConfig('policy: { fillThreshold: 0 }\n'), 'region'), 0);
  assert.equal(fillThreshold(parseConfig('policy: { coldThreshold: 1 }\n'), 'region'), 2);
  // displacing a confirmed-cold page needs a walk more than the default fill, whatever fill is set
  assert.equal(displaceThreshold(d, 'page'), 4);
  assert.equal(displaceThreshold(d, 'region'), 2);
  assert.equal(displaceThreshold(parseConfig('policy: { fillThreshold: 1 }\n'), 'page'), 4);
});

const BROKEN: [string, string][] = [
  ['scan:\n  walks: 40\n', 'f.yaml:2: scan.walks: Too big: expected number to be <=15, found 40'],
  ['scan:\n  walks: many\n', 'f.yaml:2: scan.walks: expected number, received string, found "many"'],
  ['scan:\n  intervall: 1s\n', 'f.yaml:2: scan: unknown key "intervall"'],
  ['migrate:\n  promoteRate: fast\n', 'f.yaml:2: migrate.promoteRate: expected a rate like "256MiB/s", found "fast"'],
  ['migrate:\n  periodCap: 12 apples\n', 'f.yaml:2: migrate.periodCap: expected a size like "256MiB", found "12 apples"'],
  ['scan:\n  interval: soon\n', 'f.yaml:2: scan.interval: expected "auto" or a duration like "500ms", found "soon"'],
  ['policy:\n  headroom: 150%\n', 'f.yaml:2: policy.headroom: expected a fraction like 0.02 or "2%", found "150%"'],
  ['targets:\n  comm: "(unclosed"\n', 'f.yaml:2: targets.comm: not a valid regular expression: Invalid regular expression: /(unclosed/: Unterminated group'],
  ['targets:\n  cgroup: system.slice\n', 'f.yaml:2: targets.cgroup: Invalid string: must start with "/"'],
  ['metrics:\n  listen: 9477\n', 'f.yaml:2: metrics.listen: expected string, received number, found 9477'],
  ['log:\n  level: loud\n', 'f.yaml:2: log.level: expected one of "trace"|"debug"|"info"|"warn"|"error"|"fatal"|"silent", found "loud"'],
  ['policy:\n  hotThreshold: 7\n', 'f.yaml:2: policy.hotThreshold: 7 is more than scan.walks (5)'],
  ['scan:\n  walks: 3\npolicy:\n  coldThreshold: 3\n', 'f.yaml:4: policy.coldThreshold: 3 must be below the hot threshold'],
  ['nodes:\n  map:\n    zero: { tier: 0 }\n', 'f.yaml:3: nodes.map.zero: node ids are numbers'],
  ['nodes: automatic\n', 'f.yaml:1: nodes: expected object, received string, found "automatic"'],
  ['scan: [1, 2\n', 'f.yaml:2: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  ['bogus: true\n', 'f.yaml:1: (top level): unknown key "bogus"'],
  ['migrate:\n  promoteRate: 0\n', 'f.yaml:2: migrate.promoteRate: must be at least 4KiB/s (one page a second): a rate of 0 would stall every move'],
  ['migrate:\n  demoteRate: 0MiB/s\n', 'f.yaml:2: migrate.demoteRate: must be at least 4KiB/s (one page a second): a rate of 0 would stall every move'],
  ['scan:\n  interval: 0s\n  intervalMin: 0s\n', 'f.yaml:2: scan.interval: must be at least 1ms: an interval of 0 would walk without pause and never let time pass'],
  ['scan:\n  intervalMin: 0s\n', 'f.yaml:2: scan.intervalMin: must be at least 1ms: an interval of 0 would walk without pause and never let time pass'],
  ['migrate:\n  promoteRate: 256MB/s\n', 'f.yaml:2: migrate.promoteRate: "MB" is ambiguous: write MiB for 2^20 bytes, or the exact number of bytes with B'],
  ['targets:\n  minRss: 1GB\n', 'f.yaml:2: targets.minRss: "GB" is ambiguous: write GiB for 2^30 bytes, or the exact number of bytes with B'],
  ['scan:\n  cpuBudget: -0.5\n', 'f.yaml:2: scan.cpuBudget: must be a share of one CPU from 0 (no bound) to 64, like 0.25 for a quarter of a core, found -0.5'],
  ['', 'f.yaml: the file is empty'],
  ['# only a comment\n\n', 'f.yaml: the file is empty'],
];

test('broken configs give one exact line naming file, line, key, expectation and what was found', () => {
  const got: [string, string][] = [];
  for (const [text, want] of BROKEN) {
    try {
      parseConfig(text, 'f.yaml');
      assert.fail(`accepted: ${text}`);
    } catch (e) {
      assert.ok(e instanceof TierdError, String(e));
      assert.equal(e.code, 'CONFIG');
      assert.equal(e.exitCode, 2);
      got.push([text, e.message]);
      assert.equal(e.message, want, text);
      assert.ok(!e.message.includes('\n'));
    }
  }
});

test('a missing config file says how to fix it', () => {
  assert.throws(() => loadConfig('/nonexistent/tierd.yaml'), (e: unknown) => e instanceof TierdError && /^cannot read config \/nonexistent\/tierd\.yaml: ENOENT \(create it/.test(e.line()));
});

test('check-config output is itself a config that reads back to the same settings', () => {
  const c = parseConfig('scan: { interval: 750ms, intervalMin: 0.05 }\ntargets: { minRss: 4097 }\nmigrate: { promoteRate: 64MiB/s }\n', 'f.yaml');
  const printed = stringify(effective(c));
  assert.match(printed, /interval: 750ms/);
  assert.match(printed, /intervalMin: 50ms/, 'a bare number (seconds) is printed with its unit');
  assert.match(printed, /minRss: 4097B/);
  assert.deepEqual(effective(parseConfig(printed, 'printed.yaml')), effective(c));
});
