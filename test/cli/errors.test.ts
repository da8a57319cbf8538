// Every mistake a user can make on the command line is one line on stderr and a documented exit
// code (64 usage, 65 data, 66 no input, 2 config); 70 (internal error) is only for bugs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tierd-cli-'));
const empty = join(dir, 'empty.yaml');
writeFileSync(empty, '');
const truncated = join(dir, 'truncated.yaml');
writeFileSync(truncated, 'seed: 1\nduration:\n');

const damos = join(dir, 'damos.yaml');
writeFileSync(damos, 'migrate: { engine: damos }\n');
const damosJournal = join(dir, 'damos-journal.yaml');
writeFileSync(damosJournal, `migrate: { engine: damos }\njournal: { path: ${join(dir, 'j')} }\n`);

const SIM = ['--sim', 'config/demo-scenario.yaml'];
const CASES: [string[], number, RegExp][] = [
  [['run', ...SIM, '--metrics-listen', '127.0.0.1:99999'], 64, /--metrics-listen: the port must be 0\.\.65535/],
  [['run', ...SIM, '--log-level', 'loud'], 64, /Invalid values|Choices/],
  [['simulate', 'config/demo-scenario.yaml', '--log-level', 'loud'], 64, /Invalid values|Choices/],
  [['run', ...SIM, '--pace', '0'], 64, /--pace: 0 is not a positive number/],
  [['run', ...SIM, '--pace', '-3'], 64, /--pace: -3/],
  [['run', ...SIM, '--periods', '-1'], 64, /--periods: -1/],
  [['run', ...SIM, '--periods', '2.5'], 64, /--periods: 2\.5/],
  [['run', ...SIM, '--config', empty], 2, /empty\.yaml: the file is empty/],
  [['plan', ...SIM, '--pid', '999999'], 64, /--pid: no process 999999/],
  [['plan', ...SIM, '--pid', 'abc'], 64, /--pid: NaN is not a process id/],
  [['plan', ...SIM, '--pid', '-1'], 64, /--pid: -1 is not a process id/],
  [['plan', ...SIM, '--walks', '1'], 64, /--walks: Too small: expected number to be >=2/],
  [['plan', ...SIM, '--walks', '99'], 64, /--walks: Too big: expected number to be <=15/],
  [['plan', ...SIM, '--interval', '0'], 64, /--interval: must be at least 1ms/],
  [['plan', ...SIM, '--interval', 'soon'], 64, /--interval: expected "auto" or a duration/],
  [['decode', empty], 65, /is empty: no idle_pages records/],
  [['simulate', truncated], 2, /truncated\.yaml:2: duration: expected a duration like "500ms", found nothing/],
  [['check-config', '/nonexistent.yaml'], 2, /cannot read config \/nonexistent\.yaml: ENOENT/],
  [['run', ...SIM, '--config', damos], 4, /migrate\.engine damos: this host has no DAMON sysfs \(use a kernel with CONFIG_DAMON_SYSFS/],
  [['run', ...SIM, '--config', damosJournal], 2, /journal\.path: migrate\.engine damos keeps no journal/],
  [['frobnicate'], 64, /Unknown argument|Unknown command|name a command/],
];

test('bad flags and inputs: one line on stderr and the documented exit code, never an internal error', () => {
  for (const [args, code, re] of CASES) {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, re, args.join(' '));
    assert.equal(r.status, code, `${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  }
});

test('plan --log-level is accepted', () => {
  const r = spawnSync(process.execPath, [CLI, 'plan', ...SIM, '--walks', '2', '--interval', '100ms', '--log-level', 'warn'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
});
