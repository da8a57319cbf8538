import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { trackable, trackableRanges } from '../../src/targets/maps.js';
import { parseMaps, parseMapsLine } from '../../src/kernel/proc-text.js';

test('maps: tricky lines', () => {
  const heap = parseMapsLine('55d4c8a3f000-55d4c8a60000 rw-p 00000000 00:00 0                          [heap]')!;
  assert.equal(heap.path, '[heap]');
  assert.equal(heap.start, 0x55d4c8a3f000);
  assert.ok(trackable(heap));
  const spaced = parseMapsLine('7f10c0000000-7f10c0021000 rw-p 00001000 fd:01 1234   /opt/my app/data file.bin (deleted)')!;
  assert.equal(spaced.path, '/opt/my app/data file.bin');
  assert.equal(spaced.deleted, true);
  assert.equal(spaced.offset, 0x1000);
  assert.ok(trackable(spaced), 'private writable file mapping is walked by the kernel');
  const text = parseMapsLine('7f10c1000000-7f10c1200000 r-xp 00000000 fd:01 99 /usr/lib/libc.so.6')!;
  assert.ok(!trackable(text));
  assert.ok(trackable(text, { includeFilePrivate: true }));
  const shared = parseMapsLine('7f10c2000000-7f10c4000000 rw-s 00000000 00:01 77 /dev/zero (deleted)')!;
  assert.ok(!trackable(shared));
  const named = parseMapsLine('7f10c5000000-7f10c5400000 rw-p 00000000 00:00 0    [anon:jemalloc pages]')!;
  assert.equal(named.path, '[anon:jemalloc pages]');
  assert.ok(trackable(named));
  for (const special of ['[vsyscall]', '[vvar]', '[vdso]']) {
    const v = parseMapsLine(`ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0    ${special}`)!;
    assert.ok(!trackable(v), special);
  }
  const stack = parseMapsLine('7ffc1a2b3000-7ffc1a2d4000 rw-p 00000000 00:00 0 [stack]')!;
  assert.ok(trackable(stack));
  assert.equal(parseMapsLine('garbage'), null);
  assert.equal(parseMapsLine('7f10c5000000-7f10c5'), null, 'a truncated line is skipped');
});

test('maps: the live /proc/self/maps parses completely', () => {
  const text = readFileSync('/proc/self/maps', 'utf8');
  const lines = text.trim().split('\n');
  const vmas = parseMaps(text);
  assert.equal(vmas.length, lines.length);
  for (let i = 1; i < vmas.length; i++) assert.ok(vmas[i]!.start >= vmas[i - 1]!.end, 'sorted and disjoint');
  assert.ok(vmas.some((v) => v.path === '[heap]' || v.path === '[stack]'));
  const r = trackableRanges(vmas);
  assert.ok(r.length >= 2 && r.length % 2 === 0);
  for (let i = 2; i < r.length; i += 2) assert.ok(r[i]! > r[i - 1]!, 'merged ranges are disjoint');
});
