import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli/main.js');
/** Each command's exact output on the simulated demo host and the reference config; UPDATE_GOLDEN=1 rewrites the files. */
const GOLDEN: [string, string[]][] = [
  ['topology.txt', ['topology', '--sim', 'config/demo-scenario.yaml']],
  ['plan.txt', ['plan', '--sim', 'config/demo-scenario.yaml', '--config', 'config/demo.yaml']],
  ['check-config.txt', ['check-config', 'config/tierd.yaml']],
];

for (const [file, args] of GOLDEN) {
  test(`tierd ${args[0]} prints what test/fixtures/golden/${file} holds`, () => {
    const out = execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const path = join(ROOT, 'test/fixtures/golden', file);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, out);
    assert.equal(out, readFileSync(path, 'utf8'));
  });
}
