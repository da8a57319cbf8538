import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preadFully, readBitmapWords, writeBitmapWords } from '../../../src/kernel/linux/files.js';
import { kernelBitmap } from '../../helpers/kernel-bitmap.js';

test('page_idle bitmap I/O: a span larger than one page is read and written whole (sysfs answers a page per call)', () => {
  const file = new Uint8Array(64 * 1024).map((_, i) => i % 251);
  const calls: number[] = [];
  // a sysfs binary attribute: at most 4096 bytes per read or write
  const read = (b: Uint8Array, o: number, l: number, p: number): number => {
    const n = Math.max(0, Math.min(l, 4096, file.length - p));
    b.set(file.subarray(p, p + n), o);
    calls.push(n);
    return n;
  };
  const buf = new Uint8Array(20000);
  assert.equal(preadFully(read, buf, 8192), 20000);
  assert.deepEqual(buf, file.subarray(8192, 28192), 'every byte of the span, not only the first page');
  assert.deepEqual(calls, [4096, 4096, 4096, 4096, 3616]);
  assert.equal(preadFully(read, new Uint8Array(4096), file.length - 100), 100, 'stops at the end');
  const written = new Uint8Array(file.length);
  const write = (b: Uint8Array, o: number, l: number, p: number): number => {
    const n = Math.min(l, 4096);
    written.set(b.subarray(o, o + n), p);
    return n;
  };
  writeBitmapWords(write, file.subarray(0, 10000), 0);
  assert.deepEqual(written.subarray(0, 10000), file.subarray(0, 10000));
});

test('page_idle bitmap at the top of physical memory: the last partial word is written without an error, unread words are reported short', () => {
  const maxPfn = 64 * 10 + 24; // ten whole words, then 24 frames of an eleventh
  const idle = new Set<number>();
  const k = kernelBitmap(maxPfn, idle);
  const all = new Uint8Array(12 * 8).fill(0xff);
  writeBitmapWords(k.write, all, 0); // the real kernel answered 0 for word 10: "no progress" was EIO before
  assert.equal(idle.size, maxPfn, 'every frame below max_pfn marked, the partial word included');
  writeBitmapWords(k.write, all.subarray(0, 16), 10 * 8);
  writeBitmapWords(k.write, all.subarray(0, 8), 11 * 8); // past max_pfn: ENXIO, nothing to do
  const out = new Uint8Array(12 * 8);
  assert.equal(readBitmapWords(k.read, out, 0), 10, 'the partial word never reaches user space');
  assert.equal(readBitmapWords(k.read, out, 11 * 8), 0, 'past max_pfn: no words');
});
