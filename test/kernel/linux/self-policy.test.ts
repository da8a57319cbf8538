import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

test('placeSelf sets a preferred-node policy on the real kernel (numa_maps shows it) and migrate_pages accepts the masks', () => {
  // in a child: the policy is the calling thread's, and the test runner's must stay as it is
  const mod = new URL('../../../src/kernel/linux/self-policy.js', import.meta.url).href;
  const script = `import(${JSON.stringify(mod)}).then((m) => {
    const why = m.placeSelf([0], [0]);
    const maps = require('node:fs').readFileSync('/proc/self/numa_maps', 'utf8');
    console.log(JSON.stringify({ why, policy: /^\\S+ (prefer(?: \\(many\\))?:\\d+)/m.exec(maps)?.[1] ?? maps.split('\\n')[0] }));
  })`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { why: string | null; policy: string };
  assert.equal(out.why, null);
  assert.match(out.policy, /prefer( \(many\))?:0/);
});
