// A placed workload stays placed: once DRAM holds the hot pages and is filled with cold ones,
// the cold pages left below do not trade places with those above, and the daemon settles
// (longer pauses between periods, fewer walks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSim } from '../helpers/sim-run.js';

/** Three processes like the VM's `multi`: a hot set, and cold pages touched about once in three walks. */
const MULTI = `
seed: 3
duration: 2m
nodes:
  - { id: 0, tier: dram, capacity: 160MiB }
  - { id: 1, tier: pmem, capacity: 2GiB }
processes:
${[0.1, 0.5, 0.3].map((offset, i) => `  - name: w${i + 1}
    memory:
      - { size: 96MiB, pageSize: 4KiB, node: 1 }
    phases:
      - { at: 0s, pattern: hotset, hotFraction: 0.375, hotOffset: ${offset}, hotRate: 8, coldRate: 0.7 }`).join('\n')}
`;

test('equally cold pages do not trade places once DRAM is full: little goes back down, and the periods settle', async () => {
  const { summary: s } = await runSim(MULTI, 'targets: { minRss: 0 }\n');
  process.stdout.write(`# multi, cold pages touched every few walks: ${s.periods} periods in ${s.simulatedSeconds.toFixed(0)} s, promoted ${(s.promotedBytes / 2 ** 20).toFixed(1)} MiB, demoted ${(s.demotedBytes / 2 ** 20).toFixed(1)} MiB, efficiency ${s.efficiency.toFixed(3)}\n`);
  // before the populations were compared: 68 periods, 87 MiB demoted against 228 MiB promoted
  // (`tierd simulate` of the same scenario)
  assert.ok(s.demotedBytes <= 0.05 * s.promotedBytes, `demoted ${s.demotedBytes} of ${s.promotedBytes} promoted`);
  assert.ok(s.periods <= 40, `${s.periods} periods: no settled pauses`);
  assert.ok(s.efficiency >= 0.95, `efficiency ${s.efficiency}`);
  assert.equal(s.failedPages, 0);
});
