import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseStat, isKernelThread } from '../../src/kernel/proc-text.js';

test('stat: comm with spaces and parentheses; kernel threads', () => {
  const s = parseStat('4242 (my (weird) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 4 0 987654 123456789 3000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0')!;
  assert.equal(s.pid, 4242);
  assert.equal(s.comm, 'my (weird) proc');
  assert.equal(s.starttime, 987654);
  assert.equal(s.rssPages, 3000);
  assert.ok(!isKernelThread(s));
  const live = parseStat(readFileSync('/proc/self/stat', 'utf8'))!;
  assert.equal(live.pid, process.pid);
  const kthread = parseStat(readFileSync('/proc/2/stat', 'utf8'));
  if (kthread) assert.ok(isKernelThread(kthread), 'pid 2 is kthreadd');
});
