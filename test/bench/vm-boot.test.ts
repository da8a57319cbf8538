import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diedBeforeSuite } from '../../bench/vm-boot.js';

// the console of a boot lost on 2026-12-03 (trimmed): an emulator fault before any guest suite ran
const EARLY_OOPS = `[    0.824577] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
[    0.827992] Kernel panic - not syncing: Fatal exception in interrupt
VM trimmed: no verdict (qemu rc 0); console: /tmp/tierd-vm.GW3iCg/console-trimmed.log
[vm 11s] trimmed: verdict rc=5`;

test('a kernel that died before the suite started is retried', () => {
  assert.equal(diedBeforeSuite(EARLY_OOPS, '[compare]'), true);
});

test('a failure after the suite started is the contender\'s to show, not retried', () => {
  const late = `[    3.1] systemd[1]: started\n[compare] workload shift: 1024 MiB\n${EARLY_OOPS}`;
  assert.equal(diedBeforeSuite(late, '[compare]'), false);
});

test('a boot that ended without a result but without an oops is not retried', () => {
  assert.equal(diedBeforeSuite('VM trimmed: no verdict (qemu rc 1)\n[vm 11s] trimmed: verdict rc=5', '[compare]'), false);
});
