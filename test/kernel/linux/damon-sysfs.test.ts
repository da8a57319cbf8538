import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busyRetrying, type SysfsIo } from '../../../src/kernel/linux/damon-sysfs.js';

function failing(codes: string[]): SysfsIo & { calls: number } {
  const io = {
    calls: 0,
    read(): string {
      io.calls++;
      const c = codes.shift();
      if (c !== undefined) throw Object.assign(new Error(c), { code: c });
      return 'on';
    },
    write(): void {
      io.read();
    },
    exists: () => true,
    list: () => [],
  };
  return io;
}

test('EBUSY is retried with a growing pause until the call succeeds', () => {
  const slept: number[] = [];
  const io = failing(['EBUSY', 'EBUSY', 'EBUSY', 'EBUSY']);
  assert.equal(busyRetrying(io, (ms) => slept.push(ms)).read('/x'), 'on');
  assert.equal(io.calls, 5);
  assert.deepEqual(slept, [1, 2, 4, 8]);
});

test('writes are retried on EBUSY as reads are', () => {
  const io = failing(['EBUSY']);
  busyRetrying(io, () => {}).write('/x', 'commit');
  assert.equal(io.calls, 2);
});

test('an EBUSY that lasts past two seconds of pauses reaches the caller', () => {
  let slept = 0;
  const io = failing(Array(1000).fill('EBUSY'));
  assert.throws(() => busyRetrying(io, (ms) => (slept += ms)).read('/x'), (e: Error & { code?: string }) => e.code === 'EBUSY');
  assert.ok(slept >= 2000 && slept < 2100, `waited ${slept} ms`);
});

test('any other error is the kernel\'s answer and is not retried', () => {
  const io = failing(['EINVAL']);
  assert.throws(() => busyRetrying(io, () => assert.fail('no pause')).read('/x'), (e: Error & { code?: string }) => e.code === 'EINVAL');
  assert.equal(io.calls, 1);
});

test('the real pause blocks for about the time asked', () => {
  const t0 = performance.now();
  busyRetrying(failing(['EBUSY', 'EBUSY'])).read('/x');
  assert.ok(performance.now() - t0 >= 2.5, 'slept 1 + 2 ms');
});
