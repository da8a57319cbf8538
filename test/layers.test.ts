import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** src/'s folders, lowest first: a folder imports only from folders before it (docs/architecture.md) */
const LAYERS = ['util', 'formats', 'kernel', 'topology', 'heat', 'config', 'targets', 'trackers', 'planner', 'mover', 'journal', 'metrics', 'report', 'daemon', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

test('no import from a lower layer to a higher one, and every folder of src/ has a layer', () => {
  const upward: string[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split('/')[0]!;
    assert.ok(LAYERS.includes(from), `src/${from} is not in the layer list`);
    for (const m of readFileSync(file, 'utf8').matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)) {
      const to = relative(SRC, normalize(join(dirname(file), m[1]!))).split('/')[0]!;
      if (to !== from && LAYERS.indexOf(to) > LAYERS.indexOf(from)) upward.push(`${relative(SRC, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(upward, []);
});
